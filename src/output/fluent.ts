/**
 * Fluent forward output (@fluent-org/logger): to Fluent Bit / Fluentd `forward`
 * inputs and the OpenTelemetry Collector `fluentforward` receiver.
 *
 * Record layout (one forward event per FirewallLogRecord):
 *   time               EventTime (seconds + nanoseconds): the event time, else the observed time
 *   message            the body (the `fluentforward` receiver makes `message` the log body)
 *   <attribute name>   every attribute under its flat dotted OTel name
 *                      (`source.address`, `iptables.tcp.flags`); arrays stay msgpack
 *                      arrays, integers msgpack ints, booleans msgpack booleans
 *   severity_text      the syslog severity keyword, when known
 *   severity_number    the OTel SeverityNumber, when not 0
 *   observed_time      when we received the frame, RFC 3339 with nanoseconds (UTC)
 *
 * What the forward protocol loses compared with OTLP:
 *   - no resource and no instrumentation scope: service.name, service.version, host.name
 *     of the receiver and the scope are not sent (add them in Fluent Bit / the Collector);
 *   - severity is two ordinary keys: the Collector's fluentforward receiver does not map
 *     them to SeverityNumber/SeverityText (they arrive as attributes);
 *   - observed time is an ordinary string key, not observed_time_unix_nano;
 *   - a record without an event time gets the observed time as its event time (forward
 *     needs a time; OTLP can say "unknown");
 *   - int vs double: msgpack writes an integral JS number as an int, so a double with a
 *     whole value would arrive as an int (the attribute table has no doubles for this reason);
 *   - value types are msgpack's, without OTLP's AnyValue tagging (an empty array has no
 *     element type), and key order is not guaranteed to survive Fluent's processing;
 *   - the tag (default `iptables`) is forward's only routing key; the Collector puts it
 *     in the `fluent.tag` attribute.
 *
 * Delivery: with `ack` (default) export() resolves only when the server acknowledged the
 * chunk (at-least-once; a batch that times out is retried by the pipeline, so duplicates
 * are possible, loss is not). Without ack it resolves when the bytes are written.
 */
import { EventTime, FluentClient, FluentSocketEvent, type EventModes, type FluentClientOptions } from '@fluent-org/logger';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import type { HrTime } from '@opentelemetry/api';
import type { FirewallLogRecord } from '../mapping/record.js';
import type { ConfigIssue } from '../pipeline/pipeline-config.js';
import type { Output } from './output.js';

/** TLS to the forward server: each of ca/cert/key is a file path or inline PEM. */
export interface FluentTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** The Fluent forward output. `FluentOutputSpec` from src/config/service-config.ts is assignable to it. */
export interface FluentOutputConfig {
  type: 'fluent';
  /** Metric label; default `fluent`. */
  name?: string;
  host: string;
  port: number;
  /** Forward tag; default `iptables`. */
  tag: string;
  /** true = TLS with the system CAs. */
  tls?: boolean | FluentTlsOptions;
  /** Shared key of the forward `security` section (enables the handshake). */
  sharedKey?: string;
  username?: string;
  password?: string;
  /** Our hostname in the handshake; default os.hostname(). */
  clientHostname?: string;
  /** Wait for the server's ack (at-least-once). Default true. */
  ack: boolean;
  /** Ack timeout and overall export timeout, ms. Default 30 000. */
  timeoutMs?: number;
  /** Default `PackedForward`. */
  eventMode?: EventModes;
  /** Reconnect backoff bounds, ms. Default 100 .. 10 000. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
}

/** Defaults of the Fluent output. */
export const FLUENT_DEFAULTS = Object.freeze({
  name: 'fluent',
  host: '127.0.0.1',
  port: 24224,
  tag: 'iptables',
  ack: true,
  timeoutMs: 30_000,
  eventMode: 'PackedForward' as EventModes,
  reconnectMinDelayMs: 100,
  reconnectMaxDelayMs: 10_000,
});

const EVENT_MODES: readonly EventModes[] = ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'];

/** Check a Fluent output; one issue per bad key, named with `prefix`. */
export function validateFluentOutputConfig(config: FluentOutputConfig, prefix = 'outputs.fluent'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const k = (n: string): string => `${prefix}.${n}`;
  if (typeof config.host !== 'string' || config.host === '') issues.push({ key: k('host'), message: 'must be a host name or address' });
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) {
    issues.push({ key: k('port'), message: `must be a port number 1-65535 (got ${JSON.stringify(config.port)})` });
  }
  if (typeof config.tag !== 'string' || config.tag === '' || /\s/.test(config.tag)) {
    issues.push({ key: k('tag'), message: `must be a non-empty tag without spaces (got ${JSON.stringify(config.tag)})` });
  }
  if (config.timeoutMs !== undefined && (!Number.isInteger(config.timeoutMs) || config.timeoutMs <= 0)) {
    issues.push({ key: k('timeoutMs'), message: `must be a positive integer (got ${JSON.stringify(config.timeoutMs)})` });
  }
  if (config.eventMode !== undefined && !EVENT_MODES.includes(config.eventMode)) {
    issues.push({ key: k('eventMode'), message: `must be one of ${EVENT_MODES.join(', ')}` });
  }
  if ((config.username !== undefined || config.password !== undefined) && config.sharedKey === undefined) {
    issues.push({ key: k('username'), message: 'user authentication needs sharedKey too' });
  }
  return issues;
}

