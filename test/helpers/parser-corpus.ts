/**
 * The parser's test lines, shared by the golden-output test and the direct OTLP encoder's
 * equivalence test: the kernel corpus, the sample lines, edge values, the benchmark mix,
 * Elastic's fixture lines and real senders' captures (read from ../shared, never copied), and
 * seeded mutations of them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeBenchLines, prng } from '../../bench/parse-mix.js';
import type { ParseOptions } from '../../src/mapping/parse-frame.js';
import type { ReceiveContext } from '../../src/mapping/record.js';
import { LINES } from '../unit/netfilter/sample-lines.js';
import { fixturesDir, repoRoot } from './paths.js';
import { requirement, type Requirement } from './requirements.js';

export const corpusDir = path.join(repoRoot, 'test', 'corpus');

/** A fixed receive time, so records do not depend on the clock. */
export const RECEIVED: [number, number] = [1795700000, 123_000_000];
const NOW = new Date('2026-11-26T15:00:00Z');

/** Parser options and receive context the corpus is run under. */
export interface ParseCase {
  options: ParseOptions;
  ctx: ReceiveContext | undefined;
}

/** Plain: defaults, a fixed clock. */
export const PLAIN_CASE: ParseCase = {
  options: { now: NOW, bootTimeMs: Date.UTC(2026, 10, 26, 9, 30, 0) },
  ctx: { receivedAt: RECEIVED },
};

/** Everything set: zone, kmsg boot time, original kept, routing, user prefix rules, peer. */
export const FULL_CASE: ParseCase = {
  options: {
    now: NOW,
    timezone: 'Europe/Berlin',
    bootTimeMs: Date.UTC(2026, 10, 26, 14, 0, 0),
    preserveOriginal: true,
    dataset: 'iptables.golden',
    namespace: 'prod',
    prefixRules: [
      { match: 'ip6-dropped', action: 'drop-v6', ruleName: 'v6 rule' },
      { match: /UFW (ALLOW|AUDIT)/, action: 'ufw-pass', verdict: 'allowed' },
      { match: 'nft-', action: 'logged' },
    ],
  },
  ctx: { transport: 'tcp', peerAddress: '198.51.100.7', peerPort: 51514, receivedAt: RECEIVED },
};

/** No receive context: the observed time comes from the pinned `now`. */
export const NO_CTX_CASE: ParseCase = { options: { now: NOW }, ctx: undefined };

export function lines(file: string): string[] {
  if (!existsSync(file)) {
    // .gitignore's `*.log` also matches the corpus: a clone without these files cannot check them.
    throw new Error(`${file} is missing (is it ignored by .gitignore's *.log? it must be committed)`);
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

/** Frames built to stress the parser's bounds (empty, huge, repeated keys, deep quoting). */
export const HOSTILE_LINES: readonly string[] = [
  '',
  '\n',
  ' '.repeat(5000),
  'IN='.repeat(3000),
  `<4>Nov 26 14:24:16 fw1 kernel: ${'IN=eth0 '.repeat(2000)}OUT=`,
  `<4>Nov 26 14:24:16 fw1 kernel: IN=eth0 OUT= ${'X=1 '.repeat(100)}`,
  `<4>Nov 26 14:24:16 fw1 kernel: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=ICMP TYPE=3 CODE=1 ${'[SRC=192.0.2.2 '.repeat(50)}`,
];

const ALPHABET = [
  ' ', ' ', '  ', '=', '[', ']', '(', ')', ':', '.', '-', '0', '1', '9', '255', '65536', 'a', 'f', 'F', 'x', '0x',
  'IN=', 'OUT=', 'SRC=', 'DST=', 'LEN=', 'ID=', 'PROTO=', 'SPT=', 'DPT=', 'TTL=', 'SEQ=', 'TYPE=', 'CODE=',
  'MAC=', 'OPT (', 'FRAG:', 'INCOMPLETE', 'DF', 'SYN', '::', '2001:db8::1', '192.0.2.300', '\t', '\n', '\r',
  '\0', 'é', '€', '\u{1F525}', '<4>', '<191>', '1 ', 'kernel: ', '[ 12.345678] ', 'DESCR="x"', '"', '\\',
];

/**
 * Seeded mutations of `bases`: deletions, insertions of syntax fragments, duplicated and
 * swapped tokens, truncation. Reaches the scanner's error and fallback paths.
 */
export function mutations(bases: readonly string[], n: number, seed: number): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    let s = bases[rnd(bases.length)]!;
    const ops = 1 + rnd(3);
    for (let o = 0; o < ops; o++) {
      const at = rnd(s.length + 1);
      switch (rnd(6)) {
        case 0:
          s = s.slice(0, at) + s.slice(at + 1 + rnd(8));
          break;
        case 1:
          s = s.slice(0, at) + ALPHABET[rnd(ALPHABET.length)]! + s.slice(at);
          break;
        case 2: {
          const t = s.split(' ');
          const i = rnd(t.length);
          t.splice(rnd(t.length + 1), 0, t[i]!);
          s = t.join(' ');
          break;
        }
        case 3: {
          const t = s.split(' ');
          const i = rnd(t.length);
          const j = rnd(t.length);
          [t[i], t[j]] = [t[j]!, t[i]!];
          s = t.join(' ');
          break;
        }
        case 4:
          s = s.slice(0, at);
          break;
        default:
          s = s.slice(0, at) + s.charAt(rnd(s.length)) + s.slice(at);
      }
    }
    out.push(s);
  }
  return out;
}

