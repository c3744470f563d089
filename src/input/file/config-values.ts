/**
 * Typed reads of a raw config object for the file and journald inputs, each throwing
 * `InputConfigError` naming `${path}.${key}`. Ranges are checked here so every key says its
 * bounds in the message.
 */
import { parseDuration, parseSize } from '../../config/units.js';
import { InputConfigError } from '../input-config.js';

/** `raw` as an object whose keys are all in `known`. */
export function objectOf(raw: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) throw new InputConfigError(path, `must be an object, got ${JSON.stringify(raw)}`);
  for (const key of Object.keys(raw as object)) {
    if (!known.includes(key)) throw new InputConfigError(`${path}.${key}`, `unknown key (known: ${known.join(', ')})`);
  }
  return raw as Record<string, unknown>;
}

function range(v: unknown, key: string, path: string, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputConfigError(`${path}.${key}`, `must be ${what} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** An integer key within `[min, max]`. */
export function intOf(raw: Record<string, unknown>, key: string, path: string, def: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined) return def;
  return range(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v, key, path, min, max, 'an integer');
}

/** A duration key (ms, or `500ms`, `10s`, `5m`), in ms within `[min, max]`. */
export function durationOf(raw: Record<string, unknown>, key: string, path: string, def: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined) return def;
  let ms: number | undefined;
  try {
    ms = parseDuration(v as number | string);
  } catch {
    ms = undefined;
  }
  return range(ms ?? v, key, path, min, max, 'a duration (ms, or e.g. 500ms, 10s, 5m)');
}

/** A size key (bytes, or `64KiB`, `8MiB`), in bytes within `[min, max]`. */
export function sizeOf(raw: Record<string, unknown>, key: string, path: string, def: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined) return def;
  let bytes: number | undefined;
  try {
    bytes = parseSize(v as number | string);
  } catch {
    bytes = undefined;
  }
  return range(bytes ?? v, key, path, min, max, 'a size (bytes, or e.g. 64KiB, 8MiB)');
}

/** A non-empty string key, or undefined when absent. */
export function stringOf(raw: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new InputConfigError(`${path}.${key}`, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** One of `values`. */
export function enumOf<T extends string>(raw: Record<string, unknown>, key: string, path: string, values: readonly T[], def: T): T {
  const v = raw[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new InputConfigError(`${path}.${key}`, `must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** A boolean key (`true`/`false`, or those words as strings from a URL query). */
export function boolOf(raw: Record<string, unknown>, key: string, path: string, def: boolean): boolean {
  const v = raw[key];
  if (v === undefined) return def;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new InputConfigError(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
}

/** A list of non-empty strings (a single string is a list of one). */
export function stringListOf(raw: Record<string, unknown>, key: string, path: string): string[] {
  const v = raw[key];
  if (v === undefined) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw new InputConfigError(`${path}.${key}`, `must be a list of strings, got ${JSON.stringify(v)}`);
  return list.map((s: unknown, i) => {
    if (typeof s !== 'string' || s === '') throw new InputConfigError(`${path}.${key}[${i}]`, `must be a non-empty string, got ${JSON.stringify(s)}`);
    return s;
  });
}
