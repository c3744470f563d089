/**
 * Parser benchmark: lines/s for parseFrame (syslog decode + nf_log scan + attribute mapping,
 * Community ID included) on one core, over a realistic mix: ~70% TCP SYN, 20% UDP, 7% ICMP
 * errors with a quoted packet, 3% IPv6. Lines are RFC 3164 frames as rsyslog forwards them,
 * with documentation addresses, from bench/parse-mix.ts (seeded: every run parses the same lines,
 * and test/unit/mapping/golden-output.test.ts pins their parsed output).
 *
 * Run: npm run bench:parse   (= npm run build && node dist/bench/parse.js)
 * Options: --seconds N (default 5), --lines N distinct lines (default 10000: recently received
 * lines are in cache), --json also times OTLP/JSON encoding. Reports string frames and Buffer
 * frames (as the UDP/TCP inputs pass them, UTF-8 decoding included).
 */
import os from 'node:os';
import { parseFrame } from '../src/mapping/parse-frame.js';
import type { ParseOptions } from '../src/mapping/parse-options.js';
import { logRecordToOtlpJson } from '../src/output/otlp-json.js';
import { makeBenchLines } from './parse-mix.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * Runs for `seconds` of wall time. Reports lines per wall second and per CPU second of this
 * process (user + system, all threads): on a shared machine the CPU figure is the stable one.
 */
function run(lines: ReadonlyArray<string | Buffer>, seconds: number, encode: boolean, options: ParseOptions): { lps: number; lpcs: number; n: number } {
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  // Check the clock every 10k lines to keep timing overhead out of the loop.
  while (performance.now() < deadline) {
    for (let i = 0; i < 10_000; i++) {
      const r = parseFrame(lines[(n + i) % lines.length]!, undefined, options);
      sink += encode ? logRecordToOtlpJson(r).length : r.body.length;
    }
    n += 10_000;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (sink === 42) console.log(''); // keep the work observable
  return { lps: n / elapsed, lpcs: n / cpuSeconds, n };
}

const seconds = arg('seconds', 5);
const lines = makeBenchLines(arg('lines', 10_000));
const options: ParseOptions = {};
for (const l of lines.slice(0, 1000)) {
  const r = parseFrame(l, undefined, options);
  if (r.attributes['error.type'] !== undefined || r.attributes['iptables.unparsed'] !== undefined) {
    throw new Error(`benchmark line did not parse cleanly: ${l}`);
  }
}
run(lines, 1, false, options); // warm-up
const parse = run(lines, seconds, false, options);
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(
  `parseFrame: ${fmt(parse.lps)} lines/s wall, ${fmt(parse.lpcs)} lines per CPU-second ` +
    `(${fmt(parse.n)} lines in ${seconds}s, ${fmt(lines.length)} distinct, Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs)`,
);
const buffers = lines.map((l) => Buffer.from(l, 'utf8'));
const fromBytes = run(buffers, seconds, false, options);
console.log(`parseFrame(Buffer), UTF-8 decoding included: ${fmt(fromBytes.lps)} lines/s wall, ${fmt(fromBytes.lpcs)} lines per CPU-second`);
if (process.argv.includes('--json')) {
  const enc = run(lines, seconds, true, options);
  console.log(`parseFrame + OTLP/JSON: ${fmt(enc.lps)} lines/s wall, ${fmt(enc.lpcs)} lines per CPU-second`);
}
