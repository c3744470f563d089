import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSyslog } from '../../../src/syslog/decode.js';
import { fixturesDir } from '../../helpers/paths.js';

/**
 * Every frame of every real capture (logger, rsyslog, syslog-ng, TLS, kernel lines relayed by the
 * daemons). Framing is done simply here: octet counting when a chunk starts with `N `, else LF.
 * Expected header values are read from the frame text independently of the decoder.
 */

const capturesDir = path.join(fixturesDir, 'captures');
const files = fs.readdirSync(capturesDir).filter((f) => f.endsWith('.jsonl')).sort();

interface Capture {
  proto: string;
  text: string;
}

function frames(c: Capture): string[] {
  if (c.proto === 'udp') return [c.text];
  const out: string[] = [];
  const t = c.text;
  let i = 0;
  while (i < t.length) {
    const count = /^(\d+) /.exec(t.slice(i, i + 12));
    if (count) {
      const start = i + count[0].length;
      const n = Number(count[1]);
      expect(start + n).toBeLessThanOrEqual(t.length);
      out.push(t.slice(start, start + n));
      i = start + n;
    } else {
      const lf = t.indexOf('\n', i);
      if (lf < 0) {
        out.push(t.slice(i));
        break;
      }
      out.push(t.slice(i, lf));
      i = lf + 1;
    }
  }
  return out;
}

// Captures are latin1 text of the raw bytes: turn them back into bytes and decode as the inputs will.
const asBytes = (frame: string) => Buffer.from(frame, 'latin1');

const NOW = new Date('2026-11-26T15:00:00Z');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function expectedTime(frame: string): [number, number] | undefined {
  const iso = /^<\d+>(?:1 )?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)/.exec(frame);
  if (iso) return [Date.parse(iso[1]! + iso[3]!) / 1000, iso[2] ? Number(iso[2].padEnd(9, '0')) : 0];
  const bsd = /^<\d+>(\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) /.exec(frame);
  if (bsd) {
    const ms = Date.UTC(2026, MONTHS.indexOf(bsd[1]!), Number(bsd[2]), Number(bsd[3]), Number(bsd[4]), Number(bsd[5]));
    return [ms / 1000, 0];
  }
  return undefined;
}

/** MSG per the documented body rule, found with a regex rather than the decoder's scanner. */
function expectedMsg(frame: string): string {
  const body = frame.replace(/[\n\r\0]+$/, '');
  const r5424 = /^<\d+>1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\])+)(?: (.*))?$/s.exec(body);
  if (r5424) return (r5424[1] ?? '').replace(/^\uFEFF?/, '').replace(/^ /, '');
  const r3164 = /^<\d+>\S+(?: +\d+ \d\d:\d\d:\d\d)? \S+ kernel: (.*)$/s.exec(body);
  if (r3164) return r3164[1]!;
  throw new Error(`unexpected capture frame ${frame}`);
}

describe.each(files)('capture %s', (file) => {
  const captures = fs
    .readFileSync(path.join(capturesDir, file), 'latin1')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Capture);
  const all = captures.flatMap((c, ci) => frames(c).map((f, fi) => ({ name: `${c.proto} #${ci} frame ${fi}`, frame: f })));

  it('has frames', () => {
    expect(all.length).toBeGreaterThan(0);
  });

  it.each(all)('$name', ({ frame }) => {
    const m = decodeSyslog(asBytes(frame), { now: NOW });
    const pri = Number(/^<(\d+)>/.exec(frame)![1]);
    expect(m.format).toBe(/^<\d+>1 /.test(frame) ? 'rfc5424' : 'rfc3164');
    expect(m.priority).toBe(pri);
    expect(m.facility).toBe(pri >> 3);
    expect(m.severity).toBe(pri & 7);
    expect(m.hostname).toBe(/ (vm|fw1) kernel[ :]/.exec(frame)![1]);
    expect(m.appName).toBe('kernel');
    expect(m.timestamp).toEqual(expectedTime(frame));
    expect(m.msg).toBe(expectedMsg(frame));
    // The body never starts with the header's separator and keeps the kernel's trailing space.
    expect(m.msg.startsWith(' ')).toBe(false);
    if (/URGP=0 \n?$/.test(frame)) expect(m.msg.endsWith('URGP=0 ')).toBe(true);
    if (m.msg.startsWith('[12345.678901] ')) {
      expect(m.kernelUptime).toBe(12345.678901);
      expect(m.contentStart).toBe(15);
    } else {
      expect(m.kernelUptime).toBeUndefined();
      expect(m.contentStart).toBe(0);
    }
    const sd = /^<\d+>1 \S+ \S+ \S+ \S+ \S+ (\[.*\]) /.exec(frame);
    expect(m.structuredData).toBe(sd ? sd[1] : undefined);
    // syslog-ng's linux-kmsg source puts the kmsg sequence number in MSGID.
    const msgId = /^<\d+>1 \S+ \S+ \S+ \S+ (\S+) /.exec(frame)?.[1];
    expect(m.msgId).toBe(msgId === undefined || msgId === '-' ? undefined : msgId);
  });
});

describe('the same kernel line relayed every way', () => {
  it('has one msg whatever the sender and format', () => {
    const bodies = new Map<string, Set<string>>();
    for (const file of files) {
      for (const line of fs.readFileSync(path.join(capturesDir, file), 'latin1').split('\n')) {
        if (line.trim() === '') continue;
        for (const frame of frames(JSON.parse(line) as Capture)) {
          if (!frame.includes('SPT=40000')) continue;
          const m = decodeSyslog(asBytes(frame), { now: NOW });
          const key = m.hostname!;
          if (!bodies.has(key)) bodies.set(key, new Set());
          bodies.get(key)!.add(m.msg);
        }
      }
    }
    expect([...bodies.keys()].sort()).toEqual(['fw1', 'vm']);
    for (const set of bodies.values()) expect(set.size).toBe(1);
    expect([...bodies.get('fw1')!][0]!.startsWith('[12345.678901] iptables-dropped: IN=eth0 OUT= MAC=')).toBe(true);
    expect([...bodies.get('vm')!][0]!.startsWith('iptables-dropped: IN=eth0 OUT= MAC=')).toBe(true);
  });
});
