/**
 * The partial-frame budget measured where it matters: the resident memory of a process
 * whose TCP input holds thousands of connections that each sent a 65,000-byte frame
 * without its newline. The input runs in a child (built from dist) once with a 16 MiB
 * budget and once without one; the budget must keep most of that memory out.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/paths.js';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { ensureBuilt } from '../service/service-process.js';

const CONNECTIONS = 2000;
const FRAME = 65_000;

function softNofile(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}
// This process and the child each hold one descriptor per connection.
const fdReq = requirement(softNofile() >= CONNECTIONS + 500, `ulimit -n is ${softNofile()}; this test needs >= ${CONNECTIONS + 500}`);

const dist = (p: string): string => pathToFileURL(path.join(repoRoot, 'dist', 'src', p)).href;

const childScript = `
import { createTcpInput } from ${JSON.stringify(dist('input/tcp-input.js'))};
import { createPartialFrameBudget } from ${JSON.stringify(dist('input/partial-frame-budget.js'))};
import { Metrics } from ${JSON.stringify(dist('ops/metrics.js'))};
import readline from 'node:readline';
const metrics = new Metrics();
const budget = createPartialFrameBudget({ maxBytes: Number(process.argv[1]) }, metrics);
const sink = { writable: true, offer: () => true, onDrain() {} };
const input = createTcpInput(
  { type: 'tcp', host: '127.0.0.1', port: 0, framing: 'lf', maxFrameSize: 65536, maxConnections: 0, idleTimeoutMs: 0 },
  { decode: () => ({}), sink, metrics, partialFrames: budget },
);
await input.start();
console.log(JSON.stringify({ port: input.address().port }));
readline.createInterface({ input: process.stdin }).on('line', () => {
  globalThis.gc?.();
  console.log(JSON.stringify({ rss: process.memoryUsage().rss, held: budget.total, connections: input.connectionCount }));
});
`;

interface Child {
  proc: ChildProcess;
  port: number;
  ask(): Promise<{ rss: number; held: number; connections: number }>;
}

function startChild(maxBytes: number): Promise<Child> {
  const proc = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', childScript, String(maxBytes)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiters: Array<(v: unknown) => void> = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiters.shift()?.(JSON.parse(line));
    }
  });
  const next = (): Promise<unknown> => new Promise((r) => waiters.push(r));
  return next().then((first) => ({
    proc,
    port: (first as { port: number }).port,
    ask: () => {
      const p = next();
      proc.stdin!.write('\n');
      return p as Promise<{ rss: number; held: number; connections: number }>;
    },
  }));
}

const sockets: net.Socket[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) c.kill();
});

async function measure(maxBytes: number): Promise<{ base: number; loaded: number; held: number }> {
  const child = await startChild(maxBytes);
  children.push(child.proc);
  const base = (await child.ask()).rss;
  const body = Buffer.alloc(FRAME, 'x');
  for (let i = 0; i < CONNECTIONS; i++) {
    const s = net.connect(child.port, '127.0.0.1');
    s.on('error', () => {});
    s.write(body);
    sockets.push(s);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
  // Until every connection is read (or paused) and the budget's stall cuts have run.
  let last = -1;
  for (let t = 0; t < 60; t++) {
    await new Promise((r) => setTimeout(r, 500));
    const s = await child.ask();
    if (s.connections === CONNECTIONS && s.held === last) break;
    last = s.held;
  }
  const end = await child.ask();
  for (const s of sockets.splice(0)) s.destroy();
  child.proc.kill();
  return { base, loaded: end.rss, held: end.held };
}

describe.skipIf(!shouldRun(fdReq))('partial-frame budget: resident memory', () => {
  it(`${CONNECTIONS} connections × ${FRAME}-byte partial frames: a 16 MiB budget keeps the memory out`, async () => {
    assertRequirement(fdReq);
    ensureBuilt();
    const budget = 16 * 1024 * 1024;
    const without = await measure(0);
    const withBudget = await measure(budget);
    const grew = (m: { base: number; loaded: number }): number => Math.round((m.loaded - m.base) / 2 ** 20);
    console.log(`partial frames: without budget held ${Math.round(without.held / 2 ** 20)} MiB, RSS +${grew(without)} MiB; with 16 MiB budget held ${Math.round(withBudget.held / 2 ** 20)} MiB, RSS +${grew(withBudget)} MiB`);
    expect(without.held).toBe(CONNECTIONS * FRAME);
    expect(withBudget.held).toBeLessThanOrEqual(2 * budget);
    // Without the budget the partials alone are 124 MiB; with it, at most 32 MiB are held. RSS
    // also carries socket read buffers not yet collected, so allow for that (measured: 64-76 MiB
    // against 148-155 MiB).
    expect(withBudget.loaded - withBudget.base).toBeLessThan(((without.loaded - without.base) * 2) / 3);
  }, 600_000);
});
