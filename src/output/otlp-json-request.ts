import type { FirewallLogRecord } from '../mapping/record.js';
import { logRecordToOtlpJson } from './otlp-json.js';
import type { EncodedRequest, InstrumentationScopeInfo, ResourceAttributes } from './otlp-protobuf.js';

function anyValueJson(v: string | number | boolean): string {
  if (typeof v === 'string') return `{"stringValue":${JSON.stringify(v)}}`;
  if (typeof v === 'boolean') return `{"boolValue":${v}}`;
  return Number.isInteger(v) ? `{"intValue":"${v}"}` : `{"doubleValue":${JSON.stringify(v)}}`;
}

/**
 * Encodes batches of records as one OTLP/JSON `ExportLogsServiceRequest`: the
 * resource and scope envelope is built once, each record is the text from
 * `logRecordToOtlpJson`, joined with commas.
 */
export class OtlpJsonRequestEncoder {
  private readonly prefix: string;
  private readonly suffix = ']}]}]}';
  private buf: Buffer = Buffer.allocUnsafe(256 * 1024);
  private pos = 0;
  private readonly spare: Buffer[] = [];

  constructor(resource: ResourceAttributes, scope: InstrumentationScopeInfo) {
    const attrs = Object.entries(resource)
      .map(([k, v]) => `{"key":${JSON.stringify(k)},"value":${anyValueJson(v)}}`)
      .join(',');
    const scopeJson =
      `{"name":${JSON.stringify(scope.name)}` + (scope.version ? `,"version":${JSON.stringify(scope.version)}` : '') + '}';
    this.prefix = `{"resourceLogs":[{"resource":{"attributes":[${attrs}]},"scopeLogs":[{"scope":${scopeJson},"logRecords":[`;
  }

  /** The request body text for `records`. */
  encodeText(records: readonly FirewallLogRecord[]): string {
    let s = this.prefix;
    for (let i = 0; i < records.length; i++) {
      if (i > 0) s += ',';
      s += logRecordToOtlpJson(records[i] as FirewallLogRecord);
    }
    return s + this.suffix;
  }

  /**
   * The request body as UTF-8 bytes. Each record's text is written into one reused
   * buffer as it is produced, instead of building one big concatenated string first:
   * flattening and encoding a batch-sized string rope cost more than the records.
   */
  encode(records: readonly FirewallLogRecord[]): Uint8Array {
    this.write(records);
    return new Uint8Array(this.buf.subarray(0, this.pos));
  }

  /** The request body on loan (no copy): call `release()` once it has been sent. */
  encodeLeased(records: readonly FirewallLogRecord[]): EncodedRequest {
    this.write(records);
    const full = this.buf;
    const bytes = full.subarray(0, this.pos);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(full.length);
    this.pos = 0;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        if (this.spare.length < 4) this.spare.push(full);
      },
    };
  }

  private write(records: readonly FirewallLogRecord[]): void {
    this.pos = 0;
    this.put(this.prefix);
    for (let i = 0; i < records.length; i++) {
      if (i > 0) this.put(',');
      this.put(logRecordToOtlpJson(records[i] as FirewallLogRecord));
    }
    this.put(this.suffix);
  }

  private put(s: string): void {
    const max = s.length * 3;
    if (this.pos + max > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.pos + max) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}
