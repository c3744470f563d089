/**
 * Runs the built CLI (`dist/src/cli/main.js`) as a child process for the service
 * integration tests: builds first when dist is missing or older than src, writes the
 * config to a temp file, waits for the `started` log line, and exposes the bound ports,
 * the JSON log lines, stdout, /metrics and the child's RSS.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { repoRoot } from '../../helpers/paths.js';

export const mainJs = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds with tsc when dist/src/cli/main.js is missing or older than any file in src/. */
export function ensureBuilt(): void {
  if (existsSync(mainJs) && statSync(mainJs).mtimeMs >= newestMtime(path.join(repoRoot, 'src'))) return;
  try {
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
      cwd: repoRoot,
      stdio: 'pipe',
      timeout: 240_000,
    });
  } catch {
    // tsc exits non-zero for type errors in files under construction but still emits; main.js is what matters.
  }
  if (!existsSync(mainJs)) throw new Error('build failed: dist/src/cli/main.js missing');
}

export interface Listener {
  name: string;
  type: 'udp' | 'tcp' | 'tls' | 'relp';
  address: string;
  port: number;
}

export interface ServiceProcess {
  child: ChildProcess;
  dir: string;
  configFile: string;
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines from stderr. */
  logs(): Array<Record<string, unknown>>;
  listeners: Listener[];
  opsPort: number | undefined;
  port(type: 'udp' | 'tcp' | 'tls' | 'relp', index?: number): number;
  /** GET a path on the ops endpoint. */
  get(pathname: string): Promise<{ status: number; body: string }>;
  /** Value of one sample in /metrics (sum over label sets matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Resident set size of the child in bytes (Linux /proc). */
  rss(): number;
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Parses every `name{labels} value` line of a Prometheus exposition. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[3] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum += Number(m[4]);
  }
  return sum;
}

/** Starts `node dist/src/cli/main.js [args] --config FILE` with `yaml` as FILE (when given). */
export async function startServiceProcess(
  yaml: string | undefined,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; waitForStart?: boolean; timeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-svc-'));
  const configFile = path.join(dir, 'config.yaml');
  if (yaml !== undefined) writeFileSync(configFile, yaml);
  const fullArgs = [mainJs, ...(yaml !== undefined ? ['--config', configFile] : []), ...args];
  const child = spawn(process.execPath, fullArgs, {
    cwd: dir,
    // STATE_DIRECTORY: this test's own (test/setup/state-directory.ts), so spools are never shared.
    env: { STATE_DIRECTORY: process.env.STATE_DIRECTORY, ...(options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const logLines: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  child.stderr!.on('data', (d: string) => {
    err += d;
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON log line (config errors are plain text)
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  const waitForLog = async (pred: (l: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = logLines.find(pred);
      if (hit) return hit;
      if (child.exitCode !== null || Date.now() > end) throw new Error(`log line not seen (exit ${child.exitCode}); stderr:\n${err.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const proc: ServiceProcess = {
    child,
    dir,
    configFile,
    stdout: () => out,
    stderr: () => err,
    logs: () => logLines,
    listeners: [],
    opsPort: undefined,
    port(type, index = 0) {
      const l = proc.listeners.filter((x) => x.type === type)[index];
      if (!l) throw new Error(`no ${type} listener #${index}`);
      return l.port;
    },
    get(pathname) {
      return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: proc.opsPort, path: pathname, agent: false, timeout: 5000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('ops request timed out')));
        req.end();
      });
    },
    async metric(name, labels) {
      return sumMetric((await proc.get('/metrics')).body, name, labels);
    },
    rss() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    },
    waitForLog,
    exited,
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  if (options.waitForStart !== false) {
    const started = await waitForLog((l) => l.msg === 'started', options.timeoutMs ?? 15_000);
    proc.listeners = started.listeners as Listener[];
    const ops = started.ops as { port: number } | 'off';
    proc.opsPort = ops === 'off' ? undefined : ops.port;
  }
  return proc;
}

/** Polls `fn` until it returns true (bounded). */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
