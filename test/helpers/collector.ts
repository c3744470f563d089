/**
 * The reference OpenTelemetry Collector (built from test/collector/builder-config.yaml
 * by scripts/build-collector.sh) for e2e tests: locate the binary, start it with a
 * config, wait until its health_check extension answers, stop it, validate configs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from './paths.js';
import { hasCommand, inCI, requirement, type Requirement } from './requirements.js';

export const collectorManifest = path.join(repoRoot, 'test', 'collector', 'builder-config.yaml');
export const buildCollectorScript = path.join(repoRoot, 'scripts', 'build-collector.sh');

/**
 * Where scripts/build-collector.sh caches the binary for the current manifest
 * (same key: first 16 hex digits of the manifest's SHA-256).
 */
export function cachedCollectorPath(): string {
  const hash = createHash('sha256').update(readFileSync(collectorManifest)).digest('hex').slice(0, 16);
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'iptables-otel', `otelcol-${hash}`, 'otelcol-iptables-otel');
}

let located: string | null | undefined;

/**
 * The Collector binary: `IPTABLES_OTEL_OTELCOL` if set, else the cached build.
 * In CI with Go installed, a missing build is made now (slow, minutes); outside CI
 * it is not, so a dev run without a build skips instead of stalling.
 * Returns undefined when there is no binary.
 */
export function collectorBinary(): string | undefined {
  if (located !== undefined) return located ?? undefined;
  const fromEnv = process.env.IPTABLES_OTEL_OTELCOL;
  if (fromEnv) {
    located = existsSync(fromEnv) ? fromEnv : null;
    return located ?? undefined;
  }
  const cached = cachedCollectorPath();
  if (existsSync(cached)) {
    located = cached;
    return cached;
  }
  if (inCI && hasCommand('go')) {
    try {
      const out = execFileSync(buildCollectorScript, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 30 * 60_000,
      });
      const p = out.trim().split('\n').pop();
      located = p && existsSync(p) ? p : null;
    } catch {
      located = null;
    }
    return located ?? undefined;
  }
  located = null;
  return undefined;
}

/**
 * Requirement for suites that need the reference Collector: skips (outside CI) or
 * fails (in CI) when the binary is missing, naming how to build it.
 */
export function collectorRequirement(): Requirement {
  const bin = collectorBinary();
  if (bin) return requirement(true, '');
  const why = hasCommand('go')
    ? `reference Collector not built: run ${path.relative(repoRoot, buildCollectorScript)}` +
      ' (or set IPTABLES_OTEL_OTELCOL)'
    : 'reference Collector missing and Go is not installed (set IPTABLES_OTEL_OTELCOL or install Go)';
  return requirement(false, why);
}

/**
 * A free TCP port on 127.0.0.1, for a peer or service that must be told its port before it
 * starts. Picked at random below Linux's ephemeral range (32768-60999) and checked by binding:
 * a port the kernel hands out for port 0 is also what it hands out as the local port of the next
 * outgoing connection, so between our check and the peer's listen another test's connect could
 * take it (it did once in CI: EADDRINUSE at the service's start).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canListen(port)) return port;
  }
  throw new Error('freePort: no free port found in 20000-31999 after 200 tries');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export interface RunningCollector {
  /** The child process. */
  readonly process: ChildProcess;
  /** Temp dir holding config.yaml (and anything the test puts there, e.g. file exporter output). */
  readonly dir: string;
  readonly configPath: string;
  /** Port of the health_check extension. */
  readonly healthPort: number;
  /** Everything the Collector wrote to stdout/stderr so far. */
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after `timeoutMs`), remove the temp dir unless `keepDir`. */
  stop(opts?: { timeoutMs?: number; keepDir?: boolean }): Promise<void>;
}

