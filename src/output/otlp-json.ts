/**
 * One FirewallLogRecord -> the JSON text of one OTLP/JSON LogRecord (the protobuf JSON
 * mapping used by OTLP/HTTP JSON): 64-bit integers (`timeUnixNano`, `intValue`) as strings,
 * attributes as `[{key, value: {stringValue|intValue|doubleValue|boolValue|arrayValue}}]`.
 *
 * Type rule (shared with the protobuf encoder): a number is `intValue` when
 * Number.isInteger, else `doubleValue`; string[] -> arrayValue of stringValue; number[] ->
 * arrayValue of intValue (a non-integer element falls back to doubleValue).
 *
 * Built by string concatenation: JSON.stringify only escapes strings.
 */
import type { HrTime } from '@opentelemetry/api';
import type { AttributeValue, FirewallLogRecord } from '../mapping/record.js';

// `{"key":"<name>","value":` per attribute name; names repeat on every record.
const keyPrefixes = new Map<string, string>();

function keyPrefix(key: string): string {
  let p = keyPrefixes.get(key);
  if (p === undefined) {
    p = `{"key":${JSON.stringify(key)},"value":`;
    // Bounded: attribute names come from the table, but a caller may add its own.
    if (keyPrefixes.size < 4096) keyPrefixes.set(key, p);
  }
  return p;
}

/** Nanoseconds since the epoch as a decimal string (exceeds 2^53, so no number arithmetic). */
export function hrTimeToNanosString(t: HrTime): string {
  const sec = Math.trunc(t[0]);
  const nanos = Math.trunc(t[1]);
  if (sec <= 0) return String(Math.max(0, sec * 1e9 + nanos));
  const n = String(nanos);
  return String(sec) + '000000000'.slice(n.length) + n;
}

function doubleJson(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

function numberValue(v: number): string {
  return Number.isInteger(v) ? `{"intValue":"${v}"}` : `{"doubleValue":${doubleJson(v)}}`;
}

function anyValue(v: AttributeValue): string {
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${JSON.stringify(v)}}`;
    case 'number':
      return numberValue(v);
    case 'boolean':
      return v ? '{"boolValue":true}' : '{"boolValue":false}';
  }
  if (Array.isArray(v)) {
    let out = '{"arrayValue":{"values":[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      const e = v[i];
      out += typeof e === 'number' ? numberValue(e) : `{"stringValue":${JSON.stringify(String(e))}}`;
    }
    return out + ']}}';
  }
  return `{"stringValue":${JSON.stringify(String(v))}}`;
}

/**
 * The JSON text of one OTLP/JSON LogRecord for `record`. `timeUnixNano` is omitted when the
 * record has no timestamp; `severityText` when it has none.
 */
export function logRecordToOtlpJson(record: FirewallLogRecord): string {
  let out = '{';
  if (record.timestamp !== undefined) out += `"timeUnixNano":"${hrTimeToNanosString(record.timestamp)}",`;
  out += `"observedTimeUnixNano":"${hrTimeToNanosString(record.observedTimestamp)}","severityNumber":${record.severityNumber | 0}`;
  if (record.severityText !== undefined) out += `,"severityText":${JSON.stringify(record.severityText)}`;
  out += `,"body":{"stringValue":${JSON.stringify(record.body)}},"attributes":[`;
  let first = true;
  const attrs = record.attributes;
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined || v === null) continue;
    if (!first) out += ',';
    first = false;
    out += keyPrefix(key) + anyValue(v) + '}';
  }
  return out + ']}';
}
