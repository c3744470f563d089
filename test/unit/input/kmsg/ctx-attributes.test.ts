/**
 * A source input's per-record attributes (`ReceiveContext.attributes`) come out the same on both
 * encoding paths: parseFrame + OtlpProtobufEncoder, and the direct encoder workers use by default.
 * Every name a source input sets is in the attribute table.
 */
import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_BY_NAME } from '../../../../src/mapping/attribute-table.js';
import { parseFrame } from '../../../../src/mapping/parse-frame.js';
import type { ReceiveContext } from '../../../../src/mapping/record.js';
import { OtlpDirectEncoder } from '../../../../src/output/otlp-direct.js';
import { OtlpProtobufEncoder } from '../../../../src/output/otlp-protobuf.js';
import { ProtobufWriter } from '../../../../src/output/protobuf-writer.js';

const FRAMES = [
  '<4>1 2026-12-02T02:30:00.123456Z fw1 kernel - 8123 - FW-DROP IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=22',
  'Dec  2 02:12:25 fw1 kernel: [ 12.5] FW IN=eth0 OUT= SRC=192.0.2.1 DST=198.51.100.2 LEN=40 PROTO=UDP SPT=53 DPT=5353 LEN=20',
  'not a netfilter line at all',
];
const CTXS: ReceiveContext[] = [
  { receivedAt: [1796178000, 5], attributes: { 'input.type': 'kmsg', 'iptables.kernel_uptime_us': 5000001 } },
  { receivedAt: [1796178000, 6], attributes: { 'input.type': 'log', 'log.file.path': `/var/log/${'deep/'.repeat(300)}kern.log`, 'log.offset': 123456789012 } },
  { receivedAt: [1796178000, 7], attributes: { 'input.type': 'journald', 'journald.host.boot_id': 'd8b1db9b444a499496cf0cefcb9a14c2', 'systemd.transport': 'kernel', 'host.id': '9ce8' } },
  { receivedAt: [1796178000, 8] },
];

function standard(frame: string, ctx: ReceiveContext): Buffer {
  const w = new ProtobufWriter(1 << 16);
  new OtlpProtobufEncoder({}, { name: '' }, { writer: w }).appendLogRecord(parseFrame(frame, ctx));
  return Buffer.from(w.buf.subarray(0, w.pos));
}

describe('ReceiveContext.attributes', () => {
  it('are written identically by the standard and the direct encoder', () => {
    const enc = new OtlpDirectEncoder(undefined);
    const want: Buffer[] = [];
    for (const f of FRAMES) {
      for (const c of CTXS) {
        enc.append(f, c);
        want.push(standard(f, c));
      }
    }
    const got = enc.takeChunk().map((r) => Buffer.from(r.chunk.subarray(r.start, r.end)));
    expect(got).toEqual(want);
  });
  it('reach the record with their types', () => {
    const r = parseFrame(FRAMES[1]!, CTXS[1]);
    expect(r.attributes['log.offset']).toBe(123456789012);
    expect(r.attributes['input.type']).toBe('log');
  });
  it('use names from the attribute table only', () => {
    for (const c of CTXS) for (const k of Object.keys(c.attributes ?? {})) expect(ATTRIBUTE_BY_NAME.has(k), k).toBe(true);
  });
});
