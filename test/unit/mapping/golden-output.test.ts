/**
 * Golden output of parseFrame: every field of every record (attribute insertion order included)
 * for the kernel corpus, the sample lines, the parser benchmark's mix, Elastic's fixture lines,
 * real senders' captures and seeded mutations of all of them, under two option sets, from strings
 * and from Buffers. Guards parser optimisations: the output must not change by a single byte.
 *
 * test/corpus/golden/parse-records.jsonl holds our own lines' records in full (readable diffs);
 * test/corpus/golden/parse-digests.json holds SHA-256 digests for the large and the third-party
 * sets (Elastic's lines are not copied into the repo, only a digest of our output for them).
 *
 * Regenerating the kernel corpus (KERNEL_CORPUS_DIR, see test/corpus/README.md) changes its lines, so
 * the golden files must then be regenerated too, from a parser known to be right.
 *
 * Regenerate (only when an output change is intended):
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/mapping/golden-output.test.ts
 * Dump every record of every set to a folder, to diff two versions line by line:
 *   GOLDEN_DUMP_DIR=/tmp/golden-a npx vitest run test/unit/mapping/golden-output.test.ts
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrame, type ParseOptions } from '../../../src/mapping/parse-frame.js';
import type { FirewallLogRecord, ReceiveContext } from '../../../src/mapping/record.js';
import { makeBenchLines } from '../../../bench/parse-mix.js';
import { LINES } from '../netfilter/sample-lines.js';
import { fixturesDir, repoRoot } from '../../helpers/paths.js';

const corpusDir = path.join(repoRoot, 'test', 'corpus');
const goldenDir = path.join(corpusDir, 'golden');
const RECORDS_FILE = path.join(goldenDir, 'parse-records.jsonl');
const DIGESTS_FILE = path.join(goldenDir, 'parse-digests.json');
const update = process.env.UPDATE_GOLDEN === '1';
const dumpDir = process.env.GOLDEN_DUMP_DIR;

const RECEIVED: [number, number] = [1795700000, 123_000_000];
const NOW = new Date('2026-11-26T15:00:00Z');

/** Plain: defaults, a fixed clock. */
const PLAIN: { options: ParseOptions; ctx: ReceiveContext } = {
  options: { now: NOW, bootTimeMs: Date.UTC(2026, 10, 26, 9, 30, 0) },
  ctx: { receivedAt: RECEIVED },
};
/** Everything set: zone, kmsg boot time, original kept, routing, user prefix rules, peer. */
const FULL: { options: ParseOptions; ctx: ReceiveContext } = {
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

function lines(file: string): string[] {
  if (!existsSync(file)) {
    // .gitignore's `*.log` also matches the corpus: a clone without these files cannot check them.
    throw new Error(`${file} is missing (is it ignored by .gitignore's *.log? it must be committed)`);
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

/** One record as canonical JSON: every field, attributes in insertion order. */
function canonical(r: FirewallLogRecord): string {
  return JSON.stringify({
    timestamp: r.timestamp,
    observedTimestamp: r.observedTimestamp,
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: r.body,
    keys: Object.keys(r).sort(),
    attributes: r.attributes,
  });
}

function prng(seed: number): (n: number) => number {
  let s = seed;
  return (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

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
function mutations(bases: readonly string[], n: number, seed: number): string[] {
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
function byteMutations(bases: readonly string[], n: number, seed: number): Buffer[] {
  const rnd = prng(seed);
  const out: Buffer[] = [];
  for (let k = 0; k < n; k++) {
    const b = Buffer.from(bases[rnd(bases.length)]!, 'utf8');
    for (let o = 1 + rnd(3); o > 0 && b.length > 0; o--) b[rnd(b.length)] = rnd(256);
    out.push(b);
  }
  return out;
}

function fixtureLines(): string[] {
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

const kernelLog = lines(path.join(corpusDir, 'kernel.log'));
const kernelKmsg = lines(path.join(corpusDir, 'kernel.kmsg'));
const kernelUlogd = lines(path.join(corpusDir, 'kernel-ulogd.log'));
const samples = Object.values(LINES).flatMap((l) => [l, `<4>Nov 26 14:24:16 fw1 kernel: ${l}`]);
/** Values at the edges of the scanner's number, hex, address and key readers. */
const EDGE_TOKENS = [
  'TOS=0x', 'TOS=0X1F', 'TOS=0x00000000000001', 'TOS=0x0000000000001', 'TOS=0xg1', 'PREC=0x0G', 'RES=0x', 'RES=0',
  'RES=10', 'TOS=x1', 'LEN=0123', 'LEN=123456789012345', 'LEN=1234567890123456', 'LEN=', 'LEN=1-2', 'SPT=65536',
  'SPT=65535', 'TTL=', 'TTL=1a', 'ID=0x10', 'MARK=0x1f', 'MARK=10', 'MARK=0xFFFFFFFF', 'SRC=0192.0.2.1',
  'SRC=192.0.2', 'SRC=192.0.2.1.5', 'SRC=256.0.2.1', 'SRC=192.0.2.1a', 'SRC=1920::1', 'SRC=::ffff:192.0.2.1',
  'DST=2001:DB8::1', 'DST=2001:db8:0:0:0:0:0:1', 'DST=', 'GATEWAY=198.51.100.1', 'GATEWAY=x', 'MAC=', 'MAC=zz',
  'MAC=02:00:0a:c8:00:01', 'PHYSOUTX=1', 'PHYSOUT=br0', 'MACPROTOX=1', 'MACPROTO=0800', 'HOPLIMITS=1',
  'PARAMETERS=1', 'PARAMETER=7', 'ABCDEFGHI=1', 'in=eth0', 'IN==', '=IN=eth0', 'IN=', 'Tl=3', 'TL=3', 'L=3',
  'FLOWLBL=1048575', 'POINTER=0000000a', 'VID=4097', 'VPROTO=0x8100', 'SEQ=4294967295', 'ACK=0', 'URGP=0x1',
];
const EDGE_LINES = EDGE_TOKENS.flatMap((t) => [
  `<4>Nov 26 14:24:16 fw1 kernel: edge: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 ${t} TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=1 DPT=2 WINDOW=1 RES=0x00 SYN URGP=0 ${t}`,
  `<4>Nov 26 14:24:16 fw1 kernel: edge: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 PROTO=UDP SPT=1 DPT=2 LEN=8 ${t}`,
]);
const ours = [...kernelLog, ...kernelKmsg, ...kernelUlogd, ...samples, ...EDGE_LINES];
const bench = makeBenchLines(20_000);
const fixtures = fixtureLines();

type Frame = string | Buffer;
/** Sets kept in full in parse-records.jsonl (our own lines only). */
const FULL_SETS: Array<[name: string, frames: Frame[]]> = [
  ['kernel.log', kernelLog],
  ['kernel.kmsg', kernelKmsg],
  ['kernel-ulogd.log', kernelUlogd],
  ['sample-lines', samples],
  ['bench-mix-head', bench.slice(0, 50)],
];
/** Sets kept as digests in parse-digests.json. */
const DIGEST_SETS: Array<[name: string, frames: Frame[]]> = [
  ['edge-values', EDGE_LINES],
  ['bench-mix-20000', bench],
  ['bench-mix-buffers-2000', bench.slice(0, 2000).map((l) => Buffer.from(l, 'utf8'))],
  ['corpus-buffers', ours.map((l) => Buffer.from(l, 'utf8'))],
  ['mutations-ours-20000', mutations(ours, 20_000, 0x1234567)],
  ['mutations-bench-5000', mutations(bench.slice(0, 500), 5_000, 0x7654321)],
  ['byte-mutations-3000', byteMutations([...ours, ...bench.slice(0, 200)], 3_000, 0x2468ace)],
  [
    'hostile',
    [
      '',
      '\n',
      ' '.repeat(5000),
      'IN='.repeat(3000),
      `<4>Nov 26 14:24:16 fw1 kernel: ${'IN=eth0 '.repeat(2000)}OUT=`,
      `<4>Nov 26 14:24:16 fw1 kernel: IN=eth0 OUT= ${'X=1 '.repeat(100)}`,
      `<4>Nov 26 14:24:16 fw1 kernel: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=ICMP TYPE=3 CODE=1 ${'[SRC=192.0.2.2 '.repeat(50)}`,
    ],
  ],
];

function run(frames: readonly Frame[], cfg: { options: ParseOptions; ctx: ReceiveContext }): string[] {
  return frames.map((f) => canonical(parseFrame(f, cfg.ctx, cfg.options)));
}

const CONFIGS: Array<[name: string, cfg: typeof PLAIN]> = [
  ['plain', PLAIN],
  ['full', FULL],
];

function recordsText(): string {
  const out: string[] = [];
  for (const [name, frames] of FULL_SETS) {
    for (const [cname, cfg] of CONFIGS) {
      run(frames, cfg).forEach((rec, i) => out.push(`{"set":${JSON.stringify(`${name}/${cname}`)},"i":${i},"record":${rec}}`));
    }
  }
  return out.join('\n') + '\n';
}

function digests(): Record<string, { count: number; sha256: string }> {
  const out: Record<string, { count: number; sha256: string }> = {};
  const sets = fixtures.length > 0 ? [...DIGEST_SETS, ['elastic-fixtures-and-captures', fixtures] as [string, Frame[]]] : DIGEST_SETS;
  for (const [name, frames] of sets) {
    for (const [cname, cfg] of CONFIGS) {
      const recs = run(frames, cfg);
      if (dumpDir !== undefined) {
        mkdirSync(dumpDir, { recursive: true });
        writeFileSync(path.join(dumpDir, `${name}.${cname}.jsonl`), recs.join('\n') + '\n');
      }
      out[`${name}/${cname}`] = { count: recs.length, sha256: createHash('sha256').update(recs.join('\n')).digest('hex') };
    }
  }
  return out;
}

describe('parseFrame golden output', () => {
  it('the records of our own lines are unchanged', () => {
    const text = recordsText();
    if (update) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(RECORDS_FILE, text);
    }
    if (dumpDir !== undefined) {
      mkdirSync(dumpDir, { recursive: true });
      writeFileSync(path.join(dumpDir, 'parse-records.jsonl'), text);
    }
    const golden = readFileSync(RECORDS_FILE, 'utf8').split('\n');
    const now = text.split('\n');
    // Line by line first, so a failure names the set and line.
    for (let i = 0; i < Math.max(golden.length, now.length); i++) expect(now[i], `line ${i + 1}`).toBe(golden[i]);
  });

  it('the digests of the large, mutated and third-party sets are unchanged', () => {
    const now = digests();
    if (update) writeFileSync(DIGESTS_FILE, JSON.stringify(now, null, 2) + '\n');
    const golden = JSON.parse(readFileSync(DIGESTS_FILE, 'utf8')) as Record<string, unknown>;
    if (fixtures.length === 0) delete golden['elastic-fixtures-and-captures/plain'], delete golden['elastic-fixtures-and-captures/full'];
    expect(now).toEqual(golden);
  });
});
