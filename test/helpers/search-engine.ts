/**
 * A real Elasticsearch or OpenSearch for tests: the minimal ("integ-test") distributions that
 * scripts/fetch-search-engines.sh fetches from Maven Central and unpacks into a cache.
 *
 * Each engine takes 30-50 s to start on 2 cores, so a test run starts each at most ONCE, and only
 * when a test asks for it: test/setup/search-engines.ts (a vitest globalSetup) runs a small broker
 * on loopback in vitest's main process, and `searchEngine(kind)` asks it for the engine. The first
 * request starts it; later ones (from any worker, any file) get the same one; the run's teardown
 * stops it. A run that asks for none (`vitest run test/unit`) starts nothing.
 *
 * Every start gets a fresh data directory, so a run never sees an earlier run's documents. Within a
 * run, files share the engine and the minimal distribution cannot delete data streams (it has no
 * `_data_stream` API): each test writes to a namespace of its own (`testNamespace()`), e.g.
 * `logs-iptables.log-t1a2b3c4`.
 *
 * Usage:
 *   const req = searchEngineRequirement('elasticsearch');
 *   describe.skipIf(!shouldRun(req))('...', () => {
 *     let es: SearchEngine;
 *     beforeAll(async () => { assertRequirement(req); es = await searchEngine('elasticsearch'); });
 *     ... fetch(`${es.url}/_cluster/health`) ...
 *   });
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './collector.js';
import { repoRoot } from './paths.js';
import { requirement, type Requirement } from './requirements.js';

/** The engines there are. */
export type SearchEngineKind = 'elasticsearch' | 'opensearch';

/** A running engine, as tests see it. */
export interface SearchEngine {
  kind: SearchEngineKind;
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** The version `GET /_nodes/_local` reports, e.g. `8.19.0`. */
  version: string;
}

/** An engine this process started (the broker's, or a fallback's). */
export interface RunningSearchEngine extends SearchEngine {
  /** Stops the engine (SIGTERM to its process group, SIGKILL after 30 s) and removes its data. */
  stop(): Promise<void>;
  /** The tail of its stdout and stderr. */
  logs(): string;
}

interface EngineSpec {
  version: string;
  /** Script in bin/. */
  bin: string;
  javaHomeVar: string;
  javaHome: string;
  javaOptsVar: string;
  /** Settings only this engine knows (an unknown setting stops the other at start). */
  extraSettings: string[];
}

/** Versions and Java: keep in step with scripts/fetch-search-engines.sh. */
const ENGINES: Record<SearchEngineKind, EngineSpec> = {
  elasticsearch: {
    version: process.env.ELASTICSEARCH_VERSION ?? '8.19.0',
    bin: 'elasticsearch',
    // The zip has no bundled JDK; 8.19 needs Java 21+, and the machine ships Temurin 25.
    javaHomeVar: 'ES_JAVA_HOME',
    javaHome: process.env.IPTABLES_OTEL_ES_JAVA_HOME ?? '/usr/lib/jvm/temurin-25-jdk-amd64',
    javaOptsVar: 'ES_JAVA_OPTS',
    extraSettings: ['xpack.security.enabled=false'],
  },
  opensearch: {
    version: process.env.OPENSEARCH_VERSION ?? '2.19.6',
    bin: 'opensearch',
    // 2.19 runs on the default Java 17. The integ-test zip has no security plugin, so there is
    // nothing to disable (plugins.security.disabled would be an unknown setting).
    javaHomeVar: 'OPENSEARCH_JAVA_HOME',
    javaHome: process.env.IPTABLES_OTEL_OPENSEARCH_JAVA_HOME ?? '/usr/lib/jvm/java-17-openjdk-amd64',
    javaOptsVar: 'OPENSEARCH_JAVA_OPTS',
    extraSettings: [],
  },
};

export const fetchSearchEnginesScript = path.join(repoRoot, 'scripts', 'fetch-search-engines.sh');

/** The user the engines run as when the tests run as root (both refuse to run as root). */
export const searchEngineUser = process.env.IPTABLES_OTEL_SEARCH_USER ?? 'iptables-otel-search';