function pem(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v.includes('-----BEGIN') ? v : readFileSync(v, 'utf8');
}

function tlsOptions(tls: FluentOutputConfig['tls'], host: string): ConnectionOptions | undefined {
  if (!tls) return undefined;
  const o: ConnectionOptions = { servername: host };
  if (tls === true) return o;
  const ca = pem(tls.ca);
  const cert = pem(tls.cert);
  const key = pem(tls.key);
  if (ca !== undefined) o.ca = ca;
  if (cert !== undefined) o.cert = cert;
  if (key !== undefined) o.key = key;
  if (tls.servername !== undefined) o.servername = tls.servername;
  if (tls.rejectUnauthorized !== undefined) o.rejectUnauthorized = tls.rejectUnauthorized;
  return o;
}

/** RFC 3339 UTC text with nine fractional digits. */
export function hrTimeToRfc3339(t: HrTime): string {
  const iso = new Date(t[0] * 1000).toISOString(); // 2024-11-26T12:34:56.000Z
  return `${iso.slice(0, 19)}.${String(t[1]).padStart(9, '0')}Z`;
}

/** The forward event body for `record` (see the layout in the file comment). */
export function toFluentRecord(record: FirewallLogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { message: record.body };
  const attrs = record.attributes;
  for (const key in attrs) out[key] = attrs[key];
  if (record.severityText) out['severity_text'] = record.severityText;
  if (record.severityNumber) out['severity_number'] = record.severityNumber;
  out['observed_time'] = hrTimeToRfc3339(record.observedTimestamp);
  return out;
}

/** The forward EventTime of `record`: event time, else observed time, with nanoseconds. */
export function toEventTime(record: FirewallLogRecord): EventTime {
  const t = record.timestamp ?? record.observedTimestamp;
  return new EventTime(t[0], t[1]);
}

/** Fluent forward output. */
export class FluentOutput implements Output {
  readonly name: string;
  readonly client: FluentClient;
  private readonly timeoutMs: number;
  /** Last socket error (connection refused, TLS, auth), for status reporting. */
  lastError: Error | undefined;

  constructor(config: FluentOutputConfig) {
    this.name = config.name ?? FLUENT_DEFAULTS.name;
    this.timeoutMs = config.timeoutMs ?? FLUENT_DEFAULTS.timeoutMs;
    const options: FluentClientOptions = {
      eventMode: config.eventMode ?? FLUENT_DEFAULTS.eventMode,
      socket: {
        host: config.host,
        port: config.port,
        tls: tlsOptions(config.tls, config.host),
        reconnect: {
          minDelay: config.reconnect?.minDelayMs ?? FLUENT_DEFAULTS.reconnectMinDelayMs,
          maxDelay: config.reconnect?.maxDelayMs ?? FLUENT_DEFAULTS.reconnectMaxDelayMs,
        },
      },
      // Bounded so a long outage cannot grow the client's own queue without limit; what it
      // drops fails its export, which the pipeline retries from its queue.
      sendQueueMaxLimit: { length: 200_000 },
    };
    if (config.ack) options.ack = { ackTimeout: this.timeoutMs };
    if (config.sharedKey !== undefined) {
      options.security = {
        clientHostname: config.clientHostname ?? os.hostname(),
        sharedKey: config.sharedKey,
        ...(config.username !== undefined ? { username: config.username } : {}),
        ...(config.password !== undefined ? { password: config.password } : {}),
      };
    }
    this.client = new FluentClient(config.tag, options);
    // The socket is an EventEmitter: without an 'error' listener a refused connection would throw.
    this.client.socketOn(FluentSocketEvent.ERROR, (err: Error) => {
      this.lastError = err;
    });
  }

  /** Emit the batch; resolves when every event is acknowledged (ack) or written (no ack). */
  async export(records: FirewallLogRecord[]): Promise<void> {
    const pending: Promise<void>[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as FirewallLogRecord;
      pending[i] = this.client.emit(toFluentRecord(r), toEventTime(r));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`fluent forward: no ${this.lastError ? `connection (${this.lastError.message})` : 'ack'} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all(pending), timeout]);
    } finally {
      clearTimeout(timer);
      // Later rejections of events we stopped waiting for must not become unhandled.
      for (const p of pending) p.catch(() => {});
    }
  }

  /** Close the connection (pending events were delivered by the pipeline's drain). */
  async shutdown(): Promise<void> {
    await this.client.shutdown();
  }
}
