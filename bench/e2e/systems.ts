/**
 * The systems the end-to-end benchmark drives: iptables-otel (single thread, 1 and
 * 2 worker threads, into the counting sink or through the reference Collector), rsyslog
 * (imptcp + mmnormalize v2-iptables -> omfile JSON), syslog-ng (network +
 * kv-parser -> file JSON, flow-control) and the Collector's syslog receiver with
 * key_value_parser. The peer configurations are the ones in
 * ../shared/reference/local-peers.md §4, with private paths and ports.
 */
import { writeFileSync, existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { FileLineCounter, countOccurrences } from './file-line-counter.js';
import type { OtlpCountSink } from './otlp-count-sink.js';
import { freePort, hasCommandOnPath, startDaemon, waitForTcp, type Daemon } from './spawn-util.js';

/** What a system needs from the harness for one run. */
export interface RunContext {
  /** A private scratch directory for this run (configs, logs, outputs). */
  dir: string;
  sink: OtlpCountSink;
  /** The repository root (for dist/ paths). */
  repoRoot: string;
}

/** A system that is up and listening. */
export interface StartedSystem {
  port: number;
  /** Processes whose CPU and memory are charged to the system (descendants are added by the harness). */
  pids: number[];
  /** Records delivered so far (file lines or records acknowledged by the sink). */
  progress(): number;
  /** Date.now()-scale time the last delivered record landed. */
  lastRecordAt(): number;
  /** Lines parsed fully, by this system's definition (after the run). */
  parsedFully(delivered: number): number;
  /**
   * Count from here on (after the warm-up): `progress`, `lastRecordAt` and `parsedFully` then
   * cover only what arrives later.
   */
  markStart(): void;
  stop(): Promise<void>;
  /** Tail of the system's own log, for error reports. */
  logTail(): string;
}

/** One row of the benchmark. */
export interface SystemDef {
  id: string;
  label: string;
  /** Sender connections (one per worker for the multi-worker rows). */
  connections: number;
  /** At most this many runs, whatever --runs says (keeps slow or check-only rows from dominating the wall time). */
  maxRuns?: number;
  /** What "parsed fully" means for this system. */
  parsedRule: string;
  /** Undefined when runnable, else why the row is skipped. */
  unavailable(): string | undefined;
  start(ctx: RunContext): Promise<StartedSystem>;
}

const STARTUP_MS = 20_000;

async function stopAll(daemons: Daemon[]): Promise<void> {
  for (const d of daemons) await d.stop();
}

/** `unparsed()`: how many output lines so far this system could not parse (0 when it cannot tell). */
function fileSystem(daemon: Daemon, port: number, out: string, unparsed: () => number): StartedSystem {
  const counter = new FileLineCounter(out);
  let baseLines = 0;
  let baseUnparsed = 0;
  return {
    port,
    pids: [daemon.child.pid!],
    progress: () => counter.poll() - baseLines,
    lastRecordAt: () => counter.mtimeMs(),
    parsedFully: (delivered) => delivered - (unparsed() - baseUnparsed),
    markStart() {
      baseLines = counter.poll();
      baseUnparsed = unparsed();
    },
    async stop() {
      counter.close();
      await daemon.stop();
      // The outputs are hundreds of MB per run; do not keep them.
      rmSync(out, { force: true });
    },
    logTail: () => daemon.logTail(),
  };
}

// ---------------------------------------------------------------- rsyslog

/** rsyslog 8 with imptcp + mmnormalize (liblognorm v2-iptables) writing JSON lines. */
export const rsyslog: SystemDef = {
  id: 'rsyslog',
  label: 'rsyslog imptcp + mmnormalize',
  connections: 1,
  parsedRule: 'output lines without mmnormalize `unparsed-data`',
  unavailable: () => (hasCommandOnPath('rsyslogd') ? undefined : 'rsyslogd not installed'),
  async start(ctx) {
    const port = await freePort();
    const work = path.join(ctx.dir, 'rs-work');
    const out = path.join(ctx.dir, 'rs-out.json');
    const rb = path.join(ctx.dir, 'iptables.rb');
    const conf = path.join(ctx.dir, 'rsyslog.conf');
    writeFileSync(
      rb,
      'version=2\n' +
        'rule=iptables:%prefix:string-to{"extradata":"IN="}%%fw:v2-iptables%\n' +
        'rule=iptables-noprefix:%fw:v2-iptables%\n',
    );
    writeFileSync(
      conf,
      `global(workDirectory="${work}")
module(load="imptcp")
module(load="mmnormalize")
template(name="fwjson" type="string"
  string="{\\"ts\\":\\"%timereported:::date-rfc3339%\\",\\"host\\":\\"%hostname%\\",\\"tag\\":\\"%programname%\\",\\"ev\\":%$!all-json%}\\n")
input(type="imptcp" address="127.0.0.1" port="${port}" ruleset="fw")
ruleset(name="fw") {
  action(type="mmnormalize" rulebase="${rb}")
  action(type="omfile" file="${out}" template="fwjson" asyncWriting="on" ioBufferSize="256k" flushInterval="1")
}
`,
    );
    mkdirSync(work, { recursive: true });
    const d = startDaemon('rsyslogd', ['-n', '-f', conf, '-i', path.join(ctx.dir, 'rs.pid')], path.join(ctx.dir, 'rsyslog.log'));
    try {
      await waitForTcp(port, STARTUP_MS, d.child);
    } catch (e) {
      await d.stop();
      throw new Error(`rsyslog did not start: ${(e as Error).message}\n${d.logTail()}`);
    }
    return fileSystem(d, port, out, () => countOccurrences(out, '"unparsed-data"'));
  },
};

// ---------------------------------------------------------------- syslog-ng

const SNG_ROOT = '/opt/syslog-ng';
const SNG_BIN = `${SNG_ROOT}/usr/sbin/syslog-ng`;

/** syslog-ng 3.38 (unpacked in /opt/syslog-ng): network source + kv-parser -> file JSON. */
export const syslogNg: SystemDef = {
  id: 'syslog-ng',
  label: 'syslog-ng network + kv-parser',
  connections: 1,
  maxRuns: 2,
  parsedRule: 'all lines (kv-parser accepts any line; duplicate keys: last wins)',
  unavailable: () => (existsSync(SNG_BIN) ? undefined : `${SNG_BIN} not found (see local-peers.md §0)`),
  async start(ctx) {
    const port = await freePort();
    const out = path.join(ctx.dir, 'sng-out.json');
    const conf = path.join(ctx.dir, 'syslog-ng.conf');
    writeFileSync(
      conf,
      `@version: 3.38
options { stats-freq(0); keep-hostname(yes); threaded(yes); };
source s_tcp { network(ip("127.0.0.1") port(${port}) transport("tcp") log-iw-size(100000) log-fetch-limit(1000)); };
parser p_fw { kv-parser(prefix("fw.") pair-separator(" ") extract-stray-words-into("fw.flags")); };
destination d_json { file("${out}" log-fifo-size(100000)
  template("$(format-json ts=\${ISODATE} host=\${HOST} tag=\${PROGRAM} --key fw.*)\\n")); };
log { source(s_tcp); parser(p_fw); destination(d_json); flags(flow-control); };
`,
    );
    const d = startDaemon(
      SNG_BIN,
      [
        `--module-path=${SNG_ROOT}/usr/lib/syslog-ng/3.38`,
        '-F',
        '--no-caps',
        '-f',
        conf,
        '-R',
        path.join(ctx.dir, 'sng.persist'),
        '-p',
        path.join(ctx.dir, 'sng.pid'),
        '-c',
        path.join(ctx.dir, 'sng.ctl'),
      ],
      path.join(ctx.dir, 'syslog-ng.log'),
      { LD_LIBRARY_PATH: `${SNG_ROOT}/usr/lib/syslog-ng` },
    );
    try {
      await waitForTcp(port, STARTUP_MS, d.child);
    } catch (e) {
      await d.stop();
      throw new Error(`syslog-ng did not start: ${(e as Error).message}\n${d.logTail()}`);
    }
    return fileSystem(d, port, out, () => 0);
  },
};

// ---------------------------------------------------------------- OTel Collector

/**
 * The reference Collector binary, if already built (never builds it: that takes
 * minutes). Same cache path and key as scripts/build-collector.sh.
 */
export function findCollector(repoRoot: string): string | undefined {
  const env = process.env.IPTABLES_OTEL_OTELCOL;
  if (env && existsSync(env)) return env;
  const manifest = path.join(repoRoot, 'test', 'collector', 'builder-config.yaml');
  if (!existsSync(manifest)) return undefined;
  const hash = createHash('sha256').update(readFileSync(manifest)).digest('hex').slice(0, 16);
  const cache = process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache');
  const bin = path.join(cache, 'iptables-otel', `otelcol-${hash}`, 'otelcol-iptables-otel');
  return existsSync(bin) ? bin : undefined;
}

function collectorYaml(receivers: string, receiverName: string, sinkPort: number): string {
  return `receivers:
${receivers}
processors:
  batch: {}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:${sinkPort}
    encoding: proto
    compression: none
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [${receiverName}]
      processors: [batch]
      exporters: [otlphttp]
`;
}

async function startCollector(ctx: RunContext, bin: string, yaml: string, listenPort: number, name: string): Promise<Daemon> {
  const conf = path.join(ctx.dir, `${name}.yaml`);
  writeFileSync(conf, yaml);
  const d = startDaemon(bin, ['--config', conf], path.join(ctx.dir, `${name}.log`), { GOMAXPROCS: '2' });
  try {
    await waitForTcp(listenPort, STARTUP_MS, d.child);
  } catch (e) {
    await d.stop();
    throw new Error(`Collector did not start: ${(e as Error).message}\n${d.logTail()}`);
  }
  return d;
}

function sinkSystem(ctx: RunContext, port: number, daemons: Daemon[], charged: Daemon[], parsed: (delivered: number) => number): StartedSystem {
  return {
    port,
    pids: charged.map((d) => d.child.pid!),
    progress: () => ctx.sink.counts.records,
    lastRecordAt: () => ctx.sink.counts.lastRecordAt,
    parsedFully: parsed,
    markStart: () => ctx.sink.reset(),
    stop: () => stopAll(daemons),
    logTail: () => daemons.map((d) => d.logTail()).join('\n'),
  };
}

/** Collector contrib syslog receiver (tcp, rfc3164) + key_value_parser on the message -> OTLP to the sink. */
export function collectorSyslog(repoRoot: string): SystemDef {
  return {
    id: 'otelcol-syslog',
    label: 'OTel Collector syslog + key_value_parser',
    connections: 1,
    maxRuns: 2,
    parsedRule: 'records whose attributes gained `SRC` from key_value_parser',
    unavailable: () => (findCollector(repoRoot) ? undefined : 'Collector not built (scripts/build-collector.sh)'),
    async start(ctx) {
      const port = await freePort();
      const receivers = `  syslog:
    tcp:
      listen_address: 127.0.0.1:${port}
    protocol: rfc3164
    operators:
      - type: key_value_parser
        parse_from: attributes.message
        delimiter: "="
        pair_delimiter: " "
        on_error: send_quiet`;
      const d = await startCollector(ctx, findCollector(repoRoot)!, collectorYaml(receivers, 'syslog', ctx.sink.port), port, 'otelcol-syslog');
      return sinkSystem(ctx, port, [d], [d], () => ctx.sink.counts.withKey['SRC'] ?? 0);
    },
  };
}

// ---------------------------------------------------------------- iptables-otel

/** The CLI entry point in dist/. */
export function iptablesOtelMain(repoRoot: string): string {
  return path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
}

/**
 * How a row runs the persistent spool (src/pipeline/spool/): `on` is the service's default
 * (fsync `interval`); `off` is `--no-spool`; `fsync-batch` / `fsync-never` set
 * `pipeline.spool.fsync` through a config file of their own. Every run that has the spool
 * gets a fresh directory under the run's scratch directory (`--spool-dir`), so no run
 * replays what another left behind, and none touches the machine's default spool.
 */
export type SpoolMode = 'on' | 'off' | 'fsync-batch' | 'fsync-never';

async function startIptablesOtel(
  ctx: RunContext,
  endpoint: string,
  threads: string,
  configFile?: string,
  spool: SpoolMode = 'on',
): Promise<{ d: Daemon; port: number }> {
  const port = await freePort();
  const opsPort = await freePort();
  const args = [iptablesOtelMain(ctx.repoRoot), '--listen', `tcp://127.0.0.1:${port}`, '--output', 'otlp', '--ops-address', `127.0.0.1:${opsPort}`, '--log-level', 'warn'];
  // Pinned for every row, so a change of the default never silently changes what a row measures.
  args.push('--threads', threads);
  if (spool === 'off') args.push('--no-spool');
  else args.push('--spool-dir', path.join(ctx.dir, 'spool'));
  // For tuning experiments: a config file whose non-input/output settings (pipeline, parser) apply.
  // The fsync rows bring their own (only pipeline.spool.fsync), in place of --iot-config.
  let config = configFile ?? process.env.IPTABLES_OTEL_BENCH_CONFIG;
  if (spool === 'fsync-batch' || spool === 'fsync-never') {
    config = path.join(ctx.dir, `spool-${spool}.yaml`);
    writeFileSync(config, `pipeline:\n  spool:\n    fsync: ${spool.slice('fsync-'.length)}\n`);
  }
  if (config) args.push('--config', config);
  const extra = process.env.IPTABLES_OTEL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const d = startDaemon(process.execPath, [...extra, ...args], path.join(ctx.dir, `iptables-otel-t${threads}.log`), {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  });
  try {
    await waitForTcp(port, STARTUP_MS, d.child);
  } catch (e) {
    await d.stop();
    throw new Error(`iptables-otel did not start: ${(e as Error).message}\n${d.logTail()}`);
  }
  return { d, port };
}

const SPOOL_LABEL: Record<SpoolMode, string> = {
  on: 'spool on',
  off: '--no-spool',
  'fsync-batch': 'spool, fsync: batch',
  'fsync-never': 'spool, fsync: never',
};

/**
 * iptables-otel (TCP in, OTLP/HTTP out, one connection) into the counting sink.
 * `threads` is `--threads`: `0` = everything on the main thread; N = the main thread reads
 * and frames, N worker threads parse, encode and export (src/pipeline/threads/); `auto` = one
 * per core. `configFile` makes a tuning variant (its own row, named after the file). `spool`:
 * see `SpoolMode`; the default is the service's (on) with worker threads, and `off` with
 * `--threads 0`, where the service has no spool (it needs worker threads).
 */
export function iptablesOtel(repoRoot: string, threads = '0', configFile?: string, spool: SpoolMode = threads === '0' ? 'off' : 'on'): SystemDef {
  const variant = configFile ? path.basename(configFile).replace(/\.ya?ml$/, '') : undefined;
  let base = threads === '0' ? 'iptables-otel' : `iptables-otel-threads-${threads}`;
  if (spool === 'off' && threads !== '0') base += '-no-spool';
  else if (spool === 'fsync-batch' || spool === 'fsync-never') base += `-${spool}`;
  const spoolNote = threads === '0' ? 'no spool' : SPOOL_LABEL[spool];
  const label =
    threads === '0'
      ? `iptables-otel, single thread (--threads 0, ${spoolNote})`
      : `iptables-otel, ${threads === 'auto' ? 'a worker thread per core' : `${threads} worker thread${threads === '1' ? '' : 's'}`} (--threads ${threads}, ${spoolNote})`;
  return {
    id: variant ? `${base}+${variant}` : base,
    label: variant ? `${label} [${variant}]` : label,
    connections: 1,
    parsedRule: 'records without an `error.type` attribute',
    unavailable: () => (existsSync(iptablesOtelMain(repoRoot)) ? undefined : 'dist/src/cli/main.js not built yet'),
    async start(ctx) {
      const { d, port } = await startIptablesOtel(ctx, `http://127.0.0.1:${ctx.sink.port}`, threads, configFile, spool);
      return sinkSystem(ctx, port, [d], [d], (delivered) => delivered - (ctx.sink.counts.withKey['error.type'] ?? 0));
    },
  };
}

/** iptables-otel into the reference Collector (otlp receiver -> otlphttp -> the sink); CPU/RSS are iptables-otel's. */
export function iptablesOtelViaCollector(repoRoot: string): SystemDef {
  return {
    id: 'iptables-otel-via-otelcol',
    label: 'iptables-otel -> Collector otlp receiver (check row)',
    connections: 1,
    maxRuns: 1,
    parsedRule: 'records without an `error.type` attribute',
    unavailable: () =>
      !existsSync(iptablesOtelMain(repoRoot))
        ? 'dist/src/cli/main.js not built yet'
        : findCollector(repoRoot)
          ? undefined
          : 'Collector not built (scripts/build-collector.sh)',
    async start(ctx) {
      const otlpPort = await freePort();
      const receivers = `  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlpPort}`;
      const col = await startCollector(ctx, findCollector(repoRoot)!, collectorYaml(receivers, 'otlp', ctx.sink.port), otlpPort, 'otelcol-otlp');
      let io: { d: Daemon; port: number };
      try {
        io = await startIptablesOtel(ctx, `http://127.0.0.1:${otlpPort}`, 'auto');
      } catch (e) {
        await col.stop();
        throw e;
      }
      // Stop the sender side first so it can flush into the Collector.
      return sinkSystem(ctx, io.port, [io.d, col], [io.d], (delivered) => delivered - (ctx.sink.counts.withKey['error.type'] ?? 0));
    },
  };
}

