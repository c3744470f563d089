/**
 * `node dist/bench/file-input.js`: the file input's throughput. One kern.log-style file of N
 * iptables lines (default 1M, the traditional file format without PRI, as rsyslog writes
 * /var/log/kern.log) is read from its beginning by
 *
 * - iptables-otel, `--input file://...?startAt=beginning`, worker threads, OTLP/HTTP protobuf into
 *   the counting sink (checkpoints on, so the acknowledgement path is part of the cost), and
 * - rsyslog imfile (inotify mode) -> mmnormalize v2-iptables -> omfile JSON, the same rulebase and
 *   output as the network bench's rsyslog row,
 *
 * each timed from the first record delivered to the last (process start-up is not counted), with
 * the CPU seconds of its whole process tree over the run. Rounds alternate the two systems.
 *
 * Flags: --lines N (default 1000000), --runs R (default 3), --only iptables-otel|rsyslog-imfile.
 * Prints a Markdown table (and JSON with --json).
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FileLineCounter, countOccurrences } from './e2e/file-line-counter.js';
import { writeLinesFile } from './e2e/generate-lines.js';
import { startOtlpCountSink, type OtlpCountSink } from './e2e/otlp-count-sink.js';
import { cpuSeconds, peakRssMiB, processTree } from './e2e/proc-stats.js';
import { freePort, hasCommandOnPath, startDaemon, type Daemon } from './e2e/spawn-util.js';
import { median } from './e2e/report.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Args {
  lines: number;
  runs: number;
  only?: Set<string>;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { lines: 1_000_000, runs: 3, json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--lines' && v) (a.lines = Number(v)), i++;
    else if (k === '--runs' && v) (a.runs = Number(v)), i++;
    else if (k === '--only' && v) (a.only = new Set(v.split(','))), i++;
    else if (k === '--json') a.json = true;
    else throw new Error(`unknown argument ${k} (flags: --lines N --runs R --only iptables-otel,rsyslog-imfile --json)`);
  }
  if (!Number.isInteger(a.lines) || a.lines < 1000) throw new Error('--lines must be an integer >= 1000');
  if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 9) throw new Error('--runs must be 1..9');
  return a;
}

/** The bench's forward-format lines (`<PRI>Mmm dd ...`) without PRI: how they sit in kern.log. */
async function writeKernLog(file: string, lines: number): Promise<void> {
  if (existsSync(file)) return;
  const forward = `${file}.forward`;
  await writeLinesFile(forward, lines);
  const out = createWriteStream(`${file}.tmp`);
  const rl = createInterface({ input: createReadStream(forward), crlfDelay: Infinity });
  let chunk: string[] = [];
  for await (const line of rl) {
    chunk.push(line.replace(/^<\d+>/, ''));
    if (chunk.length === 4096) {
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(chunk.join('\n') + '\n');
  out.end();
  await once(out, 'finish');
  rmSync(forward, { force: true });
  const { renameSync } = await import('node:fs');
  renameSync(`${file}.tmp`, file);
}

/** One run's figures. */
interface Run {
  seconds: number;
  cpu: number;
  rssMiB: number;
  parsed: number;
}

/** Poll `delivered()` until it reaches `n`; returns first and last delivery times (ms). */
async function timeDelivery(n: number, delivered: () => number, lastAt: () => number, daemon: Daemon, timeoutMs: number): Promise<{ first: number; last: number }> {
  const deadline = Date.now() + timeoutMs;
  let first = 0;
  for (;;) {
    const got = delivered();
    if (got > 0 && first === 0) first = Date.now();
    if (got >= n) return { first, last: lastAt() };
    if (daemon.child.exitCode !== null) throw new Error(`exited early:\n${daemon.logTail()}`);
    if (Date.now() > deadline) throw new Error(`only ${got} of ${n} delivered after ${timeoutMs} ms:\n${daemon.logTail()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runIptablesOtel(dir: string, file: string, lines: number, sink: OtlpCountSink): Promise<Run> {
  sink.reset();
  const ops = await freePort();
  const state = path.join(dir, 'state');
  rmSync(state, { recursive: true, force: true });
  const args = [
    path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'),
    '--input',
    `file://${file}?startAt=beginning`,
    '--output',
    'otlp',
    '--threads',
    'auto',
    '--state-dir',
    state,
    '--ops-address',
    `127.0.0.1:${ops}`,
    '--log-level',
    'warn',
  ];
  const d = startDaemon(process.execPath, args, path.join(dir, 'iptables-otel.log'), { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}` });
  try {
    const t = await timeDelivery(lines, () => sink.counts.records, () => sink.counts.lastRecordAt, d, 600_000);
    const pids = processTree(d.child.pid!);
    return { seconds: (t.last - t.first) / 1000, cpu: cpuSeconds(pids), rssMiB: peakRssMiB(pids), parsed: lines - (sink.counts.withKey['error.type'] ?? 0) };
  } finally {
    await d.stop();
  }
}

async function runRsyslogImfile(dir: string, file: string, lines: number): Promise<Run> {
  const work = path.join(dir, 'rs-work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const out = path.join(dir, 'rs-out.json');
  rmSync(out, { force: true });
  const rb = path.join(dir, 'iptables.rb');
  writeFileSync(rb, 'version=2\nrule=iptables:%prefix:string-to{"extradata":"IN="}%%fw:v2-iptables%\nrule=iptables-noprefix:%fw:v2-iptables%\n');
  const conf = path.join(dir, 'rsyslog-imfile.conf');
  // imfile reads the line (timestamp and host included) as the message: mmnormalize then skips
  // everything up to IN= as the prefix, as for the network row's forwarded lines.
  writeFileSync(
    conf,
    `global(workDirectory="${work}")
module(load="imfile" mode="inotify")
module(load="mmnormalize")
template(name="fwjson" type="string"
  string="{\\"ts\\":\\"%timereported:::date-rfc3339%\\",\\"host\\":\\"%hostname%\\",\\"tag\\":\\"%programname%\\",\\"ev\\":%$!all-json%}\\n")
input(type="imfile" File="${file}" Tag="kernel:" ruleset="fw" freshStartTail="off" MaxLinesAtOnce="0")
ruleset(name="fw") {
  action(type="mmnormalize" rulebase="${rb}")
  action(type="omfile" file="${out}" template="fwjson" asyncWriting="on" ioBufferSize="256k" flushInterval="1")
}
`,
  );
  const d = startDaemon('rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'rs.pid')], path.join(dir, 'rsyslog.log'));
  const counter = new FileLineCounter(out);
  try {
    const t = await timeDelivery(lines, () => counter.poll(), () => counter.mtimeMs(), d, 600_000);
    const pids = processTree(d.child.pid!);
    return { seconds: (t.last - t.first) / 1000, cpu: cpuSeconds(pids), rssMiB: peakRssMiB(pids), parsed: lines - countOccurrences(out, '"unparsed-data"') };
  } finally {
    counter.close();
    await d.stop();
    rmSync(out, { force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-bench-file-'));
  const cache = path.join(tmpdir(), 'iptables-otel-bench');
  mkdirSync(cache, { recursive: true });
  const file = path.join(cache, `kern-${args.lines}-42.log`);
  await writeKernLog(file, args.lines);
  const sink = await startOtlpCountSink();
  const rows: Record<string, Run[]> = {};
  const systems: Array<[string, () => Promise<Run>]> = [
    ['iptables-otel', () => runIptablesOtel(dir, file, args.lines, sink)],
    ['rsyslog-imfile', () => runRsyslogImfile(dir, file, args.lines)],
  ];
  try {
    for (let r = 0; r < args.runs; r++) {
      for (const [id, fn] of systems) {
        if (args.only !== undefined && !args.only.has(id)) continue;
        if (id === 'rsyslog-imfile' && !hasCommandOnPath('rsyslogd')) continue;
        const result = await fn();
        (rows[id] ??= []).push(result);
        process.stderr.write(`${id} run ${r + 1}: ${(args.lines / result.seconds).toFixed(0)} lines/s, ${result.cpu.toFixed(2)} CPU s\n`);
      }
    }
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const table = [
    `File input, ${args.lines.toLocaleString('en')} lines read from the beginning of one kern.log (median of ${args.runs}):`,
    '',
    '| system | lines/s | CPU s | CPU µs/line | peak RSS MiB | parsed fully |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [id, runs] of Object.entries(rows)) {
    const s = median(runs.map((x) => x.seconds));
    const cpu = median(runs.map((x) => x.cpu));
    table.push(
      `| ${id === 'iptables-otel' ? 'iptables-otel file input (--threads auto, OTLP protobuf)' : 'rsyslog imfile + mmnormalize -> omfile JSON'} | ${Math.round(args.lines / s).toLocaleString('en')} | ${cpu.toFixed(2)} | ${((cpu / args.lines) * 1e6).toFixed(2)} | ${median(runs.map((x) => x.rssMiB)).toFixed(0)} | ${median(runs.map((x) => x.parsed)).toLocaleString('en')} |`,
    );
  }
  process.stdout.write(table.join('\n') + '\n');
  if (args.json) process.stdout.write(JSON.stringify(rows) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
