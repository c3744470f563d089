/**
 * Reading OTLP/JSON as the Collector's `file` exporter writes it, for the e2e suites.
 */
import net from 'node:net';

/** An OTLP/JSON AnyValue (only the fields that appear in logs). */
export interface OtlpJsonValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpJsonValue[] };
  kvlistValue?: { values?: OtlpJsonKeyValue[] };
  bytesValue?: string;
}

export interface OtlpJsonKeyValue {
  key: string;
  value: OtlpJsonValue;
}

export interface OtlpJsonLogRecord {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: OtlpJsonValue;
  attributes?: OtlpJsonKeyValue[];
}

/** One log record with the resource and scope it came under. */
export interface FlatLogRecord {
  resource: { attributes?: OtlpJsonKeyValue[] };
  scope: { name?: string; version?: string; attributes?: OtlpJsonKeyValue[] };
  record: OtlpJsonLogRecord;
}

/** Flatten ExportLogsServiceRequest lines into records with their resource and scope. */
export function flattenLogRecords(requests: Array<Record<string, unknown>>): FlatLogRecord[] {
  const out: FlatLogRecord[] = [];
  for (const req of requests) {
    for (const rl of (req.resourceLogs ?? []) as Array<Record<string, unknown>>) {
      const resource = (rl.resource ?? {}) as FlatLogRecord['resource'];
      for (const sl of (rl.scopeLogs ?? []) as Array<Record<string, unknown>>) {
        const scope = (sl.scope ?? {}) as FlatLogRecord['scope'];
        for (const record of (sl.logRecords ?? []) as OtlpJsonLogRecord[]) out.push({ resource, scope, record });
      }
    }
  }
  return out;
}

/** Attributes of a record or resource as a name -> value map. */
export function otlpAttributes(holder: { attributes?: OtlpJsonKeyValue[] }): Record<string, OtlpJsonValue> {
  const m: Record<string, OtlpJsonValue> = {};
  for (const kv of holder.attributes ?? []) m[kv.key] = kv.value;
  return m;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `d` as an RFC 3164 stamp in UTC (`Nov 26 14:20:01`, day space-padded). */
export function rfc3164Stamp(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * Send `frames` LF-framed over one TCP connection and close it; resolves with the
 * local (client) port, which the service reports as `network.peer.port`.
 */
export function sendTcpLinesFrom(port: number, frames: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      const local = s.localPort ?? 0;
      s.end(frames.map((f) => `${f}\n`).join(''), () => resolve(local));
    });
    s.once('error', reject);
  });
}
