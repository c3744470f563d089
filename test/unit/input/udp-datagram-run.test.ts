import { describe, expect, it } from 'vitest';
import { DatagramRun, PeerAddressCache } from '../../../src/input/udp-datagram-run.js';

const b = (s: string): Buffer => Buffer.from(s);

/** Drain `run`, recording each call as `address:port` and its frames' text. */
function drained(run: DatagramRun): Array<{ from: string; frames: string[] }> {
  const calls: Array<{ from: string; frames: string[] }> = [];
  run.drain((frames, address, port) => calls.push({ from: `${address}:${port}`, frames: frames.map((f) => f.toString()) }));
  return calls;
}

describe('DatagramRun', () => {
  it('hands one sender\'s datagrams over in one call, in order, and empties itself', () => {
    const run = new DatagramRun();
    for (let i = 0; i < 5; i++) run.push(b(`d${i}`), '192.0.2.1', 514);
    expect(run.length).toBe(5);
    expect(run.bytes).toBe(10);
    expect(drained(run)).toEqual([{ from: '192.0.2.1:514', frames: ['d0', 'd1', 'd2', 'd3', 'd4'] }]);
    expect(run.length).toBe(0);
    expect(run.bytes).toBe(0);
    expect(drained(run)).toEqual([]);
  });

  it('splits at every change of sender (address or port): each datagram once, arrival order kept', () => {
    const run = new DatagramRun();
    const from = [
      ['192.0.2.1', 514],
      ['192.0.2.1', 514],
      ['192.0.2.2', 514],
      ['192.0.2.2', 515],
      ['192.0.2.1', 514],
    ] as const;
    from.forEach(([a, p], i) => run.push(b(`d${i}`), a, p));
    expect(drained(run)).toEqual([
      { from: '192.0.2.1:514', frames: ['d0', 'd1'] },
      { from: '192.0.2.2:514', frames: ['d2'] },
      { from: '192.0.2.2:515', frames: ['d3'] },
      { from: '192.0.2.1:514', frames: ['d4'] },
    ]);
  });

  it('reuses its arrays from turn to turn without handing anything over twice', () => {
    const run = new DatagramRun();
    const seen: string[] = [];
    for (let turn = 0; turn < 50; turn++) {
      for (let i = 0; i < 40; i++) run.push(b(`${turn}.${i}`), i % 3 === 0 ? '2001:db8::1' : '198.51.100.7', 9001);
      run.drain((frames) => seen.push(...frames.map((f) => f.toString())));
    }
    expect(seen).toHaveLength(2000);
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, k) => `${Math.floor(k / 40)}.${k % 40}`));
  });

  it('a datagram pushed while draining goes to the next drain', () => {
    const run = new DatagramRun();
    run.push(b('first'), '192.0.2.1', 1);
    const calls: string[][] = [];
    run.drain((frames) => {
      calls.push(frames.map((f) => f.toString()));
      run.push(b('during'), '192.0.2.1', 1);
    });
    expect(calls).toEqual([['first']]);
    expect(drained(run)).toEqual([{ from: '192.0.2.1:1', frames: ['during'] }]);
  });

  it('is empty again after a handler throws', () => {
    const run = new DatagramRun();
    run.push(b('x'), '192.0.2.1', 1);
    expect(() => run.drain(() => { throw new Error('boom'); })).toThrow('boom');
    expect(run.length).toBe(0);
    run.push(b('y'), '192.0.2.1', 1);
    expect(drained(run)).toEqual([{ from: '192.0.2.1:1', frames: ['y'] }]);
  });
});

describe('PeerAddressCache', () => {
  it('canonicalises IPv4-mapped IPv6 and keeps other addresses as they are', () => {
    const c = new PeerAddressCache();
    expect(c.get('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(c.get('192.0.2.1')).toBe('192.0.2.1');
    expect(c.get('2001:db8::1')).toBe('2001:db8::1');
    expect(c.size).toBe(3);
    expect(c.get('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(c.size).toBe(3);
  });

  it('stays bounded with many senders', () => {
    const c = new PeerAddressCache(16);
    for (let i = 0; i < 1000; i++) {
      expect(c.get(`::ffff:198.51.100.${i % 256}`)).toBe(`198.51.100.${i % 256}`);
      expect(c.size).toBeLessThanOrEqual(16);
    }
  });
});