/** Where scripts/fetch-search-engines.sh unpacks `kind`. */
export function searchEngineHome(kind: SearchEngineKind): string {
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const e = ENGINES[kind];
  return path.join(cacheHome, 'iptables-otel', 'search-engines', `${e.bin}-${e.version}`);
}

/** Why `kind` cannot start here, or undefined when it can. */
export function searchEngineMissing(kind: SearchEngineKind): string | undefined {
  const e = ENGINES[kind];
  const home = searchEngineHome(kind);
  if (!existsSync(path.join(home, 'bin', e.bin))) {
    return `${kind} ${e.version} not fetched: run ${path.relative(repoRoot, fetchSearchEnginesScript)} (it caches ${home})`;
  }
  if (!existsSync(path.join(e.javaHome, 'bin', 'java'))) return `${kind} needs Java at ${e.javaHome} (set IPTABLES_OTEL_${kind === 'elasticsearch' ? 'ES' : 'OPENSEARCH'}_JAVA_HOME)`;
  if (isRootUser() && runAs() === undefined) return `${kind} refuses to run as root and user ${searchEngineUser} does not exist: run ${path.relative(repoRoot, fetchSearchEnginesScript)} as root`;
  return undefined;
}

/** Requirement for suites that need `kind`: skips outside CI, fails under CI. */
export function searchEngineRequirement(kind: SearchEngineKind): Requirement {
  const why = searchEngineMissing(kind);
  return requirement(why === undefined, why ?? '');
}

