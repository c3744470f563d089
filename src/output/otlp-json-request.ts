import type { FirewallLogRecord } from '../mapping/record.js';
import { logRecordToOtlpJson } from './otlp-json.js';
import type { InstrumentationScopeInfo, ResourceAttributes } from './otlp-protobuf.js';

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

  /** The request body as UTF-8 bytes. */
  encode(records: readonly FirewallLogRecord[]): Uint8Array {
    return Buffer.from(this.encodeText(records), 'utf8');
  }
}
