import { describe, expect, it } from 'vitest';
import { canonicalIp, writeIpBytes } from '../../../src/netfilter/ip-address.js';

const canon = (s: string) => canonicalIp(s, 0, s.length);

describe('canonicalIp', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['fe80:0000:0000:0000:0084:88ff:feae:790a', 'fe80::84:88ff:feae:790a'],
    ['ff02:0000:0000:0000:0000:0000:0000:0016', 'ff02::16'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'], // longest run compressed
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:0db8:0001:0001:0001:0001:0000:0001', '2001:db8:1:1:1:1:0:1'], // single zero group not compressed
    ['2001:DB8::A', '2001:db8::a'],
    ['0000:0000:0000:0000:0000:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6', '2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6'],
  ])('%s -> %s', (input, want) => {
    expect(canon(input)).toEqual({ family: 6, text: want });
    // Agrees with the WHATWG URL serializer, an independent implementation.
    if (!want.includes('.')) expect(new URL(`http://[${input}]/`).hostname).toBe(`[${want}]`);
  });
  it('IPv4', () => {
    expect(canon('192.0.2.1')).toEqual({ family: 4, text: '192.0.2.1' });
    expect(canon('192.000.002.001')).toEqual({ family: 4, text: '192.0.2.1' });
    expect(canon('0.0.0.0')).toEqual({ family: 4, text: '0.0.0.0' });
  });
  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'abc', '1:2:3', '1:2:3:4:5:6:7:8:9', '::1::', ':1', '1:', '12345::', 'g::1', '1.2.3.4a'])(
    'rejects %j',
    (bad) => {
      expect(canon(bad).family).toBe(0);
    },
  );
});

describe('writeIpBytes', () => {
  it('writes network-order bytes', () => {
    const b = new Uint8Array(16);
    expect(writeIpBytes('192.0.2.1', b, 0)).toBe(4);
    expect([...b.subarray(0, 4)]).toEqual([192, 0, 2, 1]);
    expect(writeIpBytes('2001:db8::1', b, 0)).toBe(16);
    expect([...b]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(writeIpBytes('nope', b, 0)).toBe(0);
  });
});
