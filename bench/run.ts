/**
 * `npm run bench`: the side-by-side end-to-end benchmark. One input file of
 * iptables lines (rsyslog forward format, LF framed) is sent over TCP to each
 * system in turn -- iptables-otel (OTLP/HTTP into a counting sink), rsyslog,
 * syslog-ng and the OTel Collector's syslog receiver -- and each is timed from
 * the first byte sent to the last record written or acknowledged. Rounds are
 * interleaved (every system once per round) so drift on a shared machine hits
 * all systems alike; the table reports medians and ratios from the same run and
 * is written to docs/performance.md ("End to end").
 *
 * Every system first processes a warm-up of `--warmup` lines (default 100000, not timed): the
 * table is the steady state of a long-running daemon, not its first second (JIT compilation,
 * page faults and caches warming up; `--warmup 0` measures from a cold start).
 *
 * Flags: --lines N (default 1000000), --warmup W, --runs R (default 3), --only id,id,
 * --no-doc, --profile (one extra iptables-otel run under --cpu-prof, summarised),
 * --iot-config FILE (extra `--config` for the iptables-otel rows, for tuning experiments),
 * --iot-variant FILE,FILE (one more iptables-otel row per config file, interleaved
 * with the others, to compare settings under the same machine noise).
 *
 * The iptables-otel rows with worker threads run with the persistent spool on (the service's
 * default), each run in a fresh spool directory; extra rows run with `--no-spool` and with the
 * `batch` and `never` fsync policies (bench/e2e/systems.ts, `SpoolMode`).
 *
 * Then the UDP rows (bench/udp.ts, section "UDP"), unless `--no-udp`.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLinesFile } from './e2e/generate-lines.js';
import { startOtlpCountSink, type OtlpCountSink } from './e2e/otlp-count-sink.js';
import { cpuSeconds, diskWriteBytes, peakRssMiB, processTree } from './e2e/proc-stats.js';
import { measureSenderRate, sendFiles, senderName } from './e2e/send-file.js';
import {
  collectorSyslog,
  findCollector,
  iptablesOtel,
  iptablesOtelViaCollector,
  rsyslog,
  syslogNg,
  type StartedSystem,
  type SystemDef,
} from './e2e/systems.js';
import { renderParsedRules, renderTable, writeDocSection, type RunResult, type SystemResult } from './e2e/report.js';
import { formatProfileSummary, summariseProfile } from './e2e/cpu-profile-summary.js';
import { runUdpBench } from './udp.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Args {
  lines: number;
  warmup: number;
  runs: number;
  only?: Set<string>;
  doc: boolean;
  profile: boolean;
  iotConfig?: string;
  variants: string[];
  /** Also run the UDP rows (bench/udp.ts) after the TCP table; `--no-udp` skips them. */
  udp: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { lines: 1_000_000, warmup: 100_000, runs: 3, doc: true, profile: false, variants: [], udp: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--lines' && v) (a.lines = Number(v)), i++;
    else if (k === '--warmup' && v) (a.warmup = Number(v)), i++;
    else if (k === '--runs' && v) (a.runs = Number(v)), i++;
    else if (k === '--only' && v) (a.only = new Set(v.split(','))), i++;
    else if (k === '--no-doc') a.doc = false;
    else if (k === '--profile') a.profile = true;
    else if (k === '--no-udp') a.udp = false;
    else if (k === '--iot-config' && v) (a.iotConfig = path.resolve(v)), i++;
    else if (k === '--iot-variant' && v) a.variants.push(...v.split(',').map((f) => path.resolve(f))), i++;
    else throw new Error(`unknown argument ${k} (flags: --lines N --warmup W --runs R --only id,id --no-doc --profile --iot-config FILE --iot-variant FILE,FILE --no-udp)`);
  }
  if (!Number.isInteger(a.lines) || a.lines < 1000) throw new Error('--lines must be an integer >= 1000');
  if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 9) throw new Error('--runs must be 1..9');
  if (!Number.isInteger(a.warmup) || a.warmup < 0) throw new Error('--warmup must be an integer >= 0');
  return a;
}