function isRootUser(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let runAsCache: { uid: number; gid: number } | null | undefined;
/** uid/gid of the run user when we are root; undefined when it does not exist. */
function runAs(): { uid: number; gid: number } | undefined {
  if (runAsCache === undefined) {
    try {
      const uid = Number(execFileSync('id', ['-u', searchEngineUser], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const gid = Number(execFileSync('id', ['-g', searchEngineUser], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      runAsCache = { uid, gid };
    } catch {
      runAsCache = null;
    }
  }
  return runAsCache ?? undefined;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET `url` as JSON; undefined when the engine does not answer (yet). */
async function getJson(url: string): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body };
  } catch {
    return undefined;
  }
}

/**
 * Starts `kind` in this process: single node, security off (Elasticsearch), HTTP on a free port of
 * 127.0.0.1, 512 MiB heap, a fresh data and log directory, disk watermarks off (a nearly full
 * shared disk must not turn indexes read-only). Resolves once `_cluster/health` is yellow or green.
 * Tests use `searchEngine()`; this is for the broker.
 */
export async function startSearchEngine(kind: SearchEngineKind, options: { readyTimeoutMs?: number } = {}): Promise<RunningSearchEngine> {
  const missing = searchEngineMissing(kind);
  if (missing !== undefined) throw new Error(missing);
  const e = ENGINES[kind];
  const home = searchEngineHome(kind);
  const user = isRootUser() ? runAs() : undefined;
  const work = mkdtempSync(path.join(os.tmpdir(), `iptables-otel-${kind}-`));
  const data = path.join(work, 'data');
  const logsDir = path.join(work, 'logs');
  const tmp = path.join(work, 'tmp');
  for (const d of [data, logsDir, tmp]) {
    mkdirSync(d);
    if (user) chownSync(d, user.uid, user.gid);
  }
  chmodSync(work, 0o755);
  const httpPort = await freePort();
  const transportPort = await freePort();
  const settings = [
    'discovery.type=single-node',
    'http.host=127.0.0.1',
    `http.port=${httpPort}`,
    'transport.host=127.0.0.1',
    `transport.port=${transportPort}`,
    `path.data=${data}`,
    `path.logs=${logsDir}`,
    'cluster.routing.allocation.disk.threshold_enabled=false',
    ...e.extraSettings,
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    LANG: 'C.UTF-8',
    [e.javaHomeVar]: e.javaHome,
    [e.javaOptsVar]: '-Xms512m -Xmx512m',
    // Elasticsearch's and OpenSearch's own temp dir (else a random folder under /tmp that outlives a kill).
    ES_TMPDIR: tmp,
    OPENSEARCH_TMPDIR: tmp,
  };
  const child: ChildProcess = spawn(path.join(home, 'bin', e.bin), settings.flatMap((s) => ['-E', s]), {
    cwd: home,
    env,
    // Its own process group: the launcher starts the server JVM as a child, and stop() signals both.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ?? String(code);
      resolve();
    });
  });
  // A killed test run must not leave a JVM behind.
  const killOnExit = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);

  const url = `http://127.0.0.1:${httpPort}`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    if (exited === undefined && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(killOnExit, 30_000);
      await exitedPromise;
      clearTimeout(timer);
    }
    rmSync(work, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`${kind} exited (${exited}) before it was ready:\n${tail}`);
    }
    const health = await getJson(`${url}/_cluster/health`);
    const status = (health?.body as { status?: string } | undefined)?.status;
    if (health?.status === 200 && (status === 'green' || status === 'yellow')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${kind} not ready on ${url} after ${options.readyTimeoutMs ?? 180_000} ms:\n${tail}`);
    }
    await pause(250);
  }
  // The minimal Elasticsearch has no `GET /` (405): the node info names the version.
  const nodes = await getJson(`${url}/_nodes/_local`);
  const version = Object.values((nodes?.body as { nodes?: Record<string, { version?: string }> } | undefined)?.nodes ?? {})[0]?.version ?? 'unknown';
  return { kind, url, version, stop, logs: () => tail };
}

/** The name under which test/setup/search-engines.ts provides the broker's URL. */
export const BROKER_KEY = 'iptablesOtelSearchEngineBroker';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the search-engine broker of test/setup/search-engines.ts. */
    iptablesOtelSearchEngineBroker: string;
  }
}

const fallback = new Map<SearchEngineKind, Promise<RunningSearchEngine>>();

/**
 * The run's `kind` engine, started on first use and shared by every test file of the run. Call it
 * after `assertRequirement(searchEngineRequirement(kind))`, in a `beforeAll` (it can take a minute).
 * Without the broker (a vitest config without the globalSetup), this worker starts its own.
 */
export async function searchEngine(kind: SearchEngineKind): Promise<SearchEngine> {
  let broker: string | undefined;
  try {
    // Imported here, not at the top: the broker (vitest's main process) imports this module too.
    const { inject } = await import('vitest');
    broker = inject(BROKER_KEY);
  } catch {
    broker = undefined;
  }
  if (broker) {
    const res = await fetch(`${broker}/engine/${kind}`, { method: 'POST' });
    const body = (await res.json()) as SearchEngine | { error: string };
    if ('error' in body) throw new Error(body.error);
    return body;
  }
  let p = fallback.get(kind);
  if (!p) {
    p = startSearchEngine(kind);
    fallback.set(kind, p);
  }
  const { url, version } = await p;
  return { kind, url, version };
}

/**
 * A data-stream namespace no other test of this run uses (lowercase letters and digits only: a
 * namespace may not contain `-`), e.g. `t5f3a9c21`. Documents routed to
 * `logs-iptables.log-<namespace>` then never meet another test's.
 */
export function testNamespace(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

/** One reply of `engineRequest`. */
export interface EngineReply {
  status: number;
  /** Parsed JSON, or the text when the body is not JSON. */
  json: any;
  headers: Headers;
}

/**
 * One REST call to a test engine: `body` as an object is sent as JSON, as a string as NDJSON
 * (`_bulk`). Never throws for a status; `engineJson` does.
 */
export async function engineRequest(engine: SearchEngine, method: string, p: string, body?: unknown): Promise<EngineReply> {
  const res = await fetch(`${engine.url}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/x-ndjson' : 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, json, headers: res.headers };
}

/** `engineRequest`, returning the JSON of a 2xx reply and throwing with the reply otherwise. */
export async function engineJson(engine: SearchEngine, method: string, p: string, body?: unknown): Promise<any> {
  const r = await engineRequest(engine, method, p, body);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.json).slice(0, 500)}`);
  return r.json;
}
