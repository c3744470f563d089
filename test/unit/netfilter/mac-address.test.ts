/** MAC text helpers: validation at an offset, RFC 7042 form, hex bytes, the MAC= link header. */
import { describe, expect, it } from 'vitest';
import { hexByteAt, isMacAt, macAt, parseMacHeader } from '../../../src/netfilter/mac-address.js';

describe('isMacAt / macAt', () => {
  it('accepts six hex pairs with : or - separators, at an offset, any case', () => {
    expect(isMacAt('52:54:00:12:34:56', 0)).toBe(true);
    expect(isMacAt('x=aa-BB-cc-DD-ee-FF', 2)).toBe(true);
    expect(isMacAt('09:af:AF:00:99:fa', 0)).toBe(true);
    expect(macAt('x=52:54:00:ab:cd:ef rest', 2)).toBe('52-54-00-AB-CD-EF');
    expect(macAt('aa-bb-cc-dd-ee-ff', 0)).toBe('AA-BB-CC-DD-EE-FF');
  });

  it('rejects short input, non-hex digits (each position) and other separators', () => {
    expect(isMacAt('', 0)).toBe(false);
    expect(isMacAt('52:54:00:12:34:5', 0)).toBe(false); // 16 characters
    expect(isMacAt('x52:54:00:12:34:56', 2)).toBe(false); // runs past the end from this offset
    expect(isMacAt('52:54:00:12:34:56', 1)).toBe(false);
    const good = '52:54:00:12:34:56';
    for (let k = 0; k < 6; k++) {
      for (const d of [0, 1]) {
        for (const bad of ['g', 'G', '/', ':', '@', '`', ' ']) {
          const p = 3 * k + d;
          const s = good.slice(0, p) + bad + good.slice(p + 1);
          expect(isMacAt(s, 0), s).toBe(false);
        }
      }
      if (k < 5) {
        for (const sep of ['.', ' ', '_', '0']) {
          const p = 3 * k + 2;
          const s = good.slice(0, p) + sep + good.slice(p + 1);
          expect(isMacAt(s, 0), s).toBe(false);
        }
      }
    }
    // Boundary characters of each hex range are accepted.
    expect(isMacAt('00:99:aa:ff:AA:FF', 0)).toBe(true);
  });
});

describe('hexByteAt', () => {
  it('reads two hex digits, either case, and -1 for anything else', () => {
    expect(hexByteAt('00', 0)).toBe(0);
    expect(hexByteAt('x0800', 1)).toBe(0x08);
    expect(hexByteAt('x0800', 3)).toBe(0x00);
    expect(hexByteAt('fF', 0)).toBe(0xff);
    expect(hexByteAt('9a', 0)).toBe(0x9a);
    expect(hexByteAt('A0', 0)).toBe(0xa0);
    expect(hexByteAt('g0', 0)).toBe(-1);
    expect(hexByteAt('0g', 0)).toBe(-1);
    expect(hexByteAt('0', 0)).toBe(-1);
    expect(hexByteAt('/0', 0)).toBe(-1);
    expect(hexByteAt('0:', 0)).toBe(-1);
  });
});

describe('parseMacHeader', () => {
  const at = (s: string): ReturnType<typeof parseMacHeader> => parseMacHeader(`MAC=${s} SRC=`, 4, 4 + s.length);

  it('splits destination, source and ethertype (RFC 7042 text)', () => {
    expect(at('52:54:00:12:34:56:52:54:00:65:43:21:08:00')).toEqual({ destination: '52-54-00-12-34-56', source: '52-54-00-65-43-21', etherType: 0x0800 });
    expect(at('ff:ff:ff:ff:ff:ff:02:00:c0:00:02:02:86:dd')).toEqual({ destination: 'FF-FF-FF-FF-FF-FF', source: '02-00-C0-00-02-02', etherType: 0x86dd });
  });

  it('keeps the first 14 octets of a longer header (VLAN tag)', () => {
    expect(at('52:54:00:12:34:56:52:54:00:65:43:21:81:00:00:64:08:00')).toEqual({ destination: '52-54-00-12-34-56', source: '52-54-00-65-43-21', etherType: 0x8100 });
  });

  it('a destination only, or destination and source without ethertype', () => {
    expect(at('52:54:00:12:34:56')).toEqual({ destination: '52-54-00-12-34-56', source: undefined, etherType: undefined });
    expect(at('52:54:00:12:34:56:52:54:00:65:43:21')).toEqual({ destination: '52-54-00-12-34-56', source: '52-54-00-65-43-21', etherType: undefined });
    expect(at('52:54:00:12:34:56:52:54:00:65:43:21:08')).toEqual({ destination: '52-54-00-12-34-56', source: '52-54-00-65-43-21', etherType: undefined });
    expect(at('52:54:00:12:34:56:52:54:00:65:43:21:0g:00')).toEqual({ destination: '52-54-00-12-34-56', source: '52-54-00-65-43-21', etherType: undefined });
    expect(at('52:54:00:12:34:56:52:54:00:65:43:21-08-00')).toEqual({ destination: '52-54-00-12-34-56', source: '52-54-00-65-43-21', etherType: undefined });
    expect(at('52:54:00:12:34:56-52:54:00:65:43:21:08:00')).toEqual({ destination: '52-54-00-12-34-56', source: undefined, etherType: undefined });
  });

  it('undefined when it does not start with a MAC address', () => {
    expect(at('')).toBeUndefined();
    expect(at('52:54:00:12:34')).toBeUndefined();
    expect(at('zz:54:00:12:34:56:52:54:00:65:43:21:08:00')).toBeUndefined();
  });

  it('the same header twice (cached) and alternating headers give the same answers', () => {
    const a = '52:54:00:12:34:56:52:54:00:65:43:21:08:00';
    const b = '02:00:c6:33:64:01:02:00:c6:33:64:02:08:00';
    const first = at(a);
    expect(at(a)).toEqual(first);
    expect(at(b)).toEqual({ destination: '02-00-C6-33-64-01', source: '02-00-C6-33-64-02', etherType: 0x0800 });
    expect(at(a)).toEqual(first);
    // Different offsets into different strings with the same header text.
    expect(parseMacHeader(`xxMAC=${a}`, 6, 6 + a.length)).toEqual(first);
  });
});
