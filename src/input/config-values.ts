/**
 * Validation helpers for the configs of source inputs (`SourceInputKind.validate`): each reads
 * one key of a raw object, fills in the default and throws `InputConfigError` naming
 * `${path}.${key}` when the value is wrong.
 */
import { parseDuration, parseSize } from '../config/units.js';
import { InputConfigError } from './input-config.js';

/** A raw config object. */
export type RawObject = Record<string, unknown>;

/** `raw` as an object whose keys are all in `known`; else an error naming the first unknown key. */
export function objectOf(raw: unknown, path: string, known: readonly string[]): RawObject {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputConfigError(path, `must be an object, got ${JSON.stringify(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) throw new InputConfigError(`${path}.${key}`, `unknown key (known: ${known.join(', ')})`);
  }
  return raw as RawObject;
}

/** An integer in [min, max]; numeric strings (from a URL query) are accepted. */
export function intOf(raw: RawObject, key: string, path: string, def: number, min: number, max: number): number {
  let v = raw[key];
  if (v === undefined) return def;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputConfigError(`${path}.${key}`, `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw[key])}`);
  }
  return v;
}

/** true / false (also the strings `true` / `false`). */
export function boolOf(raw: RawObject, key: string, path: string, def: boolean): boolean {
  const v = raw[key];
  if (v === undefined) return def;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new InputConfigError(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
}

/** A non-empty string, or undefined when absent. */
export function stringOf(raw: RawObject, key: string, path: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new InputConfigError(`${path}.${key}`, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** One of `values`. */
export function enumOf<T extends string>(raw: RawObject, key: string, path: string, values: readonly T[], def: T): T {
  const v = raw[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new InputConfigError(`${path}.${key}`, `must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** A list of non-empty strings (a single string counts as a list of one). */
export function stringListOf(raw: RawObject, key: string, path: string): string[] | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x === '')) {
    throw new InputConfigError(`${path}.${key}`, `must be a list of non-empty strings, got ${JSON.stringify(v)}`);
  }
  return list as string[];
}

/** Milliseconds from a number (ms) or `500ms`, `10s`, `5m`, `1h`, at most `max`. */
export function durationMsOf(raw: RawObject, key: string, path: string, def: number, max = 2 ** 31 - 1): number {
  const v = raw[key];
  if (v === undefined) return def;
  const ms = parseDuration(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : (v as number | string));
  if (ms === undefined || ms > max) throw new InputConfigError(`${path}.${key}`, `must be a duration such as 500ms, 10s or 5m (at most ${max} ms), got ${JSON.stringify(v)}`);
  return ms;
}

/** Bytes from a number or `64KiB`, `8MiB`, in [min, max]. */
export function sizeOf(raw: RawObject, key: string, path: string, def: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined) return def;
  const n = parseSize(v as number | string);
  if (n === undefined || n < min || n > max) throw new InputConfigError(`${path}.${key}`, `must be a size from ${min} to ${max} bytes (e.g. 64KiB), got ${JSON.stringify(v)}`);
  return n;
}
