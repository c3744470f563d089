/**
 * runWorkers(): cluster workers share TCP and UDP listeners, the primary forwards
 * SIGTERM and aggregates exits, start failures and crashes stop everything with
 * exit code 1. Each case runs a small fixture app in a child node process (cluster
 * forks re-run the app, so it must be plain JS: src/workers.ts is transpiled for it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../../helpers/paths.js';

let dir: string;
let app: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-workers-'));
  const src = readFileSync(path.join(repoRoot, 'src', 'workers.ts'), 'utf8');
  const js = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  }).outputText;
  writeFileSync(path.join(dir, 'workers.mjs'), js);
  app = path.join(dir, 'app.mjs');
  copyFileSync(path.join(repoRoot, 'test', 'unit', 'workers', 'cluster-app.fixture.mjs'), app);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface App {
  child: ChildProcess;
  lines: string[];
  waitFor(pred: (l: string) => boolean, timeoutMs?: number): Promise<string>;
  exit: Promise<number | null>;
}

function runApp(env: Record<string, string>): App {
  const child = spawn(process.execPath, [app], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.on('data', () => {});
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    lines,
    exit,
    waitFor(pred, timeoutMs = 10_000) {
      const hit = lines.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timeout; output so far:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
  };
}

async function tcpHello(port: number): Promise<string> {
  const s = connect({ host: '127.0.0.1', port });
  let data = '';
  s.on('data', (d: Buffer) => (data += d.toString()));
  await once(s, 'close');
  return data.trim();
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

describe('runWorkers', () => {
  it('two workers share one TCP port; SIGTERM stops both and the primary exits 0', async () => {
    const port = await freePort();
    const a = runApp({ WORKERS: '2', TCP_PORT: String(port) });
    try {
      await a.waitFor((l) => l === 'ready primary');
      const pids = new Set<string>();
      for (let i = 0; i < 8; i++) pids.add((await tcpHello(port)).split(' ')[1]!);
      // Round-robin hands connections to both workers; neither is the primary.
      expect(pids.size).toBe(2);
      expect(pids.has(String(a.child.pid))).toBe(false);
      a.child.kill('SIGTERM');
      expect(await withTimeout(a.exit, 10_000)).toBe(0);
      expect(a.lines).toEqual(expect.arrayContaining(['stopped 0', 'stopped 1', 'exit 0']));
    } finally {
      a.child.kill('SIGKILL');
    }
  });

  it('SIGHUP to the primary is relayed to every worker, which keep running', async () => {
    const port = await freePort();
    const a = runApp({ WORKERS: '2', TCP_PORT: String(port) });
    try {
      await a.waitFor((l) => l === 'ready primary');
      a.child.kill('SIGHUP');
      await a.waitFor((l) => l === 'hup 0');
      await a.waitFor((l) => l === 'hup 1');
      expect((await tcpHello(port)).length).toBeGreaterThan(0);
      a.child.kill('SIGTERM');
      expect(await withTimeout(a.exit, 10_000)).toBe(0);
    } finally {
      a.child.kill('SIGKILL');
    }
  });

  it('two workers share one UDP port and every datagram is received once', async () => {
    const port = await freePort();
    const udpPort = await freePort();
    const a = runApp({ WORKERS: '2', TCP_PORT: String(port), UDP_PORT: String(udpPort) });
    try {
      await a.waitFor((l) => l === 'ready primary');
      const sock = createSocket('udp4');
      const n = 50;
      for (let i = 0; i < n; i++) {
        sock.send(`d${i}`, udpPort, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 2));
      }
      await a.waitFor(() => a.lines.filter((l) => l.startsWith('udp ')).length >= n);
      sock.close();
      const got = a.lines.filter((l) => l.startsWith('udp ')).map((l) => l.split(' ')[2]);
      expect(new Set(got).size).toBe(n);
      expect(got.length).toBe(n);
      a.child.kill('SIGTERM');
      expect(await withTimeout(a.exit, 10_000)).toBe(0);
    } finally {
      a.child.kill('SIGKILL');
    }
  });

  it('a worker that fails to start stops the others; the primary exits 1', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const a = runApp({ WORKERS: '2', TCP_PORT: String(port), FAIL_WORKER: '1', BOOT_DELAY_WORKER: '0', STOP_TIMEOUT_MS: '30000' });
    try {
      expect(await withTimeout(a.exit, 25_000)).toBe(1);
      // Worker 0 boots slowly, so the stop reaches it before it listens; it must still stop
      // as soon as it is up, not when the 30 s kill timer fires.
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(a.lines).toContain('stopped 0');
      expect(a.lines.some((l) => l.startsWith('start-failed -1 worker 1 failed to start: boom in 1'))).toBe(true);
      expect(a.lines).not.toContain('ready primary');
    } finally {
      a.child.kill('SIGKILL');
    }
  });

  it('a worker that crashes makes the primary stop the others and exit 1', async () => {
    const port = await freePort();
    const a = runApp({ WORKERS: '2', TCP_PORT: String(port), CRASH_WORKER: '0' });
    try {
      await a.waitFor((l) => l === 'ready primary');
      const pid = Number((await a.waitFor((l) => l.startsWith('worker-ready 0 '))).split(' ')[2]);
      process.kill(pid, 'SIGUSR2');
      expect(await withTimeout(a.exit, 15_000)).toBe(1);
      expect(a.lines).toContain('stopped 1');
      expect(a.lines).toContain('exit 1');
    } finally {
      a.child.kill('SIGKILL');
    }
  });

  it('count 1 runs in this process and stops on SIGTERM', async () => {
    const port = await freePort();
    const a = runApp({ WORKERS: '1', TCP_PORT: String(port) });
    try {
      await a.waitFor((l) => l === 'ready single');
      const [, pid] = (await tcpHello(port)).split(' ');
      expect(pid).toBe(String(a.child.pid));
      a.child.kill('SIGTERM');
      expect(await withTimeout(a.exit, 10_000)).toBe(0);
      expect(a.lines).toContain('stopped -1');
    } finally {
      a.child.kill('SIGKILL');
    }
  });

  it('rejects a non-positive worker count', async () => {
    const { runWorkers } = await import('../../../src/workers.js');
    await expect(runWorkers({ count: 0, start: async () => ({ stop: async () => {} }) })).rejects.toThrow(RangeError);
  });
});
