import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { ConfigIssue } from '../pipeline-config.js';

/**
 * When the spool makes its writes durable (fdatasync):
 * - `interval`: every `fsyncIntervalMs` while there are new writes (the default: a crash or power
 *   loss loses at most that window of frames; SIGKILL loses nothing, the page cache survives it);
 * - `batch`: after every batch written (no window, at a cost in throughput measured in
 *   docs/performance.md);
 * - `never`: left to the kernel's writeback (SIGKILL still loses nothing; power loss up to ~30 s).
 */
export type SpoolFsyncPolicy = 'interval' | 'batch' | 'never';

/** `pipeline.spool`: the persistent frame spool between the inputs and the worker threads. */
export interface SpoolConfig {
  /** False keeps everything in memory (`pipeline.spool: off`): a crash loses what is queued. */
  enabled: boolean;
  /** Where the segment files live; created if missing. */
  directory: string;
  /** Senders are paused (UDP counted as `dropped{reason="spool_full"}`) once the spool holds this many bytes. */
  maxBytes: number;
  /** A new segment file is started once the current one reaches this size. */
  segmentBytes: number;
  fsync: SpoolFsyncPolicy;
  /** The `interval` policy's period (ms). */
  fsyncIntervalMs: number;
}

/** The spool's state directory when none is configured, for each way of running (see `defaultStateDirectory`). */
export const SPOOL_SUBDIRECTORY = 'spool';

/**
 * The service's state directory: systemd's `StateDirectory=` (`$STATE_DIRECTORY`, so
 * `/var/lib/iptables-otel` with the shipped unit), else `/var/lib/iptables-otel` for root (the
 * container image's volume), else the per-user state directory (`$XDG_STATE_HOME/iptables-otel`,
 * `~/.local/state/iptables-otel`).
 */
export function defaultStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/iptables-otel';
  const xdg = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(xdg, 'iptables-otel');
}

/** Defaults of `SpoolConfig`, apart from the directory (`defaultStateDirectory()` + `/spool`). */
export const DEFAULT_SPOOL_CONFIG: Readonly<Omit<SpoolConfig, 'directory'>> = Object.freeze({
  enabled: true,
  maxBytes: 1024 ** 3,
  segmentBytes: 16 * 1024 ** 2,
  fsync: 'interval',
  fsyncIntervalMs: 100,
});

/** Defaults overlaid with `partial` (undefined values keep the default). */
export function resolveSpoolConfig(partial: Partial<SpoolConfig> = {}, env: NodeJS.ProcessEnv = process.env): SpoolConfig {
  const out: SpoolConfig = { ...DEFAULT_SPOOL_CONFIG, directory: join(defaultStateDirectory(env), SPOOL_SUBDIRECTORY) };
  for (const k of Object.keys(partial) as Array<keyof SpoolConfig>) {
    const v = partial[k];
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

const FSYNC_POLICIES: readonly SpoolFsyncPolicy[] = ['interval', 'batch', 'never'];

/** Check a spool configuration; one issue per bad key, named with `prefix`. */
export function validateSpoolConfig(config: SpoolConfig, prefix = 'pipeline.spool'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const k = (name: string): string => (prefix ? `${prefix}.${name}` : name);
  if (!config.enabled) return issues;
  if (typeof config.directory !== 'string' || config.directory === '') issues.push({ key: k('directory'), message: 'must be a directory path' });
  const int = (key: string, v: unknown, min: number): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) issues.push({ key: k(key), message: `must be an integer >= ${min} (got ${JSON.stringify(v)})` });
  };
  int('segmentBytes', config.segmentBytes, 64 * 1024);
  int('maxBytes', config.maxBytes, 1024 * 1024);
  int('fsyncIntervalMs', config.fsyncIntervalMs, 1);
  if (!FSYNC_POLICIES.includes(config.fsync)) issues.push({ key: k('fsync'), message: `must be one of ${FSYNC_POLICIES.join(', ')} (got ${JSON.stringify(config.fsync)})` });
  if (!issues.some((i) => i.key === k('maxBytes')) && typeof config.segmentBytes === 'number' && config.maxBytes < 2 * config.segmentBytes) {
    issues.push({ key: k('maxBytes'), message: `must be at least twice segmentBytes (${config.segmentBytes})` });
  }
  return issues;
}
