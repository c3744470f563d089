/**
 * The file input hands each line to the parser as written in the file. These are the shapes
 * syslog daemons and ulogd2 write, made from the real kernel corpus: the traditional file format
 * (RFC 3164 without PRI), RSYSLOG_FileFormat (RFC 3339 stamps), ulogd LOGEMU, and bare messages.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../../../src/mapping/parse-frame.js';

const corpus = path.resolve(import.meta.dirname, '../../../corpus');
/** `<4>Nov 26 14:24:16 fw1 kernel: MSG` lines of the corpus. */
const relayed = readFileSync(path.join(corpus, 'kernel.log'), 'utf8').split('\n').filter((l) => l !== '');
const ulogd = readFileSync(path.join(corpus, 'kernel-ulogd.log'), 'utf8').split('\n').filter((l) => l !== '');

/** Strip `<PRI>`: how rsyslog's default file format and syslog-ng's file() write the line. */
const traditional = relayed.map((l) => l.replace(/^<\d+>/, ''));
/** RSYSLOG_FileFormat: `2026-11-26T14:24:16.000000+00:00 fw1 kernel: MSG`. */
const rfc3339 = traditional.map((l) => l.replace(/^Nov 26 (\d\d:\d\d:\d\d)/, '2026-11-26T$1.123456+00:00'));
/** The message alone (`kernel: ` removed): what `dmesg`-style or custom templates write. */
const bare = traditional.map((l) => l.replace(/^Nov 26 \d\d:\d\d:\d\d fw1 kernel: /, ''));

/** The netfilter attributes (everything but the syslog header's) of a record. */
function packet(attrs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attrs).filter(([k]) => !k.startsWith('log.syslog.') && k !== 'observer.name' && k !== 'log.record.original'));
}

describe('line formats of log files, from the real kernel corpus', () => {
  it('has enough lines to mean something', () => {
    expect(relayed.length).toBeGreaterThan(25);
    expect(ulogd.length).toBeGreaterThan(3);
  });

  it('traditional format without PRI: host, app and every packet field as with the PRI', () => {
    for (let i = 0; i < relayed.length; i++) {
      const withPri = parseFrame(relayed[i]!);
      const rec = parseFrame(traditional[i]!);
      expect(rec.attributes['error.type'], traditional[i]).toBeUndefined();
      expect(rec.attributes['observer.name']).toBe('fw1');
      expect(rec.attributes['log.syslog.appname']).toBe('kernel');
      expect(rec.attributes['log.syslog.priority']).toBeUndefined();
      expect(Object.keys(packet(rec.attributes)).length).toBeGreaterThan(5);
      expect(packet(rec.attributes)).toEqual(packet(withPri.attributes));
      expect(rec.timestamp).toEqual(withPri.timestamp);
    }
  });

  it('RSYSLOG_FileFormat (RFC 3339 with microseconds and offset)', () => {
    for (let i = 0; i < relayed.length; i++) {
      const rec = parseFrame(rfc3339[i]!);
      expect(rec.attributes['error.type'], rfc3339[i]).toBeUndefined();
      expect(rec.attributes['observer.name']).toBe('fw1');
      expect(rec.attributes['log.syslog.appname']).toBe('kernel');
      expect(packet(rec.attributes)).toEqual(packet(parseFrame(relayed[i]!).attributes));
      const [s, ns] = rec.timestamp!;
      expect(new Date(s * 1000).toISOString().slice(0, 10)).toBe('2026-11-26');
      expect(ns).toBe(123_456_000);
    }
  });

  it('ulogd2 LOGEMU lines (no PRI, prefix in the tag position)', () => {
    for (const line of ulogd) {
      const rec = parseFrame(line);
      expect(rec.attributes['error.type'], line).toBeUndefined();
      expect(rec.attributes['observer.name']).toBe('fw1');
      expect(rec.attributes['source.ip'] ?? rec.attributes['source.address']).toBeDefined();
    }
  });

  it('bare messages: the packet fields still parse', () => {
    for (let i = 0; i < relayed.length; i++) {
      const rec = parseFrame(bare[i]!);
      expect(rec.attributes['error.type'], bare[i]).toBeUndefined();
      expect(packet(rec.attributes)).toEqual(packet(parseFrame(relayed[i]!).attributes));
    }
  });
});
