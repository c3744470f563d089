import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OctetCountingFramer } from '../../../src/framing/octet-counting.js';
import type { FramingError } from '../../../src/framing/framer.js';
import { bytewise, cut, oc, run } from './framing-helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('OctetCountingFramer', () => {
  it('reads counted frames, including an LF counted in the body', () => {
    const m1 = '<12>1 2026-11-26T14:19:13.283484+00:00 vm kernel - - -  iptables-dropped: x\n';
    const m2 = '<4>Nov 26 14:20:01 fw1 kernel: y';
    expect(run(new OctetCountingFramer(), [b(oc(m1) + oc(m2))])).toEqual([m1, m2]);
  });

  it('ignores LF / NUL / SP between frames', () => {
    expect(run(new OctetCountingFramer(), [b('3 abc\n\n3 def\x00 1 g')])).toEqual(['abc', 'def', 'g']);
  });

  it('handles a count split across chunks and a body split byte by byte', () => {
    const stream = b(oc('hello world') + oc('x'.repeat(123)));
    expect(run(new OctetCountingFramer(), bytewise(stream))).toEqual(['hello world', 'x'.repeat(123)]);
    expect(run(new OctetCountingFramer(), [b('1'), b('1'), b(' hello'), b(' world')])).toEqual(['hello world']);
  });

  it('emits subarrays for frames inside one chunk', () => {
    const chunk = b('3 abc3 def');
    const got: Buffer[] = [];
    new OctetCountingFramer().feed(chunk, (f) => got.push(f));
    expect(got.map((f) => f.buffer === chunk.buffer)).toEqual([true, true]);
  });

  it('skips the counted bytes of a frame larger than the cap, then continues', () => {
    const errors: FramingError[] = [];
    const f = new OctetCountingFramer({ maxFrameSize: 10, onError: (e) => errors.push(e) });
    const big = 'z'.repeat(50);
    const frames = run(f, cut(b(oc('ok1') + oc(big) + oc('ok2')), [3, 10, 30, 55]), errors);
    expect(frames).toEqual(['ok1', 'ok2']);
    expect(errors.map((e) => e.reason)).toEqual(['oversize']);
  });

  it('resyncs after garbage at the next LF', () => {
    const errors: FramingError[] = [];
    const f = new OctetCountingFramer({ onError: (e) => errors.push(e) });
    const frames = run(f, [b('3 abcGARBAGE 12 x\n'), b('3 def'), b('0 nope\n3 ghi'), b('12345678901 too many digits\n2 ok')], errors);
    expect(frames).toEqual(['abc', 'def', 'ghi', 'ok']);
    expect(errors.map((e) => e.reason)).toEqual(['bad_octet_count', 'bad_octet_count', 'bad_octet_count']);
  });

  it('reports a partial frame at EOF as truncated', () => {
    const errors: FramingError[] = [];
    expect(run(new OctetCountingFramer({ onError: (e) => errors.push(e) }), [b('3 abc10 short')], errors)).toEqual(['abc']);
    expect(errors.map((e) => e.reason)).toEqual(['truncated']);
    const errors2: FramingError[] = [];
    run(new OctetCountingFramer({ onError: (e) => errors2.push(e) }), [b('12')], errors2);
    expect(errors2.map((e) => e.reason)).toEqual(['truncated']);
  });

  it('any chunking gives the same frames (property)', () => {
    const msg = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '1', '<', '\x00'), minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 10 }), fc.array(fc.nat(300), { maxLength: 10 }), (msgs, points) => {
        const stream = b(msgs.map(oc).join(''));
        expect(run(new OctetCountingFramer(), cut(stream, points))).toEqual(msgs);
        expect(run(new OctetCountingFramer(), bytewise(stream))).toEqual(msgs);
      }),
      { numRuns: 300 },
    );
  });
});
