/**
 * The whole service, started in-process with `startService()` from a YAML config (as a user
 * writes it, through `loadConfig`): UDP, TCP and TLS listeners on 127.0.0.1:0, /metrics on
 * 127.0.0.1:0, and two OTLP/HTTP outputs, protobuf and JSON, each to its own local sink.
 * In-process rather than a child so no build of dist/ is needed and a crash shows its stack.
 */
import dgram from 'node:dgram';
import { request } from 'node:http';
import { loadConfig } from '../../../src/config/load-config.js';
import { startService, type Service } from '../../../src/service.js';
import { createLogger } from '../../../src/ops/logger.js';
import { startOtlpSink, type OtlpSink } from '../../helpers/otlp-sink.js';
import type { TlsCerts } from '../../helpers/tls-certs.js';
import { sumMetric } from '../service/service-process.js';

/** A running service with its sinks and the JSON log lines it wrote. */
export interface ServiceUnderTest {
  service: Service;
  /** Receives the `otlp-protobuf` output. */
  protobufSink: OtlpSink;
  /** Receives the `otlp-json` output. */
  jsonSink: OtlpSink;
  logLines: string[];
  port(type: 'udp' | 'tcp' | 'tls'): number;
  /** One sample of /metrics, summed over the label sets that match `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

function httpGet(port: number, pathname: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${pathname}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname} timed out`)));
    req.end();
  });
}

/** Start both sinks and the service (listeners on port 0, TLS with `certs`; `threads` as `--threads`, default: the config default). */
export async function startServiceUnderTest(certs: TlsCerts, threads?: string): Promise<ServiceUnderTest> {
  const protobufSink = await startOtlpSink();
  const jsonSink = await startOtlpSink();
  const yaml = [
    'inputs:',
    '  - udp: {host: 127.0.0.1, port: 0}',
    '  - tcp: {host: 127.0.0.1, port: 0}',
    `  - tls: {host: 127.0.0.1, port: 0, tls: {cert: "${certs.certFile}", key: "${certs.keyFile}", watch: false}}`,
    'outputs:',
    `  - otlp: {name: otlp-protobuf, endpoint: "http://127.0.0.1:${protobufSink.port}", protocol: protobuf}`,
    `  - otlp: {name: otlp-json, endpoint: "http://127.0.0.1:${jsonSink.port}", protocol: json}`,
    'pipeline: {batch: {linger: 5ms}}',
    'ops: {address: "127.0.0.1:0"}',
  ].join('\n');
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => logLines.push(l) } });
  // An empty env: no OTEL_* from the developer's shell may change resource or endpoint.
  const service = await startService(loadConfig({ env: {}, text: yaml, file: 'service-senders.yaml', ...(threads !== undefined ? { overrides: { threads } } : {}) }), { logger });
  const ops = service.opsAddress();
  if (!ops) throw new Error('ops endpoint not bound');
  return {
    service,
    protobufSink,
    jsonSink,
    logLines,
    port(type) {
      const l = service.listeners().find((x) => x.type === type);
      if (!l) throw new Error(`no ${type} listener`);
      return l.port;
    },
    async metric(name, labels) {
      return sumMetric(await httpGet(ops.port, '/metrics'), name, labels);
    },
    async stop() {
      await service.stop();
      await protobufSink.stop();
      await jsonSink.stop();
    },
  };
}

/** A UDP port on 127.0.0.1 that was free a moment ago (for daemon inputs that cannot take port 0). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** True when something is bound to UDP 127.0.0.1:`port` (our bind fails with EADDRINUSE). */
function udpPortTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.close();
      resolve(e.code === 'EADDRINUSE');
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

/** Wait (bounded) until a daemon has bound each of `ports`, so datagrams sent next are not lost. */
export async function waitUdpBound(ports: number[], timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (const port of ports) {
    while (!(await udpPortTaken(port))) {
      if (Date.now() > end) throw new Error(`UDP port ${port} not bound after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Send each frame as one datagram to 127.0.0.1:`port`, a few at a time so no buffer overflows. */
export async function sendDatagrams(port: number, frames: string[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < frames.length; i++) {
      await new Promise<void>((resolve, reject) => s.send(frames[i]!, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    s.close();
  }
}
