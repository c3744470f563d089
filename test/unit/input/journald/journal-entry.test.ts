import { describe, expect, it } from 'vitest';
import { journalEntryToFrame, realtimeStamp } from '../../../../src/input/journald/journal-entry.js';
import { decodeSyslog } from '../../../../src/syslog/decode.js';

const entry = (fields: Record<string, string | Buffer>): Map<string, Buffer> =>
  new Map(Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v]));

describe('journal entry -> syslog frame', () => {
  it('maps the kernel transport fields into RFC 5424 the parser reads back', () => {
    const msg = 'FW-DROP: IN=eth0 OUT= MAC=02:00:c0:00:02:01:02:00:c0:00:02:02:08:00 SRC=192.0.2.2 DST=198.51.100.2 LEN=60 PROTO=TCP SPT=40001 DPT=22';
    const mapped = journalEntryToFrame(
      entry({
        __CURSOR: 's=abc;i=5',
        __REALTIME_TIMESTAMP: '1700000000123456',
        PRIORITY: '4',
        SYSLOG_FACILITY: '0',
        SYSLOG_IDENTIFIER: 'kernel',
        _TRANSPORT: 'kernel',
        _HOSTNAME: 'fw1',
        _BOOT_ID: 'd8b1db9b444a499496cf0cefcb9a14c2',
        MESSAGE: msg,
      }),
    )!;
    expect(mapped.cursor).toBe('s=abc;i=5');
    expect(mapped.bootId).toBe('d8b1db9b444a499496cf0cefcb9a14c2');
    expect(mapped.frame.toString()).toBe(`<4>1 2023-11-14T22:13:20.123456Z fw1 kernel - - - ${msg}`);
    const m = decodeSyslog(mapped.frame);
    expect(m.format).toBe('rfc5424');
    expect(m.priority).toBe(4);
    expect(m.hostname).toBe('fw1');
    expect(m.appName).toBe('kernel');
    expect(m.msg).toBe(msg);
  });

  it('passes a binary MESSAGE through byte for byte and defaults missing header fields', () => {
    const raw = Buffer.from('FW: IN=eth0 \x1b\xff tail\n', 'latin1');
    const mapped = journalEntryToFrame(entry({ _TRANSPORT: 'kernel', MESSAGE: raw }))!;
    const head = '<6>1 - - kernel - - - ';
    expect(mapped.frame.subarray(0, head.length).toString('latin1')).toBe(head);
    expect(mapped.frame.subarray(head.length).equals(raw)).toBe(true);
  });

  it('uses facility user for other transports, clamps bad numbers, and sanitises header fields', () => {
    const mapped = journalEntryToFrame(entry({ PRIORITY: '9', SYSLOG_FACILITY: 'x', _HOSTNAME: 'my host', SYSLOG_IDENTIFIER: 'a b', _PID: '42', MESSAGE: 'hi' }))!;
    expect(mapped.frame.toString()).toBe('<14>1 - my_host a_b 42 - - hi');
  });

  it('returns undefined for an entry without MESSAGE', () => {
    expect(journalEntryToFrame(entry({ __CURSOR: 'c' }))).toBeUndefined();
  });

  it('formats microsecond stamps, and "-" for garbage', () => {
    expect(realtimeStamp('0')).toBe('1970-01-01T00:00:00.000000Z');
    expect(realtimeStamp('1700000000000001')).toBe('2023-11-14T22:13:20.000001Z');
    expect(realtimeStamp('12a')).toBe('-');
    expect(realtimeStamp(undefined)).toBe('-');
  });
});
