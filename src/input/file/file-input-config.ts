import { DEFAULT_MAX_FRAME_SIZE } from '../../framing/framer.js';
import { InputConfigError } from '../input-config.js';
import { ListenUrlError } from '../listen-url.js';
import { durationMsOf, enumOf, intOf, objectOf, sizeOf, stringOf, type RawObject } from '../config-values.js';

/** Where to start in a file that has no checkpoint yet. */
export type FileStartAt = 'end' | 'beginning';

/**
 * A `file` input: tails log files written by a syslog daemon or ulogd2 (`/var/log/kern.log`,
 * `/var/log/messages`, `/var/log/syslog`, `/var/log/iptables.log`, ulogd's LOGEMU file).
 */
export interface FileInputConfig {
  /** Checkpoint file and metric label; default `file://` + the first path. */
  name: string;
  /** Absolute paths; `*`, `?` and `[...]` match within one path segment. At least one. */
  paths: string[];
  /**
   * Where to start in a file found at start-up that has no checkpoint: `end` (default, like
   * `tail -f`: history is not replayed) or `beginning`. Files that appear later (a rotation's
   * new file, a new match of a glob) are always read from their beginning.
   */
  startAt: FileStartAt;
  /** Longest line kept, bytes; a longer one is cut to this length and counted. Default 64 KiB. */
  maxFrameSize: number;
  /** Bytes read from a file at a time (one `read()`). Default 64 KiB. */
  readBufferSize: number;
  /**
   * How often every file is checked (growth, rotation, truncation) without an `fs.watch` event,
   * ms. Default 1000. Watch events, where the file system delivers them, react sooner.
   */
  pollIntervalMs: number;
  /**
   * After a file was renamed or deleted, keep reading it until it has been quiet this long, ms:
   * the writer may append until it reopens (logrotate's postrotate HUP). Default 5000. A partial
   * last line is then emitted as it is.
   */
  rotateWaitMs: number;
  /**
   * Bytes at the start of a file hashed into its fingerprint, which with device and inode is the
   * file's identity (inode numbers are reused). Default 1024.
   */
  fingerprintBytes: number;
  /** Most files read at once; further glob matches are logged and ignored. Default 1024. */
  maxFiles: number;
  /** Lines handed over and not yet acknowledged before reading pauses. Default 10000. */
  maxInFlight: number;
  /**
   * Checkpoint saves at most this often, ms; 0 (default) = after every acknowledged batch (the store
   * writes off the event loop, one write at a time, the newest value winning). A larger value saves
   * fsyncs on a slow disk; a SIGKILL then re-reads up to this long of acknowledged lines.
   */
  checkpointIntervalMs: number;
}

/** A duration key in ms within `[min, max]` (`durationMsOf` checks only the maximum). */
export function durationBetween(raw: RawObject, key: string, path: string, def: number, min: number, max: number): number {
  const ms = durationMsOf(raw, key, path, def, max);
  if (ms < min) throw new InputConfigError(`${path}.${key}`, `must be at least ${min} ms, got ${JSON.stringify(raw[key])}`);
  return ms;
}

/** Defaults of the optional keys. */
export const FILE_INPUT_DEFAULTS = {
  startAt: 'end' as FileStartAt,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  readBufferSize: 64 * 1024,
  pollIntervalMs: 1000,
  rotateWaitMs: 5000,
  fingerprintBytes: 1024,
  maxFiles: 1024,
  maxInFlight: 10_000,
  checkpointIntervalMs: 0,
} as const;

const KEYS = ['paths', 'name', 'startAt', 'maxFrameSize', 'readBufferSize', 'pollInterval', 'rotateWait', 'fingerprintBytes', 'maxFiles', 'maxInFlight', 'checkpointInterval'];

/** JSON-Schema fragment of `inputs[i].file` (embedded by the config schema). */
export const FILE_INPUT_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['paths'],
  properties: {
    paths: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 2 },
      description: 'Absolute paths of the files to tail; `*`, `?` and `[...]` match within one path segment (`/var/log/ulog/*.log`).',
    },
    name: { type: 'string', minLength: 1, description: 'Checkpoint and metric name. Default: file:// and the first path.' },
    startAt: { enum: ['end', 'beginning'], default: 'end', description: 'Where to start in a file found at start-up without a checkpoint. Files that appear later are read from their beginning.' },
    maxFrameSize: { $ref: '#/$defs/size', default: FILE_INPUT_DEFAULTS.maxFrameSize, description: 'Longest line (64 B .. 16 MiB); a longer one is cut to this length and counted (framing_errors{reason="oversize"}).' },
    readBufferSize: { $ref: '#/$defs/size', default: FILE_INPUT_DEFAULTS.readBufferSize, description: 'Bytes read from a file at a time.' },
    pollInterval: { $ref: '#/$defs/duration', default: FILE_INPUT_DEFAULTS.pollIntervalMs, description: 'How often files are checked for growth, rotation and truncation besides fs.watch events.' },
    rotateWait: { $ref: '#/$defs/duration', default: FILE_INPUT_DEFAULTS.rotateWaitMs, description: 'How long a renamed or deleted file is still read after its last growth (the writer reopens late).' },
    fingerprintBytes: { type: 'integer', minimum: 16, maximum: 65536, default: FILE_INPUT_DEFAULTS.fingerprintBytes, description: 'Leading bytes hashed into the file identity (with device and inode).' },
    maxFiles: { type: 'integer', minimum: 1, maximum: 100000, default: FILE_INPUT_DEFAULTS.maxFiles, description: 'Most files read at once.' },
    maxInFlight: { type: 'integer', minimum: 1, maximum: 10000000, default: FILE_INPUT_DEFAULTS.maxInFlight, description: 'Lines handed over and not yet acknowledged before reading pauses.' },
    checkpointInterval: { $ref: '#/$defs/duration', default: FILE_INPUT_DEFAULTS.checkpointIntervalMs, description: 'Checkpoint writes at most this often (0 = after every acknowledged batch); a SIGKILL re-reads at most this long of acknowledged lines.' },
  },
};

