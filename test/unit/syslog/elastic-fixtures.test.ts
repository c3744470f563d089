import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSyslog } from '../../../src/syslog/decode.js';
import { fixturesDir } from '../../helpers/paths.js';

/**
 * Every line of Elastic's iptables fixtures (.log), checked against what Elastic's expected
 * documents say about the header: observer.name (host), log.syslog.priority, @timestamp (minus the
 * year, which Elastic takes from the day the fixture was regenerated).
 */

type Doc = Record<string, unknown>;

function field(doc: Doc, dotted: string): unknown {
  if (dotted in doc) return doc[dotted];
  let cur: unknown = doc;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) return undefined;
    cur = (cur as Doc)[part];
  }
  return cur;
}

const files = [
  'elastic-integrations/test-iptables-raw.log',
  'elastic-integrations/test-ubiquiti.log',
  'beats-module/geo.log',
  'beats-module/icmp.log',
  'beats-module/iptables.log',
  'beats-module/ipv6.log',
  'beats-module/ubiquiti.log',
];

// Lines where we find a host that Elastic's grok cannot (it needs `HOST [token ]kernel:`):
// ulogd LOGEMU lines carry the host before the prefix.
const betterHost = new Map([['Abc-A1', 'ulogd']]);

describe.each(files)('%s', (file) => {
  const lines = fs.readFileSync(path.join(fixturesDir, file), 'utf8').split('\n').filter((l) => l !== '');
  const raw = JSON.parse(fs.readFileSync(path.join(fixturesDir, `${file}-expected.json`), 'utf8')) as Doc[] | { expected: Doc[] };
  const expected = Array.isArray(raw) ? raw : raw.expected;
  // beats-module documents were produced with event.timezone -02:00 (add_locale on the test host).
  const timezone = (field(expected[0]!, 'event.timezone') as string | undefined) ?? 'UTC';

  // Documents are matched by event.original; beats-module/iptables.log has two ulogd lines that
  // Elastic's expected file has no document for.
  const byOriginal = new Map(expected.map((d) => [field(d, 'event.original') as string, d]));

  it('has an expected document for (nearly) every line', () => {
    const missing = lines.filter((l) => !byOriginal.has(l));
    expect(missing.length).toBeLessThanOrEqual(2);
    for (const l of missing) expect(l).toMatch(/ Abc-A1 \[SOMETHING-1234-A\] IN=/);
  });

  it.each(lines.map((line, i) => ({ i, line })))('line $i', ({ line }) => {
    const m = decodeSyslog(line, { now: new Date('2024-12-01T00:00:00Z'), timezone });
    const doc = byOriginal.get(line);
    if (doc === undefined) {
      expect(m).toMatchObject({ format: 'ulogd', hostname: 'Abc-A1', appName: undefined });
      expect(m.msg.startsWith('[SOMETHING-1234-A] IN=')).toBe(true);
      return;
    }

    const observer = field(doc, 'observer.name') as string | undefined;
    if (observer !== undefined) expect(m.hostname).toBe(observer);
    else if (m.hostname !== undefined) expect(m.format).toBe(betterHost.get(m.hostname));
    else expect(line).toMatch(/^\w{3} [ \d]\d \d\d:\d\d:\d\d DENY: /);

    expect(m.priority).toBe(field(doc, 'log.syslog.priority'));

    const ts = field(doc, '@timestamp') as string | undefined;
    if (ts !== undefined) {
      expect(m.timestamp).toBeDefined();
      const iso = new Date(m.timestamp![0] * 1000 + m.timestamp![1] / 1e6).toISOString();
      // ISO stamps carry their year; BSD ones get it inferred, so compare from the month on.
      if (/^(<\d+>)?\d{4}-/.test(line)) expect(iso).toBe(ts);
      else expect(iso.slice(4)).toBe(ts.slice(4));
    } else {
      // beats-module documents carry no @timestamp; the stamp is still decoded: the line's BSD
      // stamp in the fixtures' timezone, in the year before \`now\` (2024-12-01).
      const bsd = /^(\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) /.exec(line);
      expect(bsd, 'a BSD timestamp at the start of the line').not.toBeNull();
      expect(m.timestamp).toEqual([expect.any(Number), 0]);
      const tz = /^([+-])(\d\d):(\d\d)$/.exec(timezone);
      const offsetMin = tz ? (tz[1] === '-' ? -1 : 1) * (Number(tz[2]) * 60 + Number(tz[3])) : 0;
      const year = new Date((m.timestamp![0] + offsetMin * 60) * 1000).getUTCFullYear();
      expect(year).toBe(2024);
      const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
      const [, mon, day, hh, mi, ss] = bsd!;
      const local = Date.UTC(year, months.indexOf(mon!), Number(day), Number(hh), Number(mi), Number(ss)) / 1000;
      expect(m.timestamp![0]).toBe(local - offsetMin * 60);
    }

    // MSG is a suffix of the line, and what follows `kernel: ` when there is such a tag.
    expect(line.endsWith(m.msg)).toBe(true);
    const k = line.indexOf(' kernel: ');
    if (k >= 0) {
      expect(m.appName).toBe('kernel');
      expect(m.msg).toBe(line.slice(k + 9));
    }
    // The netfilter text starts at a prefix, label or key: never at a printk stamp or a space.
    const content = m.msg.slice(m.contentStart);
    expect(content).not.toMatch(/^(\s|\[\s*\d+\.\d+\])/);
    if (/\[\s*\d+\.\d+\]/.test(m.msg.slice(0, 20))) expect(m.kernelUptime).toBeGreaterThan(0);
  });
});

describe('Elastic fixture specifics', () => {
  it('reads BSD stamps in the collector zone (beats fixtures: -02:00)', () => {
    const m = decodeSyslog('Jan  8 03:37:09 example-host kernel: x', { now: new Date('2024-12-01T00:00:00Z'), timezone: '-02:00' });
    expect(m.timestamp).toEqual([Date.parse('2024-01-08T05:37:09Z') / 1000, 0]);
  });
});
