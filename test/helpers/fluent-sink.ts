/**
 * A local Fluent forward server for tests: `FluentServer` from @fluent-org/logger on
 * 127.0.0.1:0, optionally with shared-key auth and TLS. It acks chunks that ask for it
 * and records every entry. Note: it comes from the same codebase as the client, so it
 * checks the wire format only as far as that library agrees with itself.
 */
import { EventTime, FluentServer, type FluentServerOptions } from '@fluent-org/logger';
import type { TlsOptions } from 'node:tls';

/** One event as the server received it. */
export interface FluentEntry {
  tag: string;
  /** Seconds (number) or EventTime. */
  time: number | EventTime;
  record: Record<string, unknown>;
}

/** Options of `startFluentSink`. */
export interface FluentSinkOptions {
  sharedKey?: string;
  tls?: TlsOptions;
  /** Listen on this port (to restart on the same port after `close()`). */
  port?: number;
}

/** The running server and what it received. */
export interface FluentSink {
  readonly port: number;
  readonly entries: FluentEntry[];
  waitForEntries(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Start a forward server on 127.0.0.1 (port 0 unless given). */
export async function startFluentSink(opts: FluentSinkOptions = {}): Promise<FluentSink> {
  const options: FluentServerOptions = { listenOptions: { host: '127.0.0.1', port: opts.port ?? 0 } };
  if (opts.sharedKey !== undefined) {
    options.security = { serverHostname: 'fluent-sink', sharedKey: opts.sharedKey, authorize: false, userDict: {} };
  }
  if (opts.tls) options.tlsOptions = opts.tls;
  const server = new FluentServer(options);
  const entries: FluentEntry[] = [];
  server.on('entry', (tag: string, time: number | EventTime, record: Record<string, unknown>) => {
    entries.push({ tag, time, record });
  });
  await server.listen();
  return {
    port: server.port as number,
    entries,
    async waitForEntries(n: number, timeoutMs = 10_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (entries.length < n) {
        if (Date.now() > end) throw new Error(`fluent sink: ${entries.length}/${n} entries after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () => server.close(),
  };
}
