import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSyslog } from '../../../src/syslog/decode.js';
import type { SyslogMessage } from '../../../src/syslog/syslog-message.js';

/** Invariants that hold for every input: no throw, msg taken from the input, sane header values. */
function checkInvariants(text: string, m: SyslogMessage): void {
  let end = text.length;
  while (end > 0 && '\n\r\0'.includes(text[end - 1]!)) end--;
  const stripped = text.slice(0, end);
  if (m.format === 'kmsg') {
    // kmsg MSG ends at the first continuation line.
    expect(stripped.includes(m.msg)).toBe(true);
  } else {
    expect(stripped.endsWith(m.msg)).toBe(true);
  }
  if (m.format === 'bare') expect(m.msg).toBe(stripped);
  expect(m.contentStart).toBeGreaterThanOrEqual(0);
  expect(m.contentStart).toBeLessThanOrEqual(m.msg.length);
  if (m.priority !== undefined) {
    expect(m.priority).toBeGreaterThanOrEqual(0);
    expect(m.priority).toBeLessThanOrEqual(191);
    expect(m.facility! * 8 + m.severity!).toBe(m.priority);
  }
  if (m.timestamp !== undefined) {
    expect(Number.isFinite(m.timestamp[0])).toBe(true);
    expect(Number.isInteger(m.timestamp[1])).toBe(true);
    expect(m.timestamp[1]).toBeGreaterThanOrEqual(0);
    expect(m.timestamp[1]).toBeLessThan(1e9);
  }
  if (m.kernelUptime !== undefined) expect(Number.isFinite(m.kernelUptime)).toBe(true);
}

// Pieces of real headers, glued in random order, reach the deep branches that random text never does.
const piece = fc.constantFrom(
  '<', '>', '<4>', '<12>', '<191>', '<192>', '<999>', '1 ', '1', ' ', '  ', '-', '- ', '[', ']', '"', '\\', '=',
  'Nov 26 ', 'Jan  8 ', 'Feb 29 ', '14:20:01', '14:20:01.123', '2026 ', '2026-11-26T14:19:13', '.283484', '+00:00',
  '-05:30', 'Z', 'T', 'vm ', 'fw1', 'user.info ', 'kernel:', 'kernel', 'sshd[42]:', ':', 'fw ', '[LAN-A-1] ',
  'IN=', 'IN=eth0 ', 'OUT= ', '[12345.678901] ', '[  296.3]', '[ T1]', '4,345,296341291,-;', ',', ';', '\n',
  ' KEY=v', '\r', '\0', '\uFEFF', 'ü', '\uD83D\uDE00', '[meta sequenceId="1"]', 'x="a\\"b\\]"',
);
const headerish = fc.array(piece, { maxLength: 24 }).map((a) => a.join(''));

describe('decodeSyslog never throws and keeps msg from the input', () => {
  it('random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => checkInvariants(s, decodeSyslog(s))),
      { numRuns: 3000 },
    );
  });

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        checkInvariants(buf.toString('utf8'), decodeSyslog(buf));
      }),
      { numRuns: 3000 },
    );
  });

  it('random glued header pieces, in random zones', () => {
    fc.assert(
      fc.property(headerish, fc.constantFrom(undefined, 'UTC', 'Europe/Berlin', '+05:45', 'bogus/zone'), fc.date({ noInvalidDate: true }), (s, timezone, now) => {
        checkInvariants(s, decodeSyslog(s, { timezone, now }));
      }),
      { numRuns: 5000 },
    );
  });

  it('random PRI-prefixed lines', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1200 }), headerish, (pri, rest) => {
        const s = `<${pri}>${rest}`;
        const m = decodeSyslog(s);
        checkInvariants(s, m);
        if (pri > 191) expect(m.priority).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('non-string inputs come back bare and empty', () => {
    expect(decodeSyslog(undefined as unknown as string)).toMatchObject({ format: 'bare', msg: '' });
    expect(decodeSyslog(new Uint8Array([0x49, 0x4e, 0x3d]) as unknown as Buffer)).toMatchObject({ format: 'bare', msg: 'IN=' });
  });
});
