/**
 * The direct encoder (frame -> OTLP LogRecord bytes, no record object) must write exactly the
 * bytes of the standard path (parseFrame -> OtlpProtobufEncoder) for every frame: the whole
 * parser corpus, the benchmark mix, Elastic's fixtures, edge values and seeded mutations, under a
 * plain and a full option set, from strings and from Buffers, and with or without a peer.
 */
import { describe, expect, it } from 'vitest';
import { assertRequirement, shouldRun } from '../../helpers/requirements.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import type { ReceiveContext } from '../../../src/mapping/record.js';
import { OtlpDirectEncoder, ParseOutcome, type EncodedLogRecord } from '../../../src/output/otlp-direct.js';
import { OtlpProtobufEncoder } from '../../../src/output/otlp-protobuf.js';
import { ProtobufWriter } from '../../../src/output/protobuf-writer.js';
import {
  benchLines,
  byteMutations,
  EDGE_LINES,
  HOSTILE_LINES,
  fixtureLines,
  fixturesRequirement,
  FULL_CASE,
  mutations,
  NO_CTX_CASE,
  ours,
  PLAIN_CASE,
  RECEIVED,
} from '../../helpers/parser-corpus.js';

const PLAIN = PLAIN_CASE;
const FULL = FULL_CASE;
const NO_CTX = NO_CTX_CASE;

type Frame = string | Buffer;

/** Standard path: one LogRecord field per frame, and the outcome the pipeline counts. */
function standard(frames: readonly Frame[], cfg: typeof PLAIN): { bytes: Buffer[]; outcomes: number[] } {
  const w = new ProtobufWriter(1 << 16);
  const enc = new OtlpProtobufEncoder({}, { name: '' }, { writer: w });
  const bytes: Buffer[] = [];
  const outcomes: number[] = [];
  for (const f of frames) {
    w.reset();
    const r = parseFrame(f, cfg.ctx, cfg.options);
    enc.appendLogRecord(r);
    bytes.push(Buffer.from(w.buf.subarray(0, w.pos)));
    const a = r.attributes;
    outcomes.push(a['error.type'] !== undefined ? ParseOutcome.Failed : a['iptables.unparsed'] !== undefined ? ParseOutcome.Partial : ParseOutcome.Ok);
  }
  return { bytes, outcomes };
}

/** Direct path, in chunks of `chunk` frames (state carried across records and chunks, as in the worker). */
function direct(frames: readonly Frame[], cfg: typeof PLAIN, chunk = 97): { bytes: Buffer[]; outcomes: number[] } {
  const enc = new OtlpDirectEncoder(cfg.options);
  const bytes: Buffer[] = [];
  const outcomes: number[] = [];
  for (let i = 0; i < frames.length; i += chunk) {
    for (const f of frames.slice(i, i + chunk)) outcomes.push(enc.append(f, cfg.ctx));
    const recs: EncodedLogRecord[] = enc.takeChunk();
    for (const r of recs) bytes.push(Buffer.from(r.chunk.subarray(r.start, r.end)));
  }
  // Only frames that are not netfilter lines may take the standard path: otherwise this test
  // would compare the standard path with itself.
  expect(enc.standardPathFrames).toBe(outcomes.filter((o) => o === ParseOutcome.Failed).length);
  return { bytes, outcomes };
}

function compare(name: string, frames: readonly Frame[]): void {
  for (const [cname, cfg] of [
    ['plain', PLAIN],
    ['full', FULL],
    ['no-ctx', NO_CTX],
  ] as const) {
    const a = standard(frames, cfg);
    const b = direct(frames, cfg);
    expect(b.bytes.length, `${name}/${cname}: record count`).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) {
      if (!a.bytes[i]!.equals(b.bytes[i]!)) {
        expect.fail(
          `${name}/${cname} frame ${i} differs: ${JSON.stringify(String(frames[i]))}\n standard ${a.bytes[i]!.toString('hex')}\n direct   ${b.bytes[i]!.toString('hex')}`,
        );
      }
    }
    expect(b.outcomes, `${name}/${cname}: outcomes`).toEqual(a.outcomes);
  }
}

const fixturesReq = fixturesRequirement();

