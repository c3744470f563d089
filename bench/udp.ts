/**
 * `npm run bench:udp` (and the UDP part of `npm run bench`): UDP loss side by side with
 * rsyslog's imudp + mmnormalize. A paced C sender (bench/udp-sender.c, built here with the
 * system's `cc`) sends bursts of `--count` datagrams (default 200,000; one generated iptables
 * line of ~245 B each) to each receiver at each rate, with each system's default receive buffer
 * and with 64 MiB buffers (net.core.rmem_max is raised for those runs and restored after).
 *
 * Each row: datagrams sent and delivered (records acknowledged by the OTLP count sink for
 * iptables-otel, lines of rsyslog's output file), the loss and where it happened (kernel: the
 * socket's `drops` in /proc/net/udp, i.e. receive buffer full; application: the rest), the
 * reader thread's CPU per datagram read (iptables-otel's main thread, rsyslog's `imudp(w0)`
 * thread; utime+stime from /proc/PID/task/TID/stat), the whole process's CPU per datagram, peak
 * RSS and, for iptables-otel, the longest event-loop stall it reported on /metrics.
 *
 * Flags: --count N, --rates 20000,50000,..., --buffers default,64m, --only id,id, --no-doc,
 * --warmup N (datagrams sent at 20k/s and delivered before each timed burst, default 20000).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { countOccurrences, FileLineCounter } from './e2e/file-line-counter.js';
import { writeLinesFile } from './e2e/generate-lines.js';
import { startOtlpCountSink, type OtlpCountSink } from './e2e/otlp-count-sink.js';
import { cpuSeconds, peakRssMiB, processTree, ticksPerSecond } from './e2e/proc-stats.js';
import { writeDocSection } from './e2e/report.js';
import { freePort, hasCommandOnPath, startDaemon, waitForTcp, type Daemon } from './e2e/spawn-util.js';
import { iptablesOtelMain } from './e2e/systems.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE_DIR = '/tmp/iptables-otel-bench';
const RMEM_MAX = '/proc/sys/net/core/rmem_max';
const BIG_BUFFER = 64 * 1024 * 1024;
const POLL_MS = 50;
/** A run ends when nothing more arrived for this long after the sender finished and the kernel queue is empty. */
const QUIET_MS = 5_000;
const STARTUP_MS = 20_000;

/** Buffer mode of a run: each system's default, or 64 MiB for every system. */
export type BufferMode = 'default' | '64m';

interface Args {
  count: number;
  rates: number[];
  buffers: BufferMode[];
  only?: Set<string>;
  doc: boolean;
  warmup: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { count: 200_000, rates: [20_000, 50_000, 100_000, 150_000, 200_000], buffers: ['default', '64m'], doc: true, warmup: 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--count' && v) (a.count = Number(v)), i++;
    else if (k === '--rates' && v) (a.rates = v.split(',').map(Number)), i++;
    else if (k === '--buffers' && v) (a.buffers = v.split(',') as BufferMode[]), i++;
    else if (k === '--only' && v) (a.only = new Set(v.split(','))), i++;
    else if (k === '--warmup' && v) (a.warmup = Number(v)), i++;
    else if (k === '--no-doc') a.doc = false;
    else throw new Error(`unknown argument ${k} (flags: --count N --rates R,R --buffers default,64m --only id,id --warmup N --no-doc)`);
  }
  if (!Number.isInteger(a.count) || a.count < 1000) throw new Error('--count must be an integer >= 1000');
  if (a.rates.some((r) => !(r > 0))) throw new Error('--rates must be positive numbers');
  if (a.buffers.some((b) => b !== 'default' && b !== '64m')) throw new Error('--buffers: default and/or 64m');
  return a;
}

/** A UDP receiver under test, started. */
interface UdpReceiver {
  port: number;
  pid: number;
  /** Records delivered so far. */
  delivered(): number;
  /** The reader thread's id (for its CPU), looked up after start. */
  readerTid(): number | undefined;
  /** iptables-otel's main thread (which also handles what the reader thread read), if not the reader. */
  mainTid?(): number;
  /** Extra facts read at the end of a run (iptables-otel: its /metrics). */
  facts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
  logTail(): string;
}

