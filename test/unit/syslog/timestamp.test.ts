import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSyslog } from '../../../src/syslog/decode.js';
import { daysFromCivil, yearOfEpochDay } from '../../../src/syslog/civil-time.js';
import { resolveTimezone, validateTimezone } from '../../../src/syslog/timezone.js';

const sec = (iso: string) => Date.parse(iso) / 1000;
const at = (line: string, now: string, timezone?: string) =>
  decodeSyslog(line, { now: new Date(now), ...(timezone ? { timezone } : {}) }).timestamp;

describe('year inference for stamps without a year', () => {
  it('puts a Dec 31 stamp received on Jan 1 in the previous year', () => {
    expect(at('<4>Dec 31 23:59:50 h kernel: x', '2027-01-01T00:00:30Z')).toEqual([sec('2026-12-31T23:59:50Z'), 0]);
  });

  it('keeps a stamp 3 days ahead in the current year', () => {
    expect(at('<4>Jun  4 10:00:00 h kernel: x', '2026-06-01T10:00:00Z')).toEqual([sec('2026-06-04T10:00:00Z'), 0]);
  });

  it('moves a stamp more than 7 days ahead to the previous year', () => {
    expect(at('<4>Jun  9 10:00:01 h kernel: x', '2026-06-01T10:00:00Z')).toEqual([sec('2025-06-09T10:00:01Z'), 0]);
    expect(at('<4>Jun  8 10:00:00 h kernel: x', '2026-06-01T10:00:00Z')).toEqual([sec('2026-06-08T10:00:00Z'), 0]);
  });

  it('uses the current year in the configured zone, not in UTC', () => {
    // 23:30 UTC on Dec 31 is already Jan 1 in Berlin: a Berlin stamp of Jan 1 00:29 is a minute old.
    expect(at('<4>Jan  1 00:29:00 h kernel: x', '2026-12-31T23:30:00Z', 'Europe/Berlin')).toEqual([sec('2026-12-31T23:29:00Z'), 0]);
  });

  it('defaults to the receive time', () => {
    const m = decodeSyslog('<4>Jan  1 00:00:00 h kernel: x');
    const year = new Date(m.timestamp![0] * 1000).getUTCFullYear();
    expect([new Date().getUTCFullYear(), new Date().getUTCFullYear() - 1, new Date().getUTCFullYear() + 1]).toContain(year);
  });

  it('uses nowMs before now, and survives an Invalid Date', () => {
    const m = decodeSyslog('<4>Dec 31 23:59:50 h kernel: x', { nowMs: Date.parse('2027-01-01T00:00:30Z'), now: new Date('2020-06-01T00:00:00Z') });
    expect(m.timestamp).toEqual([sec('2026-12-31T23:59:50Z'), 0]);
    const bad = decodeSyslog('<4>Dec 31 23:59:50 h kernel: x', { now: new Date('nope') });
    expect(Number.isFinite(bad.timestamp![0])).toBe(true);
    // ... and the cache is not poisoned for the next frame.
    expect(at('<4>Jun  4 10:00:00 h kernel: x', '2026-06-01T10:00:00Z')).toEqual([sec('2026-06-04T10:00:00Z'), 0]);
  });

  it('does not infer when the stamp has a year', () => {
    expect(at('2021-03-12T14:10:18Z h kernel: x', '2026-06-01T00:00:00Z')).toEqual([sec('2021-03-12T14:10:18Z'), 0]);
    expect(at('<4>1 2030-03-12T14:10:18Z h kernel - - - x', '2026-06-01T00:00:00Z')).toEqual([sec('2030-03-12T14:10:18Z'), 0]);
  });
});