describe('OtlpDirectEncoder: the same bytes as parseFrame + OtlpProtobufEncoder', () => {
  it('the kernel corpus, sample lines and edge values', () => compare('ours', ours));
  it('the benchmark mix (strings and Buffers)', () => {
    compare('bench', benchLines());
    compare('bench-buffers', benchLines().slice(0, 3000).map((l) => Buffer.from(l, 'utf8')));
  });
  it.skipIf(!shouldRun(fixturesReq))("Elastic's fixtures and the senders' captures", () => {
    assertRequirement(fixturesReq);
    compare('fixtures', fixtureLines());
  });
  it('seeded mutations (text and invalid UTF-8)', () => {
    compare('mutations', mutations(ours, 15_000, 0xdead01));
    compare('mutations-bench', mutations(benchLines().slice(0, 400), 5_000, 0xbeef02));
    compare('byte-mutations', byteMutations([...ours, ...benchLines().slice(0, 200)], 3_000, 0x5eed03));
  });
  it('hostile and empty frames', () => {
    compare('hostile', [
      ...HOSTILE_LINES,
      `<4>Nov 26 14:24:16 ${'h'.repeat(300)} kernel: p${'é'.repeat(200)}: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=2 SYN`,
      ...EDGE_LINES.slice(0, 10),
    ]);
  });
  it('a changing receive context and header are not served from the caches', () => {
    const line = benchLines()[0]!;
    const frames = [line, line.replace('fw1', 'fw2'), line.replace('<4>', '<6>'), line, line.replace(' kernel:', ' kernel[12]:')];
    const ctxs: ReceiveContext[] = [
      { transport: 'udp', peerAddress: '192.0.2.9', peerPort: 514, receivedAt: RECEIVED },
      { transport: 'udp', peerAddress: '192.0.2.10', peerPort: 514, receivedAt: RECEIVED },
      { transport: 'tls', peerAddress: '192.0.2.10', peerPort: 6514, receivedAt: RECEIVED },
      { transport: 'tls', peerAddress: '192.0.2.10', receivedAt: RECEIVED },
      { transport: 'relp', peerAddress: '192.0.2.10', peerPort: 40000, receivedAt: RECEIVED },
      { receivedAt: RECEIVED },
    ];
    const enc = new OtlpDirectEncoder(PLAIN.options);
    const w = new ProtobufWriter(1 << 16);
    const std = new OtlpProtobufEncoder({}, { name: '' }, { writer: w });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < frames.length; i++) {
        for (let j = 0; j < ctxs.length; j++) {
          enc.append(frames[i]!, ctxs[j]);
          const [r] = enc.takeChunk();
          w.reset();
          std.appendLogRecord(parseFrame(frames[i]!, ctxs[j], PLAIN.options));
          expect(Buffer.from(r!.chunk.subarray(r!.start, r!.end)).equals(Buffer.from(w.buf.subarray(0, w.pos)))).toBe(true);
        }
      }
    }
  });
  it('remembered link and prefix blocks follow every value they are made of, and new options', () => {
    const line = benchLines()[0]!;
    const frames = [
      line,
      line.replace('IN=eth0', 'IN=eth1'),
      line.replace('OUT= ', 'OUT=eth2 '),
      line.replace(/MAC=\S+/, 'MAC=02:00:0a:c8:00:09:02:00:0a:c8:00:02:86:dd'),
      line.replace(/MAC=\S+/, 'MAC=02:00:0a:c8:00:01:02:00:0a:c8:00:07:08:00'),
      line.replace(/MAC=\S+/, 'MAC=02:00:0a:c8:00:01:02:00:0a:c8:00:02:08:00:ab'),
      line.replace('IN=eth0', 'IN=eth0 PHYSIN=veth1'),
      line.replace(/MAC=\S+ /, ''),
      line.replace(/kernel: .*IN=/, 'kernel: [UFW ALLOW] IN='),
      line.replace(/kernel: .*IN=/, 'kernel: IN='),
      line.replace(/DST=\S+ /, ''),
      line.replace(/ SRC=\S+/, ''),
      line.replace(' PROTO=', ' MARK=0x1 PROTO='),
      line,
    ];
    // The same frames under three option sets in turn (a config reload): user rules rename actions.
    const optionSets = [PLAIN.options, FULL.options, PLAIN.options];
    const enc = new OtlpDirectEncoder(optionSets[0]);
    const w = new ProtobufWriter(1 << 16);
    const std = new OtlpProtobufEncoder({}, { name: '' }, { writer: w });
    for (const options of optionSets) {
      enc.setOptions(options);
      for (let round = 0; round < 2; round++) {
        for (const f of frames) {
          enc.append(f, PLAIN.ctx);
          const [r] = enc.takeChunk();
          w.reset();
          std.appendLogRecord(parseFrame(f, PLAIN.ctx, options));
          const want = Buffer.from(w.buf.subarray(0, w.pos));
          const got = Buffer.from(r!.chunk.subarray(r!.start, r!.end));
          if (!got.equals(want)) expect.fail(`differs: ${f}\n standard ${want.toString('hex')}\n direct   ${got.toString('hex')}`);
        }
      }
    }
    expect(enc.standardPathFrames).toBe(0);
  });

  it('chunks given back are reused for later chunks, up to a bounded number of spares', () => {
    const enc = new OtlpDirectEncoder(PLAIN.options);
    const lines = benchLines();
    // Enough records to fill most of the encoder's buffer, so the buffer itself is handed over.
    const fill = (): Uint8Array => {
      for (let i = 0; i < 900; i++) enc.append(lines[i % lines.length]!, PLAIN.ctx);
      return enc.takeChunk()[0]!.chunk;
    };
    const first = fill();
    enc.recycle(first);
    fill(); // handed over the buffer allocated at the first take; the given-back one is now in use
    expect(fill().buffer).toBe(first.buffer);
    // A flood's worth of chunks in flight, all given back: a bounded number is kept.
    const inFlight = Array.from({ length: 20 }, fill);
    for (const c of inFlight) enc.recycle(c);
    const spares = (enc as unknown as { spare: unknown[] }).spare.length;
    expect(spares).toBeGreaterThanOrEqual(4);
    expect(spares).toBeLessThanOrEqual(8);
  });

  it('a whole request from encoded records equals the standard request', () => {
    const frames = benchLines().slice(0, 700);
    const resource = { 'service.name': 'iptables-otel', 'host.name': 'fw1' };
    const scope = { name: 'iptables-otel', version: '1.2.3' };
    const enc = new OtlpDirectEncoder(PLAIN.options);
    const recs: EncodedLogRecord[] = [];
    // Several chunks, so the request joins runs from different chunks.
    for (let i = 0; i < frames.length; i += 250) {
      for (const f of frames.slice(i, i + 250)) enc.append(f, PLAIN.ctx);
      recs.push(...enc.takeChunk());
    }
    const fromEncoded = new OtlpProtobufEncoder(resource, scope).encodeEncodedLeased(recs);
    const fromRecords = new OtlpProtobufEncoder(resource, scope).encode(frames.map((f) => parseFrame(f, PLAIN.ctx, PLAIN.options)));
    expect(Buffer.from(fromEncoded.bytes).equals(Buffer.from(fromRecords))).toBe(true);
  });
  it('a request of one chunk\'s leading records is sent from the chunk itself, with the same bytes', () => {
    const frames = benchLines().slice(0, 300);
    const resource = { 'service.name': 'iptables-otel', 'host.name': 'fw1' };
    const scope = { name: 'iptables-otel', version: '1.2.3' };
    const enc = new OtlpDirectEncoder(PLAIN.options);
    for (const f of frames) enc.append(f, PLAIN.ctx);
    const recs = enc.takeChunk();
    const out = new OtlpProtobufEncoder(resource, scope);
    const std = new OtlpProtobufEncoder(resource, scope);
    const records = frames.map((f) => parseFrame(f, PLAIN.ctx, PLAIN.options));
    // The whole chunk, its first 100 records (both in place), then the rest (copied).
    for (const [from, to] of [[0, 300], [0, 100], [100, 300], [0, 1]] as const) {
      const req = out.encodeEncodedLeased(recs.slice(from, to));
      expect(Buffer.from(req.bytes).equals(Buffer.from(std.encode(records.slice(from, to)))), `${from}..${to}`).toBe(true);
      expect(req.bytes.buffer === recs[0]!.chunk.buffer, `${from}..${to} in place`).toBe(from === 0);
      req.release();
    }
    // A resource too large for the head room falls back to a copy, with the same bytes.
    const big = { 'service.name': 'x', 'huge.attribute': 'y'.repeat(2000) };
    const req = new OtlpProtobufEncoder(big, scope).encodeEncodedLeased(recs);
    expect(req.bytes.buffer === recs[0]!.chunk.buffer).toBe(false);
    expect(Buffer.from(req.bytes).equals(Buffer.from(new OtlpProtobufEncoder(big, scope).encode(records)))).toBe(true);
  });

  it('outcomes match what ParseOutcomeCounter counts on records', () => {
    const frames = ['not a firewall line', `<4>Nov 26 14:24:16 fw1 kernel: x: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 BOGUS LEN=1`, benchLines()[1]!];
    const enc = new OtlpDirectEncoder(PLAIN.options);
    expect(frames.map((f) => enc.append(f, PLAIN.ctx))).toEqual([ParseOutcome.Failed, ParseOutcome.Partial, ParseOutcome.Ok]);
    expect(enc.standardPathFrames).toBe(1);
  });
});
