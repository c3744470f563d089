/**
 * Parser benchmark: lines/s for parseFrame (syslog decode + nf_log scan + attribute mapping,
 * Community ID included) on one core, over a realistic mix: ~70% TCP SYN, 20% UDP, 7% ICMP
 * errors with a quoted packet, 3% IPv6. Lines are RFC 3164 frames as rsyslog forwards them,
 * generated here with documentation addresses.
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

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

// Deterministic PRNG so runs are comparable.
let seed = 0x9e3779b9;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

const NETS = ['192.0.2.', '198.51.100.', '203.0.113.'];
const ip4 = (): string => `${NETS[rnd(3)]}${1 + rnd(254)}`;
const hex4 = (): string => rnd(65536).toString(16).padStart(4, '0');
const ip6 = (): string => `2001:0db8:${hex4()}:0000:0000:0000:0000:${hex4()}`;
const MAC = 'MAC=02:00:0a:c8:00:01:02:00:0a:c8:00:02:08:00';
const HEADER = (): string => `<4>Nov 26 ${10 + rnd(14)}:${10 + rnd(50)}:${10 + rnd(50)} fw1 kernel: `;
const PREFIXES = ['iptables-dropped: ', '[UFW BLOCK] ', '[wan-lan-default-D]', 'filter_IN_public_REJECT: '];

function tcpSyn(): string {
  return `${HEADER()}${PREFIXES[rnd(4)]}IN=eth0 OUT= ${MAC} SRC=${ip4()} DST=${ip4()} LEN=60 TOS=0x00 PREC=0x00 TTL=${32 + rnd(32)} ID=${rnd(65536)} DF PROTO=TCP SPT=${1024 + rnd(64000)} DPT=${[22, 80, 443, 3389, 445][rnd(5)]} WINDOW=64240 RES=0x00 SYN URGP=0 `;
}
function udp(): string {
  return `${HEADER()}${PREFIXES[rnd(4)]}IN=eth0 OUT= ${MAC} SRC=${ip4()} DST=${ip4()} LEN=76 TOS=0x00 PREC=0x00 TTL=${32 + rnd(32)} ID=${rnd(65536)} DF PROTO=UDP SPT=${1024 + rnd(64000)} DPT=${[53, 123, 161, 500][rnd(4)]} LEN=56 `;
}
function icmpError(): string {
  const a = ip4();
  const b = ip4();
  return `${HEADER()}iptables-dropped: IN=eth1 OUT= ${MAC} SRC=${b} DST=${a} LEN=62 TOS=0x00 PREC=0xC0 TTL=63 ID=${rnd(65536)} PROTO=ICMP TYPE=3 CODE=3 [SRC=${a} DST=${b} LEN=34 TOS=0x00 PREC=0x00 TTL=63 ID=${rnd(65536)} DF PROTO=UDP SPT=${1024 + rnd(64000)} DPT=9000 LEN=14 ] `;
}
function ipv6(): string {
  return `${HEADER()}ip6-dropped: IN=eth0 OUT= MAC=02:00:0a:c8:00:01:02:00:0a:c8:00:02:86:dd SRC=${ip6()} DST=${ip6()} LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=${rnd(1 << 20)} PROTO=TCP SPT=${1024 + rnd(64000)} DPT=443 WINDOW=64800 RES=0x00 SYN URGP=0 `;
}

function makeLines(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd(100);
    const line = r < 70 ? tcpSyn() : r < 90 ? udp() : r < 97 ? icmpError() : ipv6();
    // Decode from bytes as an input does: a flat string, not the concatenation tree the
    // template literals above build (which V8 reads more slowly).
    out.push(Buffer.from(line, 'utf8').toString('utf8'));
  }
  return out;
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
const lines = makeLines(arg('lines', 10_000));
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