export interface StartCollectorOptions {
  /** Extra environment (e.g. `ELASTIC_API_KEY`). */
  env?: Record<string, string>;
  /** How long to wait for health_check to answer; default 60 s. */
  startTimeoutMs?: number;
  /** Use this dir instead of a fresh temp dir (the caller owns it). */
  dir?: string;
}

/**
 * Start the Collector with `config` (YAML text, or an object serialised to YAML).
 *
 * The config may use `${HEALTH_PORT}` (a free port) and `${DIR}` (the temp dir)
 * placeholders, replaced before writing. For an object config, a `health_check`
 * extension on `${HEALTH_PORT}` is added when it has none, and unless it sets
 * `service.telemetry` the Collector's own metrics are turned off so several Collectors
 * never fight over port 8888. A YAML text config must do both itself.
 * Resolves once `GET http://127.0.0.1:HEALTH_PORT/` returns 200.
 */
export async function startCollector(
  config: string | Record<string, unknown>,
  opts: StartCollectorOptions = {},
): Promise<RunningCollector> {
  const bin = collectorBinary();
  if (!bin) throw new Error('reference Collector binary not found (run scripts/build-collector.sh)');
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'otelcol-'));
  const healthPort = await freePort();
  const text = prepareConfig(config, healthPort, dir);
  const configPath = path.join(dir, 'config.yaml');
  writeFileSync(configPath, text);

  const child = spawn(bin, [`--config=${configPath}`], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (b: Buffer): void => {
    // Keep the tail only: a chatty debug exporter must not grow this unbounded.
    output = (output + b.toString('utf8')).slice(-512 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exited = code;
      resolve();
    });
  });

  const stop = async (s: { timeoutMs?: number; keepDir?: boolean } = {}): Promise<void> => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), s.timeoutMs ?? 15_000);
      await exitPromise;
      clearTimeout(t);
    }
    if (!s.keepDir && !opts.dir) rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      const logs = output;
      await stop();
      throw new Error(`Collector exited with code ${String(exited)} during startup:\n${logs}`);
    }
    if (await healthy(healthPort)) break;
    if (Date.now() > deadline) {
      const logs = output;
      await stop();
      throw new Error(`Collector not healthy within ${opts.startTimeoutMs ?? 60_000} ms:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return { process: child, dir, configPath, healthPort, logs: () => output, stop };
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function prepareConfig(config: string | Record<string, unknown>, healthPort: number, dir: string): string {
  let obj: Record<string, unknown> | undefined;
  let text: string;
  if (typeof config === 'string') {
    text = config;
  } else {
    obj = structuredClone(config);
    const extensions = (obj.extensions ??= {}) as Record<string, unknown>;
    const service = (obj.service ??= {}) as Record<string, unknown>;
    if (!Object.keys(extensions).some((k) => k === 'health_check' || k.startsWith('health_check/'))) {
      extensions.health_check = { endpoint: '127.0.0.1:${HEALTH_PORT}' };
      const list = (service.extensions ??= []) as string[];
      list.push('health_check');
    }
    service.telemetry ??= { metrics: { level: 'none' }, logs: { level: 'info' } };
    text = stringify(obj);
  }
  return text.replaceAll('${HEALTH_PORT}', String(healthPort)).replaceAll('${DIR}', dir);
}

export interface ValidateResult {
  ok: boolean;
  /** Combined stdout+stderr of `otelcol validate`. */
  output: string;
}

/** Run `otelcol validate --config=FILE` with `env` added; never throws on a bad config. */
export function validateCollectorConfig(file: string, env: Record<string, string> = {}): ValidateResult {
  const bin = collectorBinary();
  if (!bin) throw new Error('reference Collector binary not found (run scripts/build-collector.sh)');
  try {
    const out = execFileSync(bin, ['validate', `--config=${file}`], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return { ok: true, output: out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

/**
 * Read the `file` exporter's output (one OTLP/JSON `ExportLogsServiceRequest` per
 * line) and return the parsed lines; missing file = [].
 */
export function readFileExporterOutput(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