/**
 * Validate the object under `inputs[i].file` (or `fileUrlToConfig`'s output), fill in defaults
 * and return it typed. Throws `InputConfigError` naming `${path}.${key}`. Unknown keys are errors.
 */
export function validateFileInputConfig(raw: unknown, path = 'file'): FileInputConfig {
  const r = objectOf(raw, path, KEYS);
  const paths = r.paths;
  if (!Array.isArray(paths) || paths.length === 0) {
    throw new InputConfigError(`${path}.paths`, `must be a non-empty list of absolute paths, got ${JSON.stringify(paths)}`);
  }
  paths.forEach((p: unknown, i) => {
    const key = `${path}.paths[${i}]`;
    if (typeof p !== 'string' || !p.startsWith('/') || p.length < 2) {
      throw new InputConfigError(key, `must be an absolute path (wildcards allowed in its segments), got ${JSON.stringify(p)}`);
    }
    if (p.includes('**')) throw new InputConfigError(key, '"**" is not supported: a wildcard matches within one path segment');
    if (p.endsWith('/')) throw new InputConfigError(key, `must name files, not a directory: ${JSON.stringify(p)}`);
    if (p.includes('\0')) throw new InputConfigError(key, 'must not contain a NUL byte');
  });
  return {
    name: stringOf(r, 'name', path) ?? `file://${paths[0] as string}`,
    paths: [...(paths as string[])],
    startAt: enumOf(r, 'startAt', path, ['end', 'beginning'] as const, FILE_INPUT_DEFAULTS.startAt),
    maxFrameSize: sizeOf(r, 'maxFrameSize', path, FILE_INPUT_DEFAULTS.maxFrameSize, 64, 16 * 1024 * 1024),
    readBufferSize: sizeOf(r, 'readBufferSize', path, FILE_INPUT_DEFAULTS.readBufferSize, 512, 16 * 1024 * 1024),
    pollIntervalMs: durationBetween(r, 'pollInterval', path, FILE_INPUT_DEFAULTS.pollIntervalMs, 10, 3_600_000),
    rotateWaitMs: durationBetween(r, 'rotateWait', path, FILE_INPUT_DEFAULTS.rotateWaitMs, 0, 3_600_000),
    fingerprintBytes: intOf(r, 'fingerprintBytes', path, FILE_INPUT_DEFAULTS.fingerprintBytes, 16, 64 * 1024),
    maxFiles: intOf(r, 'maxFiles', path, FILE_INPUT_DEFAULTS.maxFiles, 1, 100_000),
    maxInFlight: intOf(r, 'maxInFlight', path, FILE_INPUT_DEFAULTS.maxInFlight, 1, 10_000_000),
    checkpointIntervalMs: durationBetween(r, 'checkpointInterval', path, FILE_INPUT_DEFAULTS.checkpointIntervalMs, 0, 60_000),
  };
}

/**
 * `file:///var/log/kern.log` (optionally `?startAt=beginning&rotateWait=2s`, any key but `paths`)
 * -> the raw object `validateFileInputConfig` takes. The path may hold wildcards
 * (`file:///var/log/ulog/*.log`). Throws `ListenUrlError` with the expected form.
 */
export function fileUrlToConfig(url: string): Record<string, unknown> {
  const m = /^file:\/\/(\/[^?#]*)(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) throw new ListenUrlError(`invalid input "${url}": expected file:///ABSOLUTE/PATH (three slashes; wildcards allowed)`);
  let filePath: string;
  try {
    filePath = decodeURIComponent(m[1]!);
  } catch {
    throw new ListenUrlError(`invalid input "${url}": bad %-escape in the path`);
  }
  const config: Record<string, unknown> = { paths: [filePath] };
  for (const [k, v] of new URLSearchParams(m[2] ?? '')) {
    if (k === 'paths') throw new ListenUrlError(`invalid input "${url}": "paths" comes from the URL's path, not its query`);
    config[k] = /^\d+$/.test(v) ? Number(v) : v;
  }
  return config;
}
