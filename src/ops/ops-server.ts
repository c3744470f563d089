import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';
import type { HealthTracker } from './health.js';
import type { Logger } from './logger.js';

/** Options of `startOpsServer()`. */
export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  health: HealthTracker;
  logger: Logger;
  /** Called before each /metrics exposition (e.g. to move batched counts into the registry). */
  beforeScrape?: () => void;
}

/** The running `/healthz` + `/metrics` endpoint. */
export interface OpsServer {
  /** The bound address (port 0 resolved). */
  address(): { address: string; port: number };
  /** Stop listening and close idle keep-alive connections. */
  close(): Promise<void>;
}

/**
 * Starts the operations HTTP endpoint: `GET /healthz` (200 `{"status":"ok"}` or 503 with
 * reasons, see `HealthTracker`) and `GET /metrics` (Prometheus text format). Meant for a
 * loopback address: it has no authentication. Resolves once bound; rejects on bind errors.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { metrics, health, logger } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz' || path === '/health' || path === '/livez' || path === '/readyz') {
      const report = health.report();
      res.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(report) + '\n');
      return;
    }
    if (path === '/metrics') {
      options.beforeScrape?.();
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (err: unknown) => {
          logger.error('metrics exposition failed', { err });
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
  });
  server.keepAliveTimeout = 5000;
  // Idle scrapers must not hold the process open at shutdown.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error('ops endpoint error', { err }));
  const sampler = setInterval(() => health.sample(), 1000);
  sampler.unref();
  return {
    address() {
      const a = server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    },
    close() {
      clearInterval(sampler);
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