/** Byte-level mutations (invalid UTF-8 included) of `bases`, as Buffers. */
export function byteMutations(bases: readonly string[], n: number, seed: number): Buffer[] {
  const rnd = prng(seed);
  const out: Buffer[] = [];
  for (let k = 0; k < n; k++) {
    const b = Buffer.from(bases[rnd(bases.length)]!, 'utf8');
    for (let o = 1 + rnd(3); o > 0 && b.length > 0; o--) b[rnd(b.length)] = rnd(256);
    out.push(b);
  }
  return out;
}

const FIXTURE_DIRS = ['beats-module', 'elastic-integrations', 'captures'];

/**
 * Elastic's fixtures and the senders' captures in ../shared/fixtures (IPTABLES_OTEL_SHARED):
 * tests that read them through `fixtureLines()` require them (an empty list must not pass).
 */
export function fixturesRequirement(): Requirement {
  const missing = FIXTURE_DIRS.filter((sub) => !existsSync(path.join(fixturesDir, sub)));
  return requirement(missing.length === 0, `Elastic's fixtures are missing: ${missing.map((m) => path.join(fixturesDir, m)).join(', ')} (see test/helpers/paths.ts)`);
}

/** Every line of Elastic's fixtures and the captures' texts; empty when ../shared is missing (see `fixturesRequirement`). */
export function fixtureLines(): string[] {
  const out: string[] = [];
  for (const sub of ['beats-module', 'elastic-integrations']) {
    const dir = path.join(fixturesDir, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.log')) out.push(...lines(path.join(dir, f)));
  }
  const cap = path.join(fixturesDir, 'captures');
  if (existsSync(cap)) {
    for (const f of readdirSync(cap).sort()) {
      if (!f.endsWith('.jsonl')) continue;
      for (const l of lines(path.join(cap, f))) {
        const o = JSON.parse(l) as { text?: unknown };
        if (typeof o.text === 'string') out.push(o.text);
      }
    }
  }
  return out;
}

export const kernelLog = lines(path.join(corpusDir, 'kernel.log'));
export const kernelKmsg = lines(path.join(corpusDir, 'kernel.kmsg'));
export const kernelUlogd = lines(path.join(corpusDir, 'kernel-ulogd.log'));
export const samples = Object.values(LINES).flatMap((l) => [l, `<4>Nov 26 14:24:16 fw1 kernel: ${l}`]);
/** Values at the edges of the scanner's number, hex, address and key readers. */
export const EDGE_TOKENS = [
  'TOS=0x', 'TOS=0X1F', 'TOS=0x00000000000001', 'TOS=0x0000000000001', 'TOS=0xg1', 'PREC=0x0G', 'RES=0x', 'RES=0',
  'RES=10', 'TOS=x1', 'LEN=0123', 'LEN=123456789012345', 'LEN=1234567890123456', 'LEN=', 'LEN=1-2', 'SPT=65536',
  'SPT=65535', 'TTL=', 'TTL=1a', 'ID=0x10', 'MARK=0x1f', 'MARK=10', 'MARK=0xFFFFFFFF', 'SRC=0192.0.2.1',
  'SRC=192.0.2', 'SRC=192.0.2.1.5', 'SRC=256.0.2.1', 'SRC=192.0.2.1a', 'SRC=1920::1', 'SRC=::ffff:192.0.2.1',
  'DST=2001:DB8::1', 'DST=2001:db8:0:0:0:0:0:1', 'DST=', 'GATEWAY=198.51.100.1', 'GATEWAY=x', 'MAC=', 'MAC=zz',
  'MAC=02:00:0a:c8:00:01', 'PHYSOUTX=1', 'PHYSOUT=br0', 'MACPROTOX=1', 'MACPROTO=0800', 'HOPLIMITS=1',
  'PARAMETERS=1', 'PARAMETER=7', 'ABCDEFGHI=1', 'in=eth0', 'IN==', '=IN=eth0', 'IN=', 'Tl=3', 'TL=3', 'L=3',
  'FLOWLBL=1048575', 'POINTER=0000000a', 'VID=4097', 'VPROTO=0x8100', 'SEQ=4294967295', 'ACK=0', 'URGP=0x1',
];
export const EDGE_LINES = EDGE_TOKENS.flatMap((t) => [
  `<4>Nov 26 14:24:16 fw1 kernel: edge: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 ${t} TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=2 WINDOW=1 RES=0x00 SYN URGP=0 ${t}`,
  `<4>Nov 26 14:24:16 fw1 kernel: edge: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 PROTO=UDP SPT=1 DPT=2 LEN=8 ${t}`,
]);
export const ours = [...kernelLog, ...kernelKmsg, ...kernelUlogd, ...samples, ...EDGE_LINES];
/** 20,000 lines of the parser benchmark's mix (built on first use). */
export function benchLines(): string[] {
  benchCache ??= makeBenchLines(20_000);
  return benchCache;
}
let benchCache: string[] | undefined;

