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

/** True when `s` needs JSON escaping: a quote, backslash, control character or surrogate. */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/**
 * JSON string literal for `s`. Most values (addresses, names, the kernel line) need no escaping:
 * one charCodeAt scan and a concatenation beat a JSON.stringify call; anything else goes to
 * JSON.stringify (lone surrogates -> \uXXXX).
 */
export function jsonString(s: string): string {
  return needsEscape(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** Pre-built JSON pieces per attribute name: fewer, larger concatenations per record. */
interface KeyPieces {
  /** `{"key":"<name>","value":` */
  value: string;
  /** `{"key":"<name>","value":{"stringValue":"` */
  stringOpen: string;
  /** `{"key":"<name>","value":{"intValue":"` */
  intOpen: string;
}

// Names repeat on every record.
const keyPieces = new Map<string, KeyPieces>();

function piecesFor(key: string): KeyPieces {
  let p = keyPieces.get(key);
  if (p === undefined) {
    const value = `{"key":${JSON.stringify(key)},"value":`;
    p = { value, stringOpen: `${value}{"stringValue":"`, intOpen: `${value}{"intValue":"` };
    // Bounded: attribute names come from the table, but a caller may add its own.
    if (keyPieces.size < 4096) keyPieces.set(key, p);
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
      return `{"stringValue":${jsonString(v)}}`;
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
      out += typeof e === 'number' ? numberValue(e) : `{"stringValue":${jsonString(String(e))}}`;
    }
    return out + ']}}';
  }
  return `{"stringValue":${jsonString(String(v))}}`;
}

/**
 * The JSON text of one OTLP/JSON LogRecord for `record`. A record without an event time gets
 * `timeUnixNano` = the observed time, as the SDK does; `severityText` is omitted when absent.
 */
export function logRecordToOtlpJson(record: FirewallLogRecord): string {
  let out = '{';
  out += `"timeUnixNano":"${hrTimeToNanosString(record.timestamp ?? record.observedTimestamp)}",`;
  out += `"observedTimeUnixNano":"${hrTimeToNanosString(record.observedTimestamp)}","severityNumber":${record.severityNumber | 0}`;
  if (record.severityText !== undefined) out += `,"severityText":${jsonString(record.severityText)}`;
  out += `,"body":{"stringValue":${jsonString(record.body)}},"attributes":[`;
  let first = true;
  const attrs = record.attributes;
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined || v === null) continue;
    if (!first) out += ',';
    first = false;
    const p = piecesFor(key);
    if (typeof v === 'string' && !needsEscape(v)) out += p.stringOpen + v + '"}}';
    else if (typeof v === 'number' && Number.isInteger(v)) out += p.intOpen + v + '"}}';
    else out += p.value + anyValue(v) + '}';
  }
  return out + ']}';
}
