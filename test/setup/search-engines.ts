/**
 * vitest globalSetup: the search-engine broker (see test/helpers/search-engine.ts). Runs once per
 * test run in vitest's main process and serves, on a loopback port, `POST /engine/<kind>`: the
 * first request starts that engine (30-50 s), every later one, from any worker, gets the same
 * engine at once. Teardown stops what was started. A run whose tests ask for no engine only pays
 * for an idle HTTP server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { BROKER_KEY, startSearchEngine, type RunningSearchEngine, type SearchEngineKind } from '../helpers/search-engine.js';

const KINDS: readonly SearchEngineKind[] = ['elasticsearch', 'opensearch'];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = new Map<SearchEngineKind, Promise<RunningSearchEngine>>();
  const server: Server = createServer((req, res) => {
    const kind = /^\/engine\/([a-z]+)$/.exec(req.url ?? '')?.[1] as SearchEngineKind | undefined;
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || kind === undefined || !KINDS.includes(kind)) {
      reply(404, { error: `unknown request ${req.method} ${req.url}` });
      return;
    }
    let engine = started.get(kind);
    if (!engine) {
      engine = startSearchEngine(kind);
      started.set(kind, engine);
    }
    // A failed start is kept: every test that asks gets the same error, none retries for a minute.
    engine.then(
      (e) => reply(200, { kind: e.kind, url: e.url, version: e.version }),
      (err: Error) => reply(200, { error: err.message }),
    );
  });
  // Requests wait for a start that takes up to minutes.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide(BROKER_KEY, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(
      [...started.values()].map((p) =>
        p.then(
          (e) => e.stop(),
          () => undefined,
        ),
      ),
    );
  };
}
