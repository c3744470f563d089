import { describe, expect, it } from 'vitest';
import { communityId, communityIdV4 } from '../../../src/mapping/community-id.js';

describe('Community ID v1', () => {
  it('matches the values Elastic computed for its fixtures', () => {
    expect(communityId('67.43.156.15', '10.4.0.5', 6, 38842, 443)).toBe('1:jc/7ajWLmm0xdpLA7mOyvas9TyE=');
    expect(communityId('192.168.2.71', '192.168.2.83', 1, 3, 3)).toBe('1:v5jWdgB//QU/ZfG9vivofYLpWjA=');
    expect(communityId('192.168.48.137', '81.2.69.143', 17, 48689, 48689)).toBe('1:X0/C+OHn+Y6LtFV5zGJkFDVT7/M=');
    expect(communityId('10.251.1.1', '10.251.1.1', 1, 8, 0)).toBe('1:FRJfyWaZVkG3e+uSp7d4BFAySFw=');
    const v6 = '2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6';
    expect(communityId(v6, v6, 58, 128, 0)).toBe('1:l70dMD5f7kI8bfdEgFoDbb7DocE=');
  });
  it('matches the spec example (TCP 128.232.110.120:34855 -> 66.35.250.204:80)', () => {
    expect(communityId('128.232.110.120', '66.35.250.204', 6, 34855, 80)).toBe('1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  });
  it('is symmetric for both directions of a flow', () => {
    expect(communityId('192.0.2.1', '198.51.100.2', 6, 40000, 443)).toBe(communityId('198.51.100.2', '192.0.2.1', 6, 443, 40000));
    expect(communityId('2001:db8::1', '2001:db8::2', 17, 5353, 53)).toBe(communityId('2001:db8::2', '2001:db8::1', 17, 53, 5353));
    // echo request / reply map to each other
    expect(communityId('192.0.2.1', '192.0.2.2', 1, 8, 0)).toBe(communityId('192.0.2.2', '192.0.2.1', 1, 0, 0));
    expect(communityId('2001:db8::1', '2001:db8::2', 58, 128, 0)).toBe(communityId('2001:db8::2', '2001:db8::1', 58, 129, 0));
  });
  it('hashes protocols without ports (ESP, GRE) and ICMP without type', () => {
    expect(communityId('192.0.2.1', '198.51.100.2', 50, undefined, undefined)).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
    expect(communityId('192.0.2.1', '198.51.100.2', 47, undefined, undefined)).toBe(communityId('198.51.100.2', '192.0.2.1', 47, undefined, undefined));
    expect(communityId('10.251.1.1', '10.251.1.1', 1, undefined, undefined)).toBe('1:GRANS5gNsaJ+Ynwa/SCTUF9G7s8=');
  });
  it('returns undefined without addresses, for mixed families, or TCP without ports', () => {
    expect(communityId(undefined, '192.0.2.1', 6, 1, 2)).toBeUndefined();
    expect(communityId('192.0.2.1', '2001:db8::1', 6, 1, 2)).toBeUndefined();
    expect(communityId('192.0.2.1', '192.0.2.2', 6, undefined, 2)).toBeUndefined();
    expect(communityId('192.0.2.1', '192.0.2.2', undefined, 1, 2)).toBeUndefined();
  });
  it('communityIdV4 (numeric addresses) equals the text form', () => {
    const v4 = (t: string) => t.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    for (const [s, d, p, sp, dp] of [
      ['67.43.156.15', '10.4.0.5', 6, 38842, 443],
      ['192.168.2.71', '192.168.2.83', 1, 3, 3],
      ['10.251.1.1', '10.251.1.1', 47, undefined, undefined],
      ['255.255.255.255', '0.0.0.0', 17, 1, 65535],
    ] as const) {
      expect(communityIdV4(v4(s), v4(d), p, sp, dp)).toBe(communityId(s, d, p, sp, dp));
    }
    expect(communityIdV4(-1, 1, 6, 1, 2)).toBeUndefined();
  });
});
