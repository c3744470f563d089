/**
 * Microbenchmark of the UDP reader alone (`node dist/bench/udp-reader.js`): main-thread CPU per
 * datagram of `UdpInput` into a frame sink that only copies the frames out (as the threaded
 * pipeline's batcher does), with the paced C sender (bench/udp-sender.c) on loopback. `--bare`
 * measures a dgram socket whose 'message' listener only counts: Node's own floor (`--bare-handle`:
 * the same with Node's internal per-datagram callback replaced, to price the event emit).
 * `--module DIR` loads UdpInput and Metrics from another build (e.g. /work/main/dist) to compare.
 *
 * Flags: --rate R (default 100000), --count N (default 300000), --bare, --module DIR.
 */
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeLinesFile } from './e2e/generate-lines.js';
import { ticksPerSecond } from './e2e/proc-stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE_DIR = '/tmp/iptables-otel-bench';

function mainThreadSeconds(): number {
  const text = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond();
}

interface Reader {
  port: number;
  count(): number;
  stop(): Promise<void>;
}

async function bare(handle: boolean): Promise<Reader> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 64 << 20 });
  let n = 0;
  s.on('message', () => n++);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  // Node's internal callback, without the 'message' event: what the emit itself costs.
  if (handle) (s as unknown as { _handle: { onmessage: () => void } })._handle.onmessage = () => n++;
  return { port: s.address().port, count: () => n, stop: () => new Promise((r) => s.close(() => r())) };
}

async function input(dir: string): Promise<Reader> {
  const { createUdpInput } = (await import(pathToFileURL(path.join(dir, 'src/input/udp-input.js')).href)) as typeof import('../src/input/udp-input.js');
  const { UDP_INPUT_DEFAULTS } = (await import(pathToFileURL(path.join(dir, 'src/input/input-config.js')).href)) as typeof import('../src/input/input-config.js');
  const { Metrics } = (await import(pathToFileURL(path.join(dir, 'src/ops/metrics.js')).href)) as typeof import('../src/ops/metrics.js');
  const metrics = new Metrics();
  // Copies every frame into one buffer, like the batcher's append; keeps the contexts it is given.
  const buf = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let frames = 0;
  let ctxs = 0;
  const frameSink = {
    writable: true,
    offerFrames(fs: Buffer[]): boolean {
      ctxs++;
      for (const f of fs) {
        if (used + f.length > buf.length) used = 0;
        buf.set(f, used);
        used += f.length;
        frames++;
      }
      return true;
    },
    offerSpans: () => true,
    onDrain: () => {},
  };
  const inp = createUdpInput(
    { type: 'udp', ...UDP_INPUT_DEFAULTS, host: '127.0.0.1', port: 0, recvBufferSize: 64 << 20 },
    { decode: () => { throw new Error('unused'); }, sink: { writable: true, offer: () => true, onDrain: () => {} }, frameSink, metrics },
  );
  await inp.start();
  return {
    port: inp.address()!.port,
    count: () => frames,
    stop: async () => {
      await inp.stop();
      console.log(`offers: ${ctxs} (${(frames / Math.max(1, ctxs)).toFixed(1)} datagrams per offer)`);
    },
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (k: string, d: string): string => {
    const i = argv.indexOf(k);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
  };
  const rate = Number(get('--rate', '100000'));
  const count = Number(get('--count', '300000'));
  mkdirSync(BASE_DIR, { recursive: true });
  const bin = path.join(BASE_DIR, 'udp-sender');
  execFileSync('cc', ['-O2', '-o', bin, path.join(repoRoot, 'bench', 'udp-sender.c')]);
  const lines = path.join(BASE_DIR, `lines-${count}-seed42.txt`);
  await writeLinesFile(lines, count);
  const r = argv.includes('--bare') || argv.includes('--bare-handle') ? await bare(argv.includes('--bare-handle')) : await input(get('--module', path.join(repoRoot, 'dist')));
  const c0 = mainThreadSeconds();
  const p0 = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, ['127.0.0.1', String(r.port), String(rate), String(count), lines], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
  // Let the reader empty the socket.
  let last = -1;
  while (r.count() !== last) {
    last = r.count();
    await new Promise((res) => setTimeout(res, 200));
  }
  const main = mainThreadSeconds() - c0;
  const p = process.cpuUsage(p0);
  const n = r.count();
  await r.stop();
  console.log(
    `read ${n}/${count} datagrams at ${rate}/s: main thread ${((main / n) * 1e6).toFixed(2)} µs/datagram, process ${(((p.user + p.system) / n)).toFixed(2)} µs/datagram`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