interface UdpSystem {
  id: string;
  label: string;
  unavailable(): string | undefined;
  start(dir: string, sink: OtlpCountSink, buffer: BufferMode): Promise<UdpReceiver>;
}

/** One socket line of /proc/net/udp for a local port: receive queue bytes and drops. */
function procUdp(port: number): { rxQueue: number; drops: number } | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    // Every socket on the port: iptables-otel's listener and its sender sockets (one per busy sender).
    let found: { rxQueue: number; drops: number } | undefined;
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13 || !f[1]!.endsWith(hex)) continue;
      found ??= { rxQueue: 0, drops: 0 };
      found.rxQueue += Number.parseInt(f[4]!.split(':')[1]!, 16);
      found.drops += Number(f[12]);
    }
    if (found !== undefined) return found;
  }
  return undefined;
}

async function waitForUdp(port: number, daemon: Daemon): Promise<void> {
  const end = Date.now() + STARTUP_MS;
  while (procUdp(port) === undefined) {
    if (daemon.child.exitCode !== null) throw new Error(`exited: ${daemon.logTail()}`);
    if (Date.now() > end) throw new Error(`no UDP socket on port ${port} after ${STARTUP_MS} ms: ${daemon.logTail()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function threadTicks(pid: number, tid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

/** Nanoseconds a thread waited on a run queue for a CPU (/proc/.../schedstat, field 2), if readable. */
function threadRunQueueWaitNs(pid: number, tid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The thread id iptables-otel's UDP reader thread logged at start ("udp reader thread started"). */
function readerThreadId(logFile: string): number | undefined {
  try {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.includes('udp reader thread started')) continue;
      const tid = (JSON.parse(line) as { tid?: number }).tid;
      if (typeof tid === 'number') return tid;
    }
  } catch {
    // no log yet
  }
  return undefined;
}

function threadByName(pid: number, part: string): number | undefined {
  try {
    for (const tid of execFileSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      if (comm.includes(part)) return Number(tid);
    }
  } catch {
    // gone
  }
  return undefined;
}

/** Gauges and counters of iptables-otel's /metrics that the table shows. */
async function scrape(opsPort: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^(iptables_otel_(?:dropped_total|event_loop_delay_max_seconds|received_total)(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
  } catch {
    // not reachable: no facts
  }
  return out;
}

/** iptables-otel with `--threads threads`; the spool is on with worker threads unless `spool` is false. */
function iptablesOtelUdp(threads: string, spool = threads !== '0'): UdpSystem {
  return {
    id: (threads === '0' ? 'iptables-otel-threads-0' : `iptables-otel-threads-${threads}`) + (spool || threads === '0' ? '' : '-no-spool'),
    label: threads === '0' ? 'iptables-otel `threads: 0`' : `iptables-otel (threads ${threads}${spool ? '' : ', --no-spool'})`,
    unavailable: () => (existsSync(iptablesOtelMain(repoRoot)) ? undefined : 'dist/src/cli/main.js not built yet'),
    async start(dir, sink, buffer) {
      const port = await freePort();
      const opsPort = await freePort();
      const conf = path.join(dir, 'iptables-otel.yaml');
      // The default mode leaves recvBufferSize out: the row shows the shipped default.
      writeFileSync(conf, `inputs:\n  - udp:\n      host: 127.0.0.1\n      port: ${port}\n${buffer === '64m' ? `      recvBufferSize: ${BIG_BUFFER}\n` : ''}`);
      const args = [iptablesOtelMain(repoRoot), '--config', conf, '--output', 'otlp', '--ops-address', `127.0.0.1:${opsPort}`, '--log-level', 'info', '--threads', threads];
      if (spool) args.push('--spool-dir', path.join(dir, 'spool'));
      else if (threads !== '0') args.push('--no-spool');
      const extra = process.env.IPTABLES_OTEL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      const d = startDaemon(process.execPath, [...extra, ...args], path.join(dir, 'iptables-otel.log'), { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}` });
      try {
        await waitForUdp(port, d);
        await waitForTcp(opsPort, STARTUP_MS, d.child);
      } catch (e) {
        await d.stop();
        throw e;
      }
      const pid = d.child.pid!;
      const log = path.join(dir, 'iptables-otel.log');
      return {
        port,
        pid,
        delivered: () => sink.counts.records,
        // The UDP reader thread logs its thread id at start; without it (threads off) the main thread reads.
        readerTid: () => readerThreadId(log) ?? pid,
        mainTid: () => pid,
        facts: () => scrape(opsPort),
        stop: () => d.stop(),
        logTail: () => d.logTail(),
      };
    },
  };
}