/** The system under test right now, so Ctrl-C does not leave a daemon behind. */
let active: StartedSystem | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    const a = active;
    active = undefined;
    void (a ? a.stop() : Promise.resolve()).finally(() => process.exit(130));
  });
}

const POLL_MS = 20;
const PROFILE_LINES = 300_000;
/** A run fails when no record arrives for this long after the sender finished. */
const STALL_MS = 15_000;

/** A warm-up: `lines` lines that every system processes before the timed run. */
interface Warmup {
  files: Record<number, string[]>;
  lines: number;
}

async function runOnce(
  sys: SystemDef,
  files: Record<number, string[]>,
  lines: number,
  sink: OtlpCountSink,
  baseDir: string,
  warmup?: Warmup,
): Promise<RunResult> {
  const dir = mkdtempSync(path.join(baseDir, `${sys.id}-`));
  sink.reset();
  const started = await sys.start({ dir, sink, repoRoot });
  active = started;
  const empty: RunResult = {
    delivered: 0,
    seconds: 0,
    rate: 0,
    cpuSeconds: 0,
    peakRssMiB: 0,
    parsedFully: 0,
    harnessCpuSeconds: 0,
    complete: false,
  };
  try {
    // Let the process settle (worker start-up) before charging it CPU.
    await new Promise((r) => setTimeout(r, 300));
    if (warmup !== undefined && warmup.lines > 0) {
      await sendFiles(warmup.files[sys.connections]!, started.port);
      const end = Date.now() + STALL_MS * 4;
      while (started.progress() < warmup.lines) {
        if (Date.now() > end) throw new Error(`warm-up stalled at ${started.progress()}/${warmup.lines}: ${started.logTail().slice(-300)}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      // Quiet for a moment, so the timed run starts from an idle, warm system.
      await new Promise((r) => setTimeout(r, 300));
      started.markStart();
    }
    const tree0 = started.pids.flatMap((p) => processTree(p));
    const cpu0 = cpuSeconds(tree0);
    const disk0 = diskWriteBytes(tree0);
    const h0 = process.cpuUsage();
    const t0 = Date.now();
    let sendError: Error | undefined;
    let sent = false;
    const sending = sendFiles(files[sys.connections]!, started.port).then(
      () => (sent = true),
      (e: Error) => ((sendError = e), (sent = true)),
    );
    let last = 0;
    let lastChange = Date.now();
    const hardDeadline = t0 + Math.max(120_000, lines / 5); // >= 5k msg/s or give up
    let delivered = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      delivered = started.progress();
      const now = Date.now();
      if (delivered !== last) (last = delivered), (lastChange = now);
      if (delivered >= lines) break;
      if (sendError) break;
      if ((sent && now - lastChange > STALL_MS) || now > hardDeadline) break;
    }
    const tree1 = [...new Set([...tree0, ...started.pids.flatMap((p) => processTree(p))])];
    const cpu1 = cpuSeconds(tree1);
    const disk1 = diskWriteBytes(tree1);
    const rss = peakRssMiB(tree1);
    const h1 = process.cpuUsage(h0);
    await sending;
    const seconds = (started.lastRecordAt() - t0) / 1000;
    const complete = delivered >= lines && !sendError;
    return {
      delivered,
      seconds,
      rate: delivered / seconds,
      cpuSeconds: cpu1 - cpu0,
      peakRssMiB: rss,
      parsedFully: started.parsedFully(delivered),
      harnessCpuSeconds: (h1.user + h1.system) / 1e6,
      diskWriteBytes: disk1 - disk0,
      otlpBytes: sink.counts.bytes,
      complete,
      error: complete
        ? undefined
        : sendError
          ? `sender: ${sendError.message}`
          : `stalled at ${delivered}/${lines}: ${started.logTail().slice(-300)}`,
    };
  } catch (e) {
    return { ...empty, error: (e as Error).message };
  } finally {
    active = undefined;
    await started.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function profileIptablesOtel(lines: number, sink: OtlpCountSink, baseDir: string): Promise<string> {
  // A shorter run is enough for a stable profile and keeps the .cpuprofile small.
  lines = Math.min(lines, PROFILE_LINES);
  const input = path.join(baseDir, `lines-${lines}-seed42.txt`);
  await writeLinesFile(input, lines);
  const files: Record<number, string[]> = { 1: [input] };
  const profDir = mkdtempSync(path.join(baseDir, 'cpuprof-'));
  process.env.IPTABLES_OTEL_BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profDir}`;
  try {
    const r = await runOnce(iptablesOtel(repoRoot, 'auto'), files, lines, sink, baseDir);
    const profs = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (profs.length === 0) return `no .cpuprofile written (does the service exit cleanly on SIGTERM?) run: ${r.error ?? 'ok'}`;
    const summary = summariseProfile(path.join(profDir, profs[0]!));
    return `profile: ${path.join(profDir, profs[0]!)} (run under --cpu-prof: ${Math.round(r.rate)} msg/s)\n\n${formatProfileSummary(summary, r.delivered)}`;
  } finally {
    delete process.env.IPTABLES_OTEL_BENCH_NODE_ARGS;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.iotConfig) process.env.IPTABLES_OTEL_BENCH_CONFIG = args.iotConfig;
  const baseDir = '/tmp/iptables-otel-bench';
  mkdirSync(baseDir, { recursive: true });
  const input = path.join(baseDir, `lines-${args.lines}-seed42.txt`);
  const bytes = await writeLinesFile(input, args.lines);
  const files: Record<number, string[]> = { 1: [input] };
  const avg = (bytes / args.lines).toFixed(0);
  console.log(`input: ${args.lines} lines, ${(bytes / 1e6).toFixed(1)} MB (${avg} B/line avg): ${input}`);
  let warmup: Warmup | undefined;
  if (args.warmup > 0) {
    // Other lines than the timed ones (another seed), so nothing is cached from the warm-up.
    const warmInput = path.join(baseDir, `lines-${args.warmup}-seed7.txt`);
    await writeLinesFile(warmInput, args.warmup, 7);
    warmup = { files: { 1: [warmInput] }, lines: args.warmup };
    console.log(`warm-up: every system first processes ${args.warmup} other lines, not timed (--warmup 0: cold start)`);
  }
  const sender1 = await measureSenderRate(files[1]!, args.lines);
  console.log(`sender ${senderName()} into a null sink: ${Math.round(sender1)} lines/s (1 connection)`);

  const all: SystemDef[] = [
    iptablesOtel(repoRoot, 'auto'),
    iptablesOtel(repoRoot, 'auto', undefined, 'off'),
    iptablesOtel(repoRoot, 'auto', undefined, 'fsync-batch'),
    iptablesOtel(repoRoot, 'auto', undefined, 'fsync-never'),
    iptablesOtel(repoRoot, '1'),
    iptablesOtel(repoRoot, '0'),
    ...args.variants.map((f) => iptablesOtel(repoRoot, 'auto', f)),
    iptablesOtelViaCollector(repoRoot),
    rsyslog,
    syslogNg,
    collectorSyslog(repoRoot),
  ];
  const chosen = all.filter((s) => !args.only || args.only.has(s.id) || (s.id.includes('+') && args.only.has(s.id.split('+')[0]!)));
  const sink = await startOtlpCountSink(['error.type', 'SRC']);
  const results: SystemResult[] = chosen.map((s) => ({
    id: s.id,
    label: s.label,
    parsedRule: s.parsedRule,
    connections: s.connections,
    runs: [],
    skipped: s.unavailable(),
  }));
  const began = Date.now();
  try {
    for (let round = 0; round < args.runs; round++) {
      for (let i = 0; i < chosen.length; i++) {
        const sys = chosen[i]!;
        const res = results[i]!;
        if (res.skipped) continue;
        if (sys.maxRuns !== undefined && round >= sys.maxRuns) continue;
        // A system that failed every run so far is not retried (keeps the bench bounded).
        if (round > 0 && res.runs.every((r) => !r.complete)) continue;
        let r: RunResult;
        try {
          r = await runOnce(sys, files, args.lines, sink, baseDir, warmup);
        } catch (e) {
          r = { delivered: 0, seconds: 0, rate: 0, cpuSeconds: 0, peakRssMiB: 0, parsedFully: 0, harnessCpuSeconds: 0, complete: false, error: (e as Error).message };
        }
        res.runs.push(r);
        const cpuPerM = r.delivered ? ((r.cpuSeconds / r.delivered) * 1e6).toFixed(2) : '-';
        console.log(
          `[round ${round + 1}] ${sys.id}: ${r.complete ? `${Math.round(r.rate)} msg/s in ${r.seconds.toFixed(2)} s` : `INCOMPLETE: ${r.error}`}` +
            `, CPU ${r.cpuSeconds.toFixed(2)} s (${cpuPerM} s/1M), peak RSS ${r.peakRssMiB.toFixed(0)} MiB, parsed ${r.parsedFully}` +
            (r.delivered ? `, disk ${Math.round((r.diskWriteBytes ?? 0) / r.delivered)} B/msg` : '') +
            (r.otlpBytes && r.delivered ? `, OTLP ${Math.round(r.otlpBytes / r.delivered)} B/record` : ''),
        );
      }
    }
    let profile = '';
    if (args.profile && results.some((r) => r.id === 'iptables-otel-threads-auto' && !r.skipped)) {
      profile = await profileIptablesOtel(args.lines, sink, baseDir);
    }
    const table = renderTable(results, args.lines);
    const wall = ((Date.now() - began) / 1000).toFixed(0);
    console.log(`\n${table}\n\nparsed fully:\n${renderParsedRules(results)}\n\nbench wall time ${wall} s`);
    if (profile) console.log(`\n${profile}`);
    if (args.doc) {
      const cmd = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
      const collector = findCollector(repoRoot);
      const body = `Latest run (\`${cmd}\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, on a shared
${cpus().length}-vCPU VM (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}. Sender, receiver and sink share the
same ${cpus().length} cores, so compare ratios within one run rather than absolute numbers across runs.

${table}

How it is measured (bench/run.ts, bench/e2e/):

- Flags: \`--lines N\` (default 1000000; \`--lines 200000\` for a quick run), \`--warmup W\` (default 100000),
  \`--runs R\` (default 3), \`--only id,id\`
  (iptables-otel-threads-auto, iptables-otel-threads-auto-no-spool, iptables-otel-threads-auto-fsync-batch,
  iptables-otel-threads-auto-fsync-never, iptables-otel-threads-1, iptables-otel, iptables-otel-via-otelcol, rsyslog, syslog-ng, otelcol-syslog), \`--no-doc\`,
  \`--profile\`, \`--iot-config FILE\` (a config for every iptables-otel row), \`--iot-variant FILE,FILE\` (an extra
  iptables-otel row per config file, to compare settings under the same noise).
- Input: ${args.lines.toLocaleString('en-US')} generated iptables lines, ${avg} B average, in rsyslog's traditional forward
  format (\`<4>Nov 26 14:00:00 fw1 kernel: iptables-dropped: IN=eth0 ...\`), LF framed: 70 % TCP SYN, 20 % UDP,
  7 % ICMP (half of them port-unreachable errors quoting the UDP packet in \`[...]\`), 3 % IPv6 TCP; documentation
  addresses only.
- Sender: ${senderName()}, one TCP connection per file. Into a null sink it moves
  ${Math.round(sender1).toLocaleString('en-US')} lines/s, so it is not the bottleneck.
- Steady state: ${args.warmup > 0 ? `each system, once started, first processes a warm-up of ${args.warmup.toLocaleString('en-US')} other lines (not timed,
  not charged), so the table shows a long-running daemon rather than its first second (JIT compilation, page
  faults, caches). \`--warmup 0\` measures from a cold start` : 'none (\`--warmup 0\`): every run starts cold'}.
- msg/s: lines divided by the time from the first byte sent to the last record landing (output file mtime
  for rsyslog and syslog-ng; the sink's clock when it acknowledges the request carrying the last record for
  the OTLP systems). Median of up to ${args.runs} runs (syslog-ng and the Collector syslog receiver: ${Math.min(2, args.runs)}; the
  Collector check row: 1, to bound the wall time); rounds are interleaved so machine noise hits every system alike.
- CPU s per 1M msgs: utime+stime of the receiver's process tree (worker threads included) from
  /proc, before and after, scaled to 1M. Peak RSS: VmHWM, summed over the tree. Disk B/msg: \`write_bytes\` of
  /proc/PID/io over the timed run (page-cache pages first dirtied: the spool's segments and acks for iptables-otel,
  the output file for rsyslog and syslog-ng), per message. The last column is the harness
  process's own CPU (the OTLP sink's decoding, or the output-file polling), which competes for the same cores.
- OTLP sink: a node HTTP server in the harness that walks each protobuf request down to LogRecord attribute
  keys (no object decoding) and answers 200.
- iptables-otel: \`node dist/src/cli/main.js --listen tcp://127.0.0.1:PORT --output otlp\` with
  \`OTEL_EXPORTER_OTLP_ENDPOINT\` pointing at the sink, one connection, and \`--threads auto\` (the default: the main
  thread reads and frames, ${availableParallelism()} worker threads parse, encode and export; src/pipeline/threads/),
  \`--threads 1\`, or \`--threads 0\` (everything on the main thread). The spool is on (the default, fsync
  \`interval\`) with worker threads, in a fresh \`--spool-dir\` per run; the \`--no-spool\` row turns it off, the fsync
  rows set \`pipeline.spool.fsync\` (\`batch\`, \`never\`) in a config file; \`--threads 0\` has no spool.
  "-> Collector": the same, into the reference Collector's otlp receiver, which forwards OTLP/HTTP protobuf to the sink
  (CPU and RSS are iptables-otel's only).
- rsyslog and syslog-ng: the configurations in local-peers.md §4 (rsyslog imptcp + mmnormalize \`v2-iptables\` -> omfile JSON;
  syslog-ng network source + \`kv-parser\` -> file JSON with \`flags(flow-control)\`).
- Collector syslog receiver: \`syslog\` receiver (tcp, rfc3164) with a \`key_value_parser\` operator on
  \`attributes.message\` (\`on_error: send_quiet\`) -> batch -> otlphttp (proto) to the sink. key_value_parser
  rejects the whole line when any token has no \`=\` (the prefix, and flags such as \`DF\`, \`SYN\`), which every
  real iptables line has, so it parses none: records go out with the raw message only. Getting fields out of it would take
  an OTTL \`replace_pattern\` + \`ParseKeyValue\` in the transform processor, which costs more CPU still.${collector ? '' : ' Skipped in this run: the Collector binary was not built.'}
- Parsed fully:
${renderParsedRules(results).replace(/^/gm, '  ')}

Bench wall time: ${wall} s.
${profile ? `\n### Where iptables-otel's time goes (\`--profile\`)\n\nOne extra iptables-otel run under \`node --cpu-prof\`, self time grouped by source folder (the profiler itself slows the run):\n\n\`\`\`\n${profile}\n\`\`\`\n` : ''}`;
      writeDocSection(path.join(repoRoot, 'docs', 'performance.md'), 'End to end', body);
      console.log('\nwrote docs/performance.md (section "End to end")');
    }
  } finally {
    await sink.close();
  }
  // The UDP rows (loss beside rsyslog imudp) have their own section; `npm run bench:udp` runs them alone.
  if (args.udp) await runUdpBench(args.doc ? [] : ['--no-doc']);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
