import { InputConfigError } from '../input-config.js';
import { durationMsOf, enumOf, intOf, objectOf, stringListOf, stringOf } from '../config-values.js';
import { ListenUrlError } from '../listen-url.js';
import type { SourceInputConfigBase } from '../source-input.js';

/** The kernel log device. */
export const KMSG_DEVICE = '/dev/kmsg';

/** A `kmsg` input: reads the kernel log ring buffer directly (no rsyslog/journald in between). */
export interface KmsgInputConfig extends SourceInputConfigBase {
  /** Default `kmsg://`. */
  name: string;
  /** The device to read; default `/dev/kmsg`. */
  device: string;
  /**
   * Only lines whose netfilter log prefix (the text before `IN=`) starts with one of these become
   * records. Absent: every line with a netfilter shape (an `IN=` key) does.
   */
  prefixes?: string[];
  /**
   * Without any checkpoint (the first start): `beginning` reads what the kernel ring still holds;
   * `end` only what is logged from now on. Default `beginning`. After a reboot (a checkpoint of
   * another boot) reading always starts at the beginning of the ring.
   */
  startAt: 'beginning' | 'end';
  /** How long to wait before looking for new records once the ring is read to its end, ms. Default 100. */
  pollIntervalMs: number;
  /** Records handed over and not yet acknowledged by every output above which reading pauses. Default 10000. */
  maxInFlight: number;
}

/** Defaults of the optional keys. */
export const KMSG_INPUT_DEFAULTS = {
  name: 'kmsg://',
  device: KMSG_DEVICE,
  startAt: 'beginning',
  pollIntervalMs: 100,
  maxInFlight: 10_000,
} as const;

const KEYS = ['name', 'device', 'prefixes', 'startAt', 'pollInterval', 'maxInFlight'];

/** Validates an `inputs[i].kmsg` object; errors name `${path}.${key}`. */
export function validateKmsgInputConfig(raw: unknown, path = 'kmsg'): KmsgInputConfig {
  const r = objectOf(raw, path, KEYS);
  const prefixes = stringListOf(r, 'prefixes', path);
  if (prefixes !== undefined && prefixes.length === 0) throw new InputConfigError(`${path}.prefixes`, 'must list at least one prefix (leave it out to take every netfilter line)');
  const device = stringOf(r, 'device', path) ?? KMSG_INPUT_DEFAULTS.device;
  if (!device.startsWith('/')) throw new InputConfigError(`${path}.device`, `must be an absolute path, got ${JSON.stringify(device)}`);
  return {
    name: stringOf(r, 'name', path) ?? KMSG_INPUT_DEFAULTS.name,
    device,
    ...(prefixes !== undefined ? { prefixes } : {}),
    startAt: enumOf(r, 'startAt', path, ['beginning', 'end'] as const, KMSG_INPUT_DEFAULTS.startAt),
    pollIntervalMs: Math.max(1, durationMsOf(r, 'pollInterval', path, KMSG_INPUT_DEFAULTS.pollIntervalMs, 60_000)),
    maxInFlight: intOf(r, 'maxInFlight', path, KMSG_INPUT_DEFAULTS.maxInFlight, 1, 10_000_000),
  };
}

/**
 * `kmsg://` (or `kmsg:///dev/kmsg`), with settings as a query: `kmsg://?prefixes=FW-DROP,FW-ACCEPT&startAt=end`.
 * `prefixes` is comma-separated (or repeated).
 */
export function kmsgConfigFromUrl(url: string): Record<string, unknown> {
  const m = /^kmsg:\/\/([^?]*)(?:\?(.*))?$/i.exec(url.trim());
  if (!m) throw new ListenUrlError(`invalid input "${url}": expected kmsg:// or kmsg:///dev/kmsg, optionally ?prefixes=A,B&startAt=end`);
  const out: Record<string, unknown> = {};
  if (m[1] !== '' && m[1] !== '/') {
    if (!m[1]!.startsWith('/')) throw new ListenUrlError(`invalid input "${url}": the device must be an absolute path (kmsg:///dev/kmsg)`);
    out.device = m[1];
  }
  const prefixes: string[] = [];
  for (const [k, v] of new URLSearchParams(m[2] ?? '')) {
    if (k === 'prefixes' || k === 'prefix') prefixes.push(...v.split(',').filter((p) => p !== ''));
    else if (!KEYS.includes(k) || k === 'device') throw new ListenUrlError(`invalid input "${url}": unknown setting "${k}" (known: prefixes, ${KEYS.filter((x) => x !== 'prefixes' && x !== 'device').join(', ')})`);
    else out[k] = v;
  }
  if (prefixes.length > 0) out.prefixes = prefixes;
  return out;
}