/** rsyslog 8: imudp + mmnormalize (liblognorm v2-iptables) -> omfile JSON, as in the TCP bench. */
const rsyslogUdp: UdpSystem = {
  id: 'rsyslog',
  label: 'rsyslog imudp + mmnormalize',
  unavailable: () => (hasCommandOnPath('rsyslogd') ? undefined : 'rsyslogd not installed'),
  async start(dir, _sink, buffer) {
    const port = await freePort();
    const work = path.join(dir, 'rs-work');
    const out = path.join(dir, 'rs-out.json');
    const rb = path.join(dir, 'iptables.rb');
    const conf = path.join(dir, 'rsyslog.conf');
    writeFileSync(rb, 'version=2\nrule=iptables:%prefix:string-to{"extradata":"IN="}%%fw:v2-iptables%\nrule=iptables-noprefix:%fw:v2-iptables%\n');
    // rcvbufSize: rsyslog running as root uses SO_RCVBUFFORCE, so rmem_max does not cap it.
    writeFileSync(
      conf,
      `global(workDirectory="${work}")
module(load="imudp")
module(load="mmnormalize")
template(name="fwjson" type="string"
  string="{\\"ts\\":\\"%timereported:::date-rfc3339%\\",\\"host\\":\\"%hostname%\\",\\"tag\\":\\"%programname%\\",\\"ev\\":%$!all-json%}\\n")
input(type="imudp" address="127.0.0.1" port="${port}" ruleset="fw"${buffer === '64m' ? ' rcvbufSize="64m"' : ''})
ruleset(name="fw") {
  action(type="mmnormalize" rulebase="${rb}")
  action(type="omfile" file="${out}" template="fwjson" asyncWriting="on" ioBufferSize="256k" flushInterval="1")
}
`,
    );
    mkdirSync(work, { recursive: true });
    const d = startDaemon('rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'rs.pid')], path.join(dir, 'rsyslog.log'));
    try {
      await waitForUdp(port, d);
    } catch (e) {
      await d.stop();
      throw new Error(`rsyslog did not start: ${(e as Error).message}`);
    }
    const counter = new FileLineCounter(out);
    const pid = d.child.pid!;
    return {
      port,
      pid,
      delivered: () => counter.poll(),
      // imudp's reader is `imudp(w0)` (rsyslog 8.2x; `in:imudp` in older versions).
      readerTid: () => threadByName(pid, 'imudp'),
      facts: async () => ({ unparsed: countOccurrences(out, '"unparsed-data"') }),
      async stop() {
        counter.close();
        await d.stop();
        rmSync(out, { force: true });
      },
      logTail: () => d.logTail(),
    };
  },
};

/** One burst's figures. */
export interface UdpRun {
  system: string;
  buffer: BufferMode;
  rate: number;
  sent: number;
  delivered: number;
  kernelDrops: number;
  /** Sent, not dropped by the kernel, not delivered: lost (or refused and counted) in the application. */
  appLoss: number;
  /** iptables-otel: what it counted itself over the burst (`dropped_total` other than udp_receive_buffer). */
  appCounted: number | undefined;
  readerUsPerDatagram: number | undefined;
  /** iptables-otel's main thread per datagram when a reader thread reads (batching, spool, hand-off). */
  mainUsPerDatagram?: number | undefined;
  /** Time the reader thread was runnable but waited for a CPU, over the burst and its drain (ms): starvation, not work. */
  readerWaitMs: number | undefined;
  processUsPerDatagram: number;
  peakRssMiB: number;
  /** iptables-otel: longest event-loop stall over the burst (ms), from /metrics. */
  maxStallMs: number | undefined;
  sendSeconds: number;
  error?: string;
}

function buildSender(): string {
  const src = path.join(repoRoot, 'bench', 'udp-sender.c');
  const bin = path.join(BASE_DIR, 'udp-sender');
  execFileSync('cc', ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' });
  return bin;
}

function send(bin: string, port: number, rate: number, count: number, lines: string): Promise<{ sent: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['127.0.0.1', String(port), String(rate), String(count), lines], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const m = /sent (\d+) seconds (\S+)/.exec(out);
      if (code !== 0 || !m) reject(new Error(`udp-sender exited ${code}: ${out}`));
      else resolve({ sent: Number(m[1]), seconds: Number(m[2]) });
    });
  });
}

