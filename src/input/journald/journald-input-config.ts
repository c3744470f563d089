import { InputConfigError } from '../input-config.js';
import { ListenUrlError } from '../listen-url.js';
import { enumOf, intOf, objectOf, sizeOf, stringListOf, stringOf } from '../config-values.js';
import { durationBetween } from '../file/file-input-config.js';

/** Where to start when there is no cursor checkpoint yet. */
export type JournalStartAt = 'end' | 'beginning';

/** The match used when the config gives neither `units` nor `matches`: the kernel's own messages. */
export const KERNEL_TRANSPORT_MATCH = '_TRANSPORT=kernel';

/**
 * A `journald` input: follows the journal through `journalctl --follow --output=export`,
 * by default its kernel transport, with the last acknowledged `__CURSOR` as the checkpoint.
 */
export interface JournaldInputConfig {
  /** Checkpoint file and metric label; default `journald://`. */
  name: string;
  /**
   * Journal field matches (`FIELD=value`), passed to journalctl: the same field repeated is OR,
   * different fields are AND. Default, when `units` is empty too: `_TRANSPORT=kernel`.
   */
  matches: string[];
  /** Systemd units whose messages to read (`journalctl --unit`); combined with `matches` as journalctl does. */
  units: string[];
  /** Journal directories to read instead of the system journal (`journalctl --directory`), like Elastic's `paths`. */
  directories: string[];
  /** Journal files to read (`journalctl --file`; wildcards as journalctl takes them). */
  files: string[];
  /** Without a cursor: `end` (default: only new entries) or `beginning` (everything the journal holds). */
  startAt: JournalStartAt;
  /** The journalctl binary. Default `journalctl` (found on PATH). */
  journalctl: string;
  /** Largest journal entry kept (all its fields), bytes; larger ones are counted and skipped. Default 256 KiB. */
  maxEntrySize: number;
  /** First delay before journalctl is started again after it exited or could not start, ms. Default 1000. */
  restartDelayMs: number;
  /** The delay doubles up to this, ms. Default 30000. */
  maxRestartDelayMs: number;
  /** Entries handed over and not yet acknowledged before journalctl's output is paused. Default 10000. */
  maxInFlight: number;
  /** Cursor checkpoint saves at most this often, ms; 0 (default) = after every acknowledged batch. */
  checkpointIntervalMs: number;
}

/** Defaults of the optional keys. */
export const JOURNALD_INPUT_DEFAULTS = {
  name: 'journald://',
  startAt: 'end' as JournalStartAt,
  journalctl: 'journalctl',
  maxEntrySize: 256 * 1024,
  restartDelayMs: 1000,
  maxRestartDelayMs: 30_000,
  maxInFlight: 10_000,
  checkpointIntervalMs: 0,
} as const;

const KEYS = ['name', 'matches', 'units', 'directory', 'file', 'startAt', 'journalctl', 'maxEntrySize', 'restartDelay', 'maxRestartDelay', 'maxInFlight', 'checkpointInterval'];

const stringList = (description: string): Record<string, unknown> => ({
  oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }],
  description,
});

/** JSON-Schema fragment of `inputs[i].journald` (embedded by the config schema). */
export const JOURNALD_INPUT_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, default: JOURNALD_INPUT_DEFAULTS.name, description: 'Checkpoint and metric name.' },
    matches: stringList('Journal matches FIELD=value (same field: OR, different fields: AND). Default with no units: _TRANSPORT=kernel.'),
    units: stringList('Systemd units to read (journalctl --unit).'),
    directory: stringList('Journal directories to read instead of the system journal (journalctl --directory).'),
    file: stringList('Journal files to read (journalctl --file).'),
    startAt: { enum: ['end', 'beginning'], default: 'end', description: 'Without a cursor checkpoint: only new entries (end) or all the journal holds (beginning).' },
    journalctl: { type: 'string', minLength: 1, default: 'journalctl', description: 'The journalctl binary.' },
    maxEntrySize: { $ref: '#/$defs/size', default: JOURNALD_INPUT_DEFAULTS.maxEntrySize, description: 'Largest journal entry kept; larger ones are counted and skipped.' },
    restartDelay: { $ref: '#/$defs/duration', default: JOURNALD_INPUT_DEFAULTS.restartDelayMs, description: 'First delay before journalctl is started again after it exited.' },
    maxRestartDelay: { $ref: '#/$defs/duration', default: JOURNALD_INPUT_DEFAULTS.maxRestartDelayMs, description: 'The restart delay doubles up to this.' },
    maxInFlight: { type: 'integer', minimum: 1, maximum: 10000000, default: JOURNALD_INPUT_DEFAULTS.maxInFlight, description: 'Entries handed over and not yet acknowledged before reading pauses.' },
    checkpointInterval: { $ref: '#/$defs/duration', default: JOURNALD_INPUT_DEFAULTS.checkpointIntervalMs, description: 'Cursor checkpoint writes at most this often (0 = after every acknowledged batch).' },
  },
};

