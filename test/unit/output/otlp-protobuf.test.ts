import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { OtlpProtobufEncoder, ProtobufWriter } from '../../../src/output/otlp-protobuf.js';
import { decodeProtobufRequest } from '../../helpers/otlp-sink.js';
import { sampleRecord } from './sample-records.js';

const resource = { 'service.name': 'iptables-otel', 'service.version': '0.1.0', 'host.name': 'h', 'x.n': 3 };
const scope = { name: 'iptables-otel', version: '0.1.0' };

function ns(t: [number, number]): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

function roundTrip(records: FirewallLogRecord[], doubleKeys: string[] = []) {
  const enc = new OtlpProtobufEncoder(resource, scope, { doubleKeys, initialSize: 64 });
  return decodeProtobufRequest(Buffer.from(enc.encode(records)));
}

describe('OtlpProtobufEncoder', () => {
  it('encodes resource, scope, timestamps, severity, body and typed attributes', () => {
    const r = sampleRecord(7);
    const [d] = roundTrip([r], ['sample.ratio']);
    expect(d).toBeDefined();
    expect(d!.resource).toEqual({
      'service.name': { string: 'iptables-otel' },
      'service.version': { string: '0.1.0' },
      'host.name': { string: 'h' },
      'x.n': { int: '3' },
    });
    expect(d!.scope).toEqual(scope);
    expect(d!.timeUnixNano).toBe(ns(r.timestamp as [number, number]));
    expect(d!.observedTimeUnixNano).toBe(ns(r.observedTimestamp as [number, number]));
    expect(d!.severityNumber).toBe(13);
    expect(d!.severityText).toBe('warning');
    expect(d!.body).toEqual({ string: r.body });
    expect(d!.attributes['source.port']).toEqual({ int: String(r.attributes['source.port']) });
    expect(d!.attributes['related.ip']).toEqual({ array: [{ string: '192.0.2.7' }, { string: '198.51.100.7' }] });
    expect(d!.attributes['sample.ratio']).toEqual({ double: 1241.56789 });
    expect(d!.attributes['iptables.output_device']).toEqual({ string: '' });
    expect(Object.keys(d!.attributes)).toEqual(Object.keys(r.attributes));
  });

  it('uses the observed time when the record has no event time (as the SDK does), leaves severity out, and keeps integral doubles double', () => {
    const r: FirewallLogRecord = {
      observedTimestamp: [1, 2],
      severityNumber: 0,
      body: '',
      attributes: { 'sample.ratio': 12, neg: -5, big: 2 ** 40, t: true, f: false, ints: [1, -1] },
    };
    const [d] = roundTrip([r], ['sample.ratio']);
    expect(d!.timeUnixNano).toBe('1000000002');
    expect(d!.observedTimeUnixNano).toBe('1000000002');
    expect(d!.severityNumber).toBe(0);
    expect(d!.severityText).toBe('');
    expect(d!.attributes).toEqual({
      'sample.ratio': { double: 12 },
      neg: { int: '-5' },
      big: { int: String(2 ** 40) },
      t: { bool: true },
      f: { bool: false },
      ints: { array: [{ int: '1' }, { int: '-1' }] },
    });
  });

  it('handles non-ASCII and long strings (length prefixes of 1, 2 and 3 bytes)', () => {
    const long = 'x'.repeat(20_000);
    const r: FirewallLogRecord = {
      observedTimestamp: [1_732_600_000, 999_999_999],
      severityNumber: 4,
      body: 'héllo wörld ✓ 𝄞 ' + long,
      attributes: { 'k€y': 'välue', mid: 'y'.repeat(200), short: 'é' },
    };
    const many = Array.from({ length: 300 }, () => r);
    const out = roundTrip(many);
    expect(out).toHaveLength(300);
    for (const d of out) {
      expect(d.body).toEqual({ string: r.body });
      expect(d.attributes).toEqual({ 'k€y': { string: 'välue' }, mid: { string: 'y'.repeat(200) }, short: { string: 'é' } });
      expect(d.observedTimeUnixNano).toBe('1732600000999999999');
    }
  });

  it('reuses its buffer: a second batch does not corrupt the first result', () => {
    const enc = new OtlpProtobufEncoder(resource, scope);
    const a = enc.encode([sampleRecord(1)]);
    const aCopy = Buffer.from(a);
    enc.encode([sampleRecord(2), sampleRecord(3)]);
    expect(Buffer.from(a).equals(aCopy)).toBe(true);
  });

  it('lends its buffer without copying, and never hands out bytes still on loan', () => {
    const enc = new OtlpProtobufEncoder(resource, scope, { initialSize: 64 });
    const a = enc.encodeLeased([sampleRecord(1)]);
    const aCopy = Buffer.from(a.bytes);
    const b = enc.encodeLeased([sampleRecord(2)]);
    expect(Buffer.from(a.bytes).equals(aCopy)).toBe(true);
    a.release();
    a.release(); // idempotent: must not put the buffer in the spare list twice
    const c = enc.encodeLeased([sampleRecord(3)]);
    const d = enc.encodeLeased([sampleRecord(4)]);
    expect(decodeProtobufRequest(Buffer.from(b.bytes))[0]!.body).toEqual({ string: sampleRecord(2).body });
    expect(decodeProtobufRequest(Buffer.from(c.bytes))[0]!.body).toEqual({ string: sampleRecord(3).body });
    expect(decodeProtobufRequest(Buffer.from(d.bytes))[0]!.body).toEqual({ string: sampleRecord(4).body });
  });

  it('writes exact nanosecond timestamps and int64 varints (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 34 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        (sec, nanos, n) => {
          const [d] = roundTrip([{ observedTimestamp: [sec, nanos], severityNumber: 9, body: 'b', attributes: { n } }]);
          expect(d!.observedTimeUnixNano).toBe(ns([sec, nanos]));
          expect(d!.attributes['n']).toEqual({ int: String(n) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes integers beyond int64 as doubles (a varint cannot hold them)', () => {
    const [d] = roundTrip([{ observedTimestamp: [1, 2], severityNumber: 9, body: 'b', attributes: { a: 2 ** 64, b: -(2 ** 70), c: 1e300, d: -(2 ** 63) } }]);
    expect(d!.attributes).toEqual({ a: { double: 2 ** 64 }, b: { double: -(2 ** 70) }, c: { double: 1e300 }, d: { int: String(-(2n ** 63n)) } });
  });

  it('never serves stale bytes from its caches: mutated arrays, changing values, key shapes, cache switch-off', () => {
    const enc = new OtlpProtobufEncoder(resource, scope, { initialSize: 64 });
    const flags = ['SYN'];
    const constant = Object.freeze(['network']) as string[];
    const decode = (records: FirewallLogRecord[]) => decodeProtobufRequest(Buffer.from(enc.encode(records)));
    const rec = (attributes: FirewallLogRecord['attributes']): FirewallLogRecord => ({ observedTimestamp: [1, 2], severityNumber: 9, body: 'b', attributes });
    for (let round = 0; round < 3; round++) {
      // Past the review (1024 lookups), with 2,000 distinct values: the value cache of `addr` switches off.
      const many = Array.from({ length: 2000 }, (_, i) =>
        rec({ k: 'const', addr: `192.0.2.${i % 251}.${i}`, port: i, cat: constant, flags, seq: i % 3 === 0 ? 'a' : 'é', on: i % 2 === 0 }),
      );
      const out = decode(many);
      out.forEach((d, i) => {
        expect(d.attributes).toEqual({
          k: { string: 'const' },
          addr: { string: `192.0.2.${i % 251}.${i}` },
          port: { int: String(i) },
          cat: { array: [{ string: 'network' }] },
          flags: { array: [{ string: flags[0] }] },
          seq: { string: i % 3 === 0 ? 'a' : 'é' },
          on: { bool: i % 2 === 0 },
        });
      });
      // The same array object, mutated: its new content must be written.
      flags[0] = round === 0 ? 'ACK' : round === 1 ? 'FIN' : 'SYN';
      flags.push('PSH');
      const [m] = decode([rec({ flags })]);
      expect(m!.attributes['flags']).toEqual({ array: flags.map((f) => ({ string: f })) });
      flags.length = 1;
      // Other key orders and missing keys, after the runs of the first shape were learnt.
      const [a, b] = decode([rec({ port: 7, k: 'const', cat: constant }), rec({ cat: constant, k: 'other', port: undefined as unknown as number })]);
      expect(a!.attributes).toEqual({ port: { int: '7' }, k: { string: 'const' }, cat: { array: [{ string: 'network' }] } });
      expect(Object.keys(a!.attributes)).toEqual(['port', 'k', 'cat']);
      expect(b!.attributes).toEqual({ cat: { array: [{ string: 'network' }] }, k: { string: 'other' } });
    }
  });

  it('ProtobufWriter.end moves the body when the length guess is too large', () => {
    const w = new ProtobufWriter(8);
    const m = w.begin(4);
    w.string('abc');
    w.end(m, 4);
    expect(Buffer.from(w.finish())).toEqual(Buffer.from([4, 3, 0x61, 0x62, 0x63]));
  });
});