/**
 * Wait until everything the kernel did not drop since `drops0` was delivered (`delivered0` +
 * `sent` - drops), or, after the socket's queue emptied, nothing more arrived for QUIET_MS.
 */
async function settle(r: UdpReceiver, delivered0: number, sent: number, drops0: number): Promise<number> {
  let last = -1;
  let since = Date.now();
  const hard = Date.now() + 120_000;
  for (;;) {
    await new Promise((res) => setTimeout(res, POLL_MS));
    const n = r.delivered();
    const now = Date.now();
    if (n !== last) (last = n), (since = now);
    const q = procUdp(r.port);
    const dropped = (q?.drops ?? drops0) - drops0;
    if (n - delivered0 >= sent - dropped) return n;
    if ((q === undefined || q.rxQueue === 0) && now - since > QUIET_MS) return n;
    if (now > hard) return n;
  }
}

/** The receiver running now, stopped on Ctrl-C. */
let active: UdpReceiver | undefined;

async function runOnce(sys: UdpSystem, buffer: BufferMode, rate: number, args: Args, bin: string, lines: string, warmLines: string, sink: OtlpCountSink): Promise<UdpRun> {
  const dir = mkdtempSync(path.join(BASE_DIR, `udp-${sys.id}-`));
  sink.reset();
  const r = await sys.start(dir, sink, buffer);
  active = r;
  const base: UdpRun = { system: sys.id, buffer, rate, sent: 0, delivered: 0, kernelDrops: 0, appLoss: 0, appCounted: undefined, readerUsPerDatagram: undefined, readerWaitMs: undefined, processUsPerDatagram: 0, peakRssMiB: 0, maxStallMs: undefined, sendSeconds: 0 };
  try {
    await new Promise((res) => setTimeout(res, 300));
    if (args.warmup > 0) {
      const wd0 = r.delivered();
      const wk0 = procUdp(r.port)?.drops ?? 0;
      const w = await send(bin, r.port, 20_000, args.warmup, warmLines);
      await settle(r, wd0, w.sent, wk0);
      await new Promise((res) => setTimeout(res, 300));
    }
    const facts0 = await r.facts(); // a scrape: the event-loop delay maximum now covers the burst only
    const d0 = r.delivered();
    const k0 = procUdp(r.port)?.drops ?? 0;
    const tid = r.readerTid();
    const mainTid = r.mainTid?.();
    const separateMain = mainTid !== undefined && mainTid !== tid;
    const m0 = separateMain ? threadTicks(r.pid, mainTid) : 0;
    const t0 = tid !== undefined ? threadTicks(r.pid, tid) : 0;
    const w0 = tid !== undefined ? threadRunQueueWaitNs(r.pid, tid) : undefined;
    const tree0 = processTree(r.pid);
    const c0 = cpuSeconds(tree0);
    const s = await send(bin, r.port, rate, args.count, lines);
    const delivered = (await settle(r, d0, s.sent, k0)) - d0;
    const k1 = procUdp(r.port)?.drops ?? k0;
    const t1 = tid !== undefined ? threadTicks(r.pid, tid) : 0;
    const m1 = separateMain ? threadTicks(r.pid, mainTid) : 0;
    const w1 = tid !== undefined ? threadRunQueueWaitNs(r.pid, tid) : undefined;
    const tree1 = [...new Set([...tree0, ...processTree(r.pid)])];
    const c1 = cpuSeconds(tree1);
    const facts = await r.facts();
    const kernelDrops = k1 - k0;
    const read = Math.max(1, s.sent - kernelDrops);
    const stall = facts['iptables_otel_event_loop_delay_max_seconds'];
    const counted = (f: Record<string, number>): number =>
      Object.entries(f)
        .filter(([k]) => k.startsWith('iptables_otel_dropped_total') && !k.includes('udp_receive_buffer'))
        .reduce((sum, [, v]) => sum + v, 0);
    return {
      ...base,
      sent: s.sent,
      delivered,
      kernelDrops,
      appLoss: Math.max(0, s.sent - kernelDrops - delivered),
      appCounted: stall !== undefined ? counted(facts) - counted(facts0) : undefined,
      readerUsPerDatagram: tid !== undefined ? (((t1 - t0) / ticksPerSecond()) * 1e6) / read : undefined,
      mainUsPerDatagram: separateMain ? (((m1 - m0) / ticksPerSecond()) * 1e6) / read : undefined,
      readerWaitMs: w0 !== undefined && w1 !== undefined ? (w1 - w0) / 1e6 : undefined,
      processUsPerDatagram: ((c1 - c0) * 1e6) / read,
      peakRssMiB: peakRssMiB(tree1),
      maxStallMs: stall !== undefined ? stall * 1000 : undefined,
      sendSeconds: s.seconds,
    };
  } catch (e) {
    return { ...base, error: `${(e as Error).message}: ${r.logTail().slice(-300)}` };
  } finally {
    active = undefined;
    await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (n: number, d: number): string => (d > 0 ? `${((100 * n) / d).toFixed(n > 0 && (100 * n) / d < 0.1 ? 3 : 1)} %` : '-');

/** The markdown table of a set of runs, rows by buffer mode, rate and system. */
export function renderUdpTable(runs: readonly UdpRun[]): string {
  const head = '| buffer | rate/s | system | sent | delivered | loss | kernel drops | app loss (counted by us) | reader µs/dgram | main µs/dgram | reader waited for CPU ms | process µs/dgram | peak RSS MiB | max stall ms |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = runs.map((r) =>
    r.error
      ? `| ${r.buffer} | ${r.rate / 1000}k | ${r.system} | FAILED: ${r.error.replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 160)} |||||||||||`
      : `| ${r.buffer} | ${r.rate / 1000}k | ${r.system} | ${r.sent} | ${r.delivered} | ${pct(r.sent - r.delivered, r.sent)} | ${r.kernelDrops} | ${r.appLoss}${r.appCounted !== undefined ? ` (${r.appCounted})` : ''} | ${r.readerUsPerDatagram?.toFixed(2) ?? '-'} | ${r.mainUsPerDatagram?.toFixed(2) ?? '-'} | ${r.readerWaitMs?.toFixed(0) ?? '-'} | ${r.processUsPerDatagram.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} | ${r.maxStallMs?.toFixed(0) ?? '-'} |`,
  );
  return `${head}\n${rows.join('\n')}`;
}

export const UDP_SYSTEMS: UdpSystem[] = [iptablesOtelUdp('auto'), iptablesOtelUdp('auto', false), iptablesOtelUdp('0'), rsyslogUdp];

/** Run the UDP benchmark; returns the markdown body of its docs section. */
export async function runUdpBench(argv: string[]): Promise<string> {
  const args = parseArgs(argv);
  mkdirSync(BASE_DIR, { recursive: true });
  const bin = buildSender();
  const lines = path.join(BASE_DIR, `lines-${args.count}-seed42.txt`);
  await writeLinesFile(lines, args.count);
  const warmLines = path.join(BASE_DIR, `lines-${Math.max(1000, args.warmup)}-seed7.txt`);
  await writeLinesFile(warmLines, Math.max(1000, args.warmup), 7);
  const wanted = UDP_SYSTEMS.filter((s) => !args.only || args.only.has(s.id));
  const systems = wanted.filter((s) => s.unavailable() === undefined);
  // A peer left out is said, on the console and in the doc: a table without rsyslog is not a comparison.
  const missing = wanted.filter((s) => s.unavailable() !== undefined).map((s) => `${s.id} (${s.unavailable()})`);
  if (missing.length > 0) console.error(`skipped: ${missing.join(', ')}`);
  const sink = await startOtlpCountSink([]);
  const runs: UdpRun[] = [];
  const load0 = loadavg()[0]!;
  const began = Date.now();
  const rmemBefore = readFileSync(RMEM_MAX, 'utf8').trim();
  // Ctrl-C must not leave the raised cap behind.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      writeFileSync(RMEM_MAX, rmemBefore);
      void (active?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  try {
    for (const buffer of args.buffers) {
      if (buffer === '64m') writeFileSync(RMEM_MAX, String(BIG_BUFFER));
      try {
        for (const rate of args.rates) {
          for (const sys of systems) {
            const r = await runOnce(sys, buffer, rate, args, bin, lines, warmLines, sink);
            runs.push(r);
            console.log(renderUdpTable([r]).split('\n')[2]);
          }
        }
      } finally {
        writeFileSync(RMEM_MAX, rmemBefore);
      }
    }
  } finally {
    await sink.close();
  }
  const load1 = loadavg()[0]!;
  const table = renderUdpTable(runs);
  const wall = ((Date.now() - began) / 1000).toFixed(0);
  console.log(`\n${table}\n\nload average ${load0.toFixed(2)} -> ${load1.toFixed(2)}, wall ${wall} s`);
  const cmd = `npm run bench:udp${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const body = `Latest run (\`${cmd}\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, on a shared
${cpus().length}-vCPU VM (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, 1-minute load average
${load0.toFixed(2)} before and ${load1.toFixed(2)} after (other work shared the machine): compare rows within this run.
${missing.length > 0 ? `\n**Not in this run:** ${missing.join(', ')}.\n` : ''}
${table}

How it is measured (bench/udp.ts, bench/udp-sender.c):

- Sender: a small C program built by the bench (\`cc -O2\`), \`sendmmsg\` in runs of at most 64, paced to the rate
  over the burst; bursts of ${args.count.toLocaleString('en-US')} datagrams, one generated iptables line each (~245 B,
  the TCP bench's mix), to 127.0.0.1. Before each burst ${args.warmup.toLocaleString('en-US')} other datagrams at 20k/s,
  delivered and not counted, warm the receiver up.
- Buffers: \`default\` is each system's own default (iptables-otel: \`recvBufferSize\` left out, so the shipped
  default asked of a kernel with net.core.rmem_max=${rmemBefore}; rsyslog: the kernel default, net.core.rmem_default);
  \`64m\` sets 64 MiB for both (\`recvBufferSize\`, imudp \`rcvbufSize="64m"\`) with net.core.rmem_max raised to
  ${BIG_BUFFER} for those runs and restored after.
- Delivered: records acknowledged by the harness's OTLP count sink (iptables-otel, OTLP/HTTP; the spool on with worker
  threads, its default, and off in the \`-no-spool\` rows) or lines in rsyslog's omfile output (imudp + mmnormalize \`v2-iptables\` -> JSON, as in the TCP bench). The
  burst is over when the socket's receive queue is empty and nothing more arrived for ${QUIET_MS / 1000} s.
- Kernel drops: the socket's \`drops\` column in /proc/net/udp (receive buffer full), before and after the burst.
  App loss: sent minus kernel drops minus delivered; in brackets, what iptables-otel counted itself over the burst
  (\`iptables_otel_dropped_total\` other than \`udp_receive_buffer\`, e.g. \`queue_full\` without the spool).
- Reader µs/dgram: CPU (utime+stime) of the thread that reads the socket -- iptables-otel's UDP reader thread (the
  thread id it logs at start; the main thread where there is none), rsyslog's \`imudp(w0)\` thread -- per datagram
  it read (sent minus kernel drops). Main µs/dgram: iptables-otel's main thread, which hands what the reader thread
  read on (batching, the spool append, posting to the workers) and reads senders not moved. Reader waited for CPU: the time that thread
  was runnable but waiting on a run queue (/proc/PID/task/TID/schedstat) from the burst's start to its end: CPU
  starvation by the machine's load, not work. Process µs/dgram: the whole process tree.
  Peak RSS: VmHWM. Max stall: \`iptables_otel_event_loop_delay_max_seconds\` from /metrics (the longest event-loop
  delay over the burst, from a scrape just before it to one after it).

Bench wall time: ${wall} s.`;
  if (args.doc) {
    writeDocSection(path.join(repoRoot, 'docs', 'performance.md'), 'UDP', body);
    console.log('\nwrote docs/performance.md (section "UDP")');
  }
  return body;
}

// Run directly (`node dist/bench/udp.js`), not when imported by bench/run.ts.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runUdpBench(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
