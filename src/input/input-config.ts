import { DEFAULT_MAX_FRAME_SIZE, FRAMING_MODES, type FramingMode } from '../framing/framer.js';
import { isIP } from 'node:net';

/** Elastic's iptables integration listens on 9001; so do we by default. */
export const DEFAULT_PORT = 9001;
/** RFC 5425: syslog over TLS. */
export const DEFAULT_TLS_PORT = 6514;
/** The port rsyslog's RELP documentation uses (`imrelp` has no default; RELP has no IANA port). */
export const DEFAULT_RELP_PORT = 2514;
/** Loopback only; listening on all interfaces must be asked for (`0.0.0.0` / `::`). */
export const DEFAULT_HOST = '127.0.0.1';

/** Settings every listener has. */
export interface ListenerConfigBase {
  /** Address to bind (`127.0.0.1`, `::1`, `0.0.0.0`, `::`, or a host name). */
  host: string;
  /** Port; 0 picks a free one (tests). */
  port: number;
  /** Name in logs and metric labels; default `udp://HOST:PORT`. */
  name?: string;
  /** Largest frame / datagram accepted, bytes. Default 64 KiB. */
  maxFrameSize: number;
  /**
   * On `stop()`, keep reading what senders already sent (and the kernel holds) for at most
   * this long, ms. Default 1000; 0 = close at once.
   */
  drainTimeoutMs?: number;
  /** During that drain, a connection (or the UDP socket) silent this long is done, ms. Default 150. */
  drainQuietMs?: number;
}

/** A UDP listener: one message per datagram. */
export interface UdpInputConfig extends ListenerConfigBase {
  type: 'udp';
  /**
   * SO_RCVBUF to ask for, bytes (default 32 MiB, about 58,000 datagrams of 240 B once Linux doubles it; 0 keeps the kernel default).
   * Linux caps it at `net.core.rmem_max`; a smaller result is logged at start-up.
   */
  recvBufferSize: number;
  /**
   * Read busy senders in a reader thread, each on a socket of its own (Linux; default true).
   * false: every datagram is read in the event loop, and the socket is bound without SO_REUSEADDR.
   */
  readerThread?: boolean;
}

/** A TCP listener (RFC 6587). */
export interface TcpInputConfig extends ListenerConfigBase {
  type: 'tcp';
  /** `auto` (per frame, like rsyslog imtcp), `lf`, `nul` or `octet`. Default `auto`. */
  framing: FramingMode;
  /**
   * Connections read at the same time. Default 10000; 0 = unlimited. Further connections
   * wait (accepted, not read) until one closes; see `maxPendingConnections`.
   */
  maxConnections: number;
  /**
   * Connections allowed to wait above `maxConnections`; beyond that they are refused
   * (closed at once, counted in `connections_refused_total`, logged). Default 1000.
   */
  maxPendingConnections?: number;
  /** Close a connection idle for this long, ms. Default 300000 (Filebeat's 300 s); 0 = never. */
  idleTimeoutMs: number;
}

/** A TLS listener (RFC 5425): TCP settings plus certificates. */
export interface TlsInputConfig extends Omit<TcpInputConfig, 'type'> {
  type: 'tls';
  /** PEM certificate chain of the server. */
  certFile: string;
  /** PEM private key of the server. */
  keyFile: string;
  /** PEM CA bundle used to verify client certificates. */
  caFile?: string;
  /** Require and verify a client certificate (mTLS); needs `caFile`. Default false. */
  requireClientCert: boolean;
  /** Reload the certificate, key and CA when the files change. Default true. */
  watchCertificates: boolean;
}

/**
 * A RELP listener (rsyslog `omrelp`): TCP settings without `framing` (RELP frames itself).
 * Each message is acknowledged once it is safe: in the spool when it is on (the default),
 * else in the in-memory queue.
 */
export interface RelpInputConfig extends Omit<TcpInputConfig, 'type' | 'framing'> {
  type: 'relp';
}

/** Any listener config, discriminated by `type`. */
export type InputConfig = UdpInputConfig | TcpInputConfig | TlsInputConfig | RelpInputConfig;

/** Defaults for the optional keys of each listener type. */
export const UDP_INPUT_DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  recvBufferSize: 32 * 1024 * 1024,
  readerThread: true,
} as const;

/** Defaults for TCP listeners. */
export const TCP_INPUT_DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  framing: 'auto' as FramingMode,
  maxConnections: 10_000,
  idleTimeoutMs: 300_000,
  maxPendingConnections: 1000,
} as const;

/** Defaults of the drain on `stop()`, for every listener type. */
export const DRAIN_DEFAULTS = {
  drainTimeoutMs: 1000,
  drainQuietMs: 150,
} as const;

/** Defaults for TLS listeners. */
export const TLS_INPUT_DEFAULTS = {
  ...TCP_INPUT_DEFAULTS,
  port: DEFAULT_TLS_PORT,
  requireClientCert: false,
  watchCertificates: true,
} as const;

/** Defaults for RELP listeners. */
export const RELP_INPUT_DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_RELP_PORT,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxConnections: TCP_INPUT_DEFAULTS.maxConnections,
  idleTimeoutMs: TCP_INPUT_DEFAULTS.idleTimeoutMs,
  maxPendingConnections: TCP_INPUT_DEFAULTS.maxPendingConnections,
} as const;

/** The listeners used when the config names none: UDP and TCP on 127.0.0.1:9001. */
export function defaultInputConfigs(): InputConfig[] {
  return [
    { type: 'udp', ...UDP_INPUT_DEFAULTS },
    { type: 'tcp', ...TCP_INPUT_DEFAULTS },
  ];
}