const MATCH = /^[A-Z0-9_]+=/;

/**
 * Validate the object under `inputs[i].journald` (or `journaldUrlToConfig`'s output), fill in
 * defaults, return it typed. Throws `InputConfigError` naming `${path}.${key}`.
 */
export function validateJournaldInputConfig(raw: unknown, path = 'journald'): JournaldInputConfig {
  const r = objectOf(raw, path, KEYS);
  const matches = stringListOf(r, 'matches', path) ?? [];
  matches.forEach((m, i) => {
    if (!MATCH.test(m)) {
      throw new InputConfigError(`${path}.matches[${i}]`, `must be FIELD=value with an upper-case field name (e.g. _TRANSPORT=kernel), got ${JSON.stringify(m)}`);
    }
  });
  const units = stringListOf(r, 'units', path) ?? [];
  const directories = stringListOf(r, 'directory', path) ?? [];
  const files = stringListOf(r, 'file', path) ?? [];
  directories.forEach((d, i) => {
    if (!d.startsWith('/')) throw new InputConfigError(`${path}.directory[${i}]`, `must be an absolute path, got ${JSON.stringify(d)}`);
  });
  files.forEach((f, i) => {
    if (!f.startsWith('/')) throw new InputConfigError(`${path}.file[${i}]`, `must be an absolute path, got ${JSON.stringify(f)}`);
  });
  if (directories.length > 0 && files.length > 0) {
    throw new InputConfigError(`${path}.file`, 'cannot be combined with directory (journalctl takes one or the other)');
  }
  const restartDelayMs = durationBetween(r, 'restartDelay', path, JOURNALD_INPUT_DEFAULTS.restartDelayMs, 10, 3_600_000);
  const maxRestartDelayMs = durationBetween(r, 'maxRestartDelay', path, JOURNALD_INPUT_DEFAULTS.maxRestartDelayMs, 10, 3_600_000);
  if (maxRestartDelayMs < restartDelayMs) {
    throw new InputConfigError(`${path}.maxRestartDelay`, `must not be below restartDelay (${restartDelayMs} ms), got ${maxRestartDelayMs} ms`);
  }
  return {
    name: stringOf(r, 'name', path) ?? JOURNALD_INPUT_DEFAULTS.name,
    matches: matches.length === 0 && units.length === 0 ? [KERNEL_TRANSPORT_MATCH] : matches,
    units,
    directories,
    files,
    startAt: enumOf(r, 'startAt', path, ['end', 'beginning'] as const, JOURNALD_INPUT_DEFAULTS.startAt),
    journalctl: stringOf(r, 'journalctl', path) ?? JOURNALD_INPUT_DEFAULTS.journalctl,
    maxEntrySize: sizeOf(r, 'maxEntrySize', path, JOURNALD_INPUT_DEFAULTS.maxEntrySize, 1024, 64 * 1024 * 1024),
    restartDelayMs,
    maxRestartDelayMs,
    maxInFlight: intOf(r, 'maxInFlight', path, JOURNALD_INPUT_DEFAULTS.maxInFlight, 1, 10_000_000),
    checkpointIntervalMs: durationBetween(r, 'checkpointInterval', path, JOURNALD_INPUT_DEFAULTS.checkpointIntervalMs, 0, 60_000),
  };
}

/** Query keys that may repeat, and the config key each fills. */
const LIST_KEYS: Record<string, string> = { match: 'matches', matches: 'matches', unit: 'units', units: 'units', directory: 'directory', file: 'file' };

/**
 * `journald://` (optionally `?unit=ssh.service&match=_TRANSPORT=kernel&directory=/var/log/journal`,
 * list keys repeatable, any other key once) -> the raw object `validateJournaldInputConfig` takes.
 * Throws `ListenUrlError` showing the expected form.
 */
export function journaldUrlToConfig(url: string): Record<string, unknown> {
  const m = /^journald:\/\/\/?(?:\?(.*))?$/i.exec(url.trim());
  if (!m) throw new ListenUrlError(`invalid input "${url}": expected journald:// (optionally ?unit=NAME&match=FIELD=value&directory=/PATH&file=/PATH&startAt=beginning)`);
  const config: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(m[1] ?? '')) {
    const list = LIST_KEYS[k];
    if (list !== undefined) {
      const prev = (config[list] as string[] | undefined) ?? [];
      config[list] = [...prev, v];
    } else if (k in config) {
      throw new ListenUrlError(`invalid input "${url}": "${k}" given twice`);
    } else config[k] = /^\d+$/.test(v) ? Number(v) : v;
  }
  return config;
}
