import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SHA1_BASE64_LENGTH, SHA1_MAX_MESSAGE, sha1Base64 } from '../../../src/mapping/sha1.js';

/** base64(SHA-1(msg)) through the one-block hash, written after a few filler bytes. */
function ours(msg: Uint8Array, room = 64): { text: string; end: number; out: Uint8Array } {
  // The message sits in a larger buffer with garbage after it: only its n bytes may count.
  const padded = randomBytes(64);
  padded.set(msg);
  const out = new Uint8Array(room).fill(0xee);
  const end = sha1Base64(padded, msg.length, out, 3);
  return { text: Buffer.from(out.subarray(3, end)).toString('latin1'), end, out };
}

describe('sha1Base64 (one-block SHA-1)', () => {
  it('matches the FIPS 180 examples', () => {
    expect(ours(new Uint8Array(0)).text).toBe(Buffer.from('da39a3ee5e6b4b0d3255bfef95601890afd80709', 'hex').toString('base64'));
    expect(ours(Buffer.from('abc')).text).toBe(Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex').toString('base64'));
  });

  it('matches node:crypto on random messages of every length it takes', () => {
    for (let n = 0; n <= SHA1_MAX_MESSAGE; n++) {
      for (let k = 0; k < 40; k++) {
        const msg = randomBytes(n);
        const want = createHash('sha1').update(msg).digest('base64');
        expect(ours(msg).text, `length ${n}`).toBe(want);
      }
    }
  });

  it('writes exactly 28 bytes at the position given and leaves the rest alone', () => {
    const { end, out } = ours(Buffer.from('community id'));
    expect(end).toBe(3 + SHA1_BASE64_LENGTH);
    expect([...out.subarray(0, 3)]).toEqual([0xee, 0xee, 0xee]);
    expect(out[end]).toBe(0xee);
  });

  it('refuses messages longer than one block can hold', () => {
    expect(() => sha1Base64(new Uint8Array(56), 56, new Uint8Array(64), 0)).toThrow(RangeError);
  });
});