/** A config error naming the offending key (`inputs[1].port`). */
export class InputConfigError extends Error {
  override readonly name = 'InputConfigError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

const COMMON_KEYS = ['type', 'host', 'port', 'name', 'maxFrameSize', 'drainTimeoutMs', 'drainQuietMs'];
const STREAM_KEYS = ['framing', 'maxConnections', 'maxPendingConnections', 'idleTimeoutMs'];
const KEYS: Record<InputConfig['type'], readonly string[]> = {
  udp: [...COMMON_KEYS, 'recvBufferSize', 'readerThread'],
  tcp: [...COMMON_KEYS, ...STREAM_KEYS],
  relp: [...COMMON_KEYS, ...STREAM_KEYS.filter((k) => k !== 'framing')],
  tls: [...COMMON_KEYS, ...STREAM_KEYS, 'certFile', 'keyFile', 'caFile', 'requireClientCert', 'watchCertificates'],
};

function int(raw: Record<string, unknown>, key: string, path: string, def: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputConfigError(`${path}.${key}`, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Like `int`, but a missing key stays missing (optional keys keep the validated object unchanged). */
function optionalInt(raw: Record<string, unknown>, key: string, path: string, min: number, max: number): Record<string, number> {
  if (raw[key] === undefined) return {};
  return { [key]: int(raw, key, path, 0, min, max) };
}

function bool(raw: Record<string, unknown>, key: string, path: string, def: boolean): boolean {
  const v = raw[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new InputConfigError(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function str(raw: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new InputConfigError(`${path}.${key}`, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function host(raw: Record<string, unknown>, path: string): string {
  const h = str(raw, 'host', path) ?? DEFAULT_HOST;
  const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  if (bare.includes(':') && isIP(bare) !== 6) throw new InputConfigError(`${path}.host`, `"${h}" is not a valid IPv6 address`);
  return bare;
}

/**
 * Validate one listener config (as read from YAML or built by the CLI), fill in
 * defaults, and return it typed. Throws `InputConfigError` naming the bad key,
 * prefixed with `path` (e.g. `inputs[0]`). Unknown keys are errors.
 */
export function validateInputConfig(raw: unknown, path = 'input'): InputConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputConfigError(path, 'must be an object with a "type" of udp, tcp, tls or relp');
  }
  const r = raw as Record<string, unknown>;
  const type = r.type;
  if (type !== 'udp' && type !== 'tcp' && type !== 'tls' && type !== 'relp') {
    throw new InputConfigError(`${path}.type`, `must be "udp", "tcp", "tls" or "relp", got ${JSON.stringify(type)}`);
  }
  for (const key of Object.keys(r)) {
    if (!KEYS[type].includes(key)) {
      throw new InputConfigError(`${path}.${key}`, `unknown key for a ${type} input (known: ${KEYS[type].join(', ')})`);
    }
  }
  const base = {
    host: host(r, path),
    port: int(r, 'port', path, type === 'tls' ? DEFAULT_TLS_PORT : type === 'relp' ? DEFAULT_RELP_PORT : DEFAULT_PORT, 0, 65535),
    maxFrameSize: int(r, 'maxFrameSize', path, DEFAULT_MAX_FRAME_SIZE, 64, 16 * 1024 * 1024),
    ...(r.name !== undefined ? { name: str(r, 'name', path)! } : {}),
    ...optionalInt(r, 'drainTimeoutMs', path, 0, 60_000),
    ...optionalInt(r, 'drainQuietMs', path, 1, 60_000),
  };
  if (type === 'udp') {
    return {
      type,
      ...base,
      recvBufferSize: int(r, 'recvBufferSize', path, UDP_INPUT_DEFAULTS.recvBufferSize, 0, 2 ** 31 - 1),
      readerThread: bool(r, 'readerThread', path, UDP_INPUT_DEFAULTS.readerThread),
    };
  }
  const connections = {
    maxConnections: int(r, 'maxConnections', path, TCP_INPUT_DEFAULTS.maxConnections, 0, 10_000_000),
    idleTimeoutMs: int(r, 'idleTimeoutMs', path, TCP_INPUT_DEFAULTS.idleTimeoutMs, 0, 2 ** 31 - 1),
    ...optionalInt(r, 'maxPendingConnections', path, 0, 10_000_000),
  };
  if (type === 'relp') return { type, ...base, ...connections };
  const framing = r.framing ?? TCP_INPUT_DEFAULTS.framing;
  if (typeof framing !== 'string' || !(FRAMING_MODES as readonly string[]).includes(framing)) {
    throw new InputConfigError(`${path}.framing`, `must be one of ${FRAMING_MODES.join(', ')}, got ${JSON.stringify(framing)}`);
  }
  const stream = {
    ...base,
    framing: framing as FramingMode,
    ...connections,
  };
  if (type === 'tcp') return { type, ...stream };
  const certFile = str(r, 'certFile', path);
  if (certFile === undefined) throw new InputConfigError(`${path}.certFile`, 'is required for a tls input');
  const keyFile = str(r, 'keyFile', path);
  if (keyFile === undefined) throw new InputConfigError(`${path}.keyFile`, 'is required for a tls input');
  const caFile = str(r, 'caFile', path);
  const requireClientCert = bool(r, 'requireClientCert', path, false);
  if (requireClientCert && caFile === undefined) {
    throw new InputConfigError(`${path}.caFile`, 'is required when requireClientCert is true');
  }
  return {
    type,
    ...stream,
    certFile,
    keyFile,
    ...(caFile !== undefined ? { caFile } : {}),
    requireClientCert,
    watchCertificates: bool(r, 'watchCertificates', path, true),
  };
}