describe('year inference against a naive reference', () => {
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const zones: Array<[string, number]> = [['UTC', 0], ['+05:45', 20700], ['-03:00', -10800], ['+14:00', 50400]];

  it('matches for random receive times, stamps and zones (interleaved, so the year cache switches)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: sec('2001-01-01T00:00:00Z'), max: sec('2099-12-31T00:00:00Z') }),
        fc.integer({ min: 0, max: 11 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 86399 }),
        fc.constantFrom(...zones),
        (nowSec, month, day, tod, [zone, offset]) => {
          const hh = String(Math.floor(tod / 3600)).padStart(2, '0');
          const mm = String(Math.floor(tod / 60) % 60).padStart(2, '0');
          const ss = String(tod % 60).padStart(2, '0');
          const line = `<4>${MONTHS[month]} ${String(day).padStart(2, ' ')} ${hh}:${mm}:${ss} h kernel: x`;
          const year = new Date((nowSec + offset) * 1000).getUTCFullYear();
          let expected = Date.UTC(year, month, day) / 1000 + tod - offset;
          if (expected > nowSec + 7 * 86400) expected = Date.UTC(year - 1, month, day) / 1000 + tod - offset;
          expect(decodeSyslog(line, { nowMs: nowSec * 1000 + 500, timezone: zone }).timestamp).toEqual([expected, 0]);
          decodeSyslog(line, { nowMs: nowSec * 1000, timezone: 'Europe/Berlin' });
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('time zones for zone-less stamps', () => {
  const now = '2026-11-26T15:00:00Z';

  it('defaults to UTC', () => {
    expect(at('Jul 15 12:00:00 h kernel: x', now)).toEqual([sec('2026-07-15T12:00:00Z'), 0]);
  });

  it('follows DST in an IANA zone', () => {
    expect(at('Jul 15 12:00:00 h kernel: x', now, 'Europe/Berlin')).toEqual([sec('2026-07-15T10:00:00Z'), 0]);
    expect(at('Jan 15 12:00:00 h kernel: x', now, 'Europe/Berlin')).toEqual([sec('2026-01-15T11:00:00Z'), 0]);
    expect(at('Jul 15 12:00:00 h kernel: x', now, 'America/New_York')).toEqual([sec('2026-07-15T16:00:00Z'), 0]);
    expect(at('Jan 15 12:00:00 h kernel: x', now, 'America/New_York')).toEqual([sec('2026-01-15T17:00:00Z'), 0]);
    expect(at('Jan 15 12:00:00 h kernel: x', now, 'Asia/Kathmandu')).toEqual([sec('2026-01-15T06:15:00Z'), 0]);
  });

  it('handles the hours around a DST change (Berlin, 2026-03-29 and 2026-10-25)', () => {
    expect(at('Mar 29 01:30:00 h k: x', now, 'Europe/Berlin')).toEqual([sec('2026-03-29T00:30:00Z'), 0]);
    expect(at('Mar 29 03:30:00 h k: x', now, 'Europe/Berlin')).toEqual([sec('2026-03-29T01:30:00Z'), 0]);
    // 02:30 does not exist that night: either neighbouring reading is acceptable.
    expect([sec('2026-03-29T00:30:00Z'), sec('2026-03-29T01:30:00Z')]).toContain(at('Mar 29 02:30:00 h k: x', now, 'Europe/Berlin')![0]);
    // 02:30 happens twice on Oct 25: either reading is acceptable.
    expect([sec('2026-10-25T00:30:00Z'), sec('2026-10-25T01:30:00Z')]).toContain(at('Oct 25 02:30:00 h k: x', now, 'Europe/Berlin')![0]);
    expect(at('Oct 25 03:30:00 h k: x', now, 'Europe/Berlin')).toEqual([sec('2026-10-25T02:30:00Z'), 0]);
  });

  it('applies fixed offsets', () => {
    expect(at('Jul 15 12:00:00 h kernel: x', now, '+02:00')).toEqual([sec('2026-07-15T10:00:00Z'), 0]);
    expect(at('Jul 15 12:00:00 h kernel: x', now, '-0530')).toEqual([sec('2026-07-15T17:30:00Z'), 0]);
    expect(at('Jul 15 12:00:00 h kernel: x', now, '+01')).toEqual([sec('2026-07-15T11:00:00Z'), 0]);
  });

  it('reads zone-less RFC 3339 stamps in the zone and ignores it when the stamp has an offset', () => {
    expect(at('2021-03-12T14:10:18 h kernel: x', now, '+02:00')).toEqual([sec('2021-03-12T12:10:18Z'), 0]);
    expect(at('2021-03-12T14:10:18Z h kernel: x', now, '+02:00')).toEqual([sec('2021-03-12T14:10:18Z'), 0]);
    expect(at('<4>1 2021-03-12T14:10:18+01:00 h kernel - - - x', now, 'America/New_York')).toEqual([sec('2021-03-12T13:10:18Z'), 0]);
  });

  it('falls back to UTC for an invalid zone instead of throwing', () => {
    expect(at('Jul 15 12:00:00 h kernel: x', now, 'Mars/Olympus')).toEqual([sec('2026-07-15T12:00:00Z'), 0]);
  });

  it('resolves local to the host zone', () => {
    const local = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(at('Jul 15 12:00:00 h kernel: x', now, 'local')).toEqual(at('Jul 15 12:00:00 h kernel: x', now, local));
  });
});

describe('validateTimezone', () => {
  it.each(['UTC', 'utc', 'Z', 'GMT', 'local', '+02:00', '-05:30', '+0200', '+01', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])(
    'accepts %j',
    (tz) => expect(validateTimezone(tz)).toBeUndefined(),
  );

  it.each(['Mars/Olympus', 'Berlin', '+25:00', '+02:60', '+2', '02:00', 'UTC+2 '])('rejects %j with a message', (tz) => {
    const error = validateTimezone(tz);
    expect(typeof error).toBe('string');
    expect(error).toContain(tz);
  });
});

describe('cached IANA offsets', () => {
  // Compared with Intl directly, at random instants: the per-hour cache must never change an answer.
  function intlOffset(zone: string, utcSeconds: number): number {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
        .formatToParts(utcSeconds * 1000)
        .map((p) => [p.type, Number(p.value)]),
    );
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!) / 1000 - utcSeconds;
  }

  it.each(['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Kathmandu', 'Pacific/Chatham'])('%s', (zone) => {
    const resolver = resolveTimezone(zone);
    fc.assert(
      fc.property(fc.integer({ min: sec('2020-01-01T00:00:00Z'), max: sec('2030-01-01T00:00:00Z') }), (t) => {
        expect(resolver.offsetAt(t)).toBe(intlOffset(zone, t));
        // A wall time maps back to an instant showing that wall time (either one in a repeated hour).
        const local = t + intlOffset(zone, t);
        const back = resolver.toUtc(local);
        expect(back + intlOffset(zone, back)).toBe(local);
      }),
      { numRuns: 300 },
    );
  });
});

describe('civil-time arithmetic', () => {
  it('matches Date.UTC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), (y, m, d) => {
        const ms = new Date(0).setUTCFullYear(y, m - 1, d);
        expect(daysFromCivil(y, m, d)).toBe(Math.floor(ms / 86400000));
        expect(yearOfEpochDay(daysFromCivil(y, m, d))).toBe(y);
      }),
      { numRuns: 500 },
    );
  });
});

describe('timestamps of lines in the same second', () => {
  it('are equal, and a later line with another time leaves the earlier result alone', () => {
    const opts = { now: new Date('2026-11-26T12:00:00Z'), timezone: 'UTC' };
    const a = decodeSyslog('<4>Nov 26 10:00:00 fw1 kernel: one', opts).timestamp!;
    const b = decodeSyslog('<4>Nov 26 10:00:00 fw1 kernel: two', opts).timestamp!;
    const c = decodeSyslog('<4>Nov 26 10:00:01 fw1 kernel: three', opts).timestamp!;
    const d = decodeSyslog('<4>2026-11-26T10:00:00.250Z fw1 kernel: four', opts).timestamp!;
    expect(b).toEqual(a);
    expect(c).toEqual([a[0] + 1, 0]);
    expect(d).toEqual([a[0], 250_000_000]);
    expect(a).toEqual([Date.UTC(2026, 10, 26, 10) / 1000, 0]);
  });
});
