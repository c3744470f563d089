import { describe, expect, it } from 'vitest';
import { decodeKmsgEscapes, parseKmsgRecord } from '../../../../src/input/kmsg/kmsg-record.js';
import { kmsgSyslogFrame, wallTimeText } from '../../../../src/input/kmsg/kmsg-input.js';
import { parseFrame } from '../../../../src/mapping/parse-frame.js';

const rec = (text: string) => parseKmsgRecord(Buffer.from(text, 'latin1'));

describe('parseKmsgRecord', () => {
  it('reads PRI, SEQ, TS_USEC, FLAGS and the message; facility and level from PRI', () => {
    expect(rec('4,345,296341291,-;FW-DROP IN=eth0 OUT= SRC=192.0.2.1\n')).toEqual({
      priority: 4,
      facility: 0,
      level: 4,
      seq: 345,
      usec: 296341291,
      flags: '-',
      message: 'FW-DROP IN=eth0 OUT= SRC=192.0.2.1',
      dict: {},
    });
    const user = rec('14,7,1,c;hello\n')!;
    expect([user.facility, user.level, user.flags]).toEqual([1, 6, 'c']);
  });

  it('keeps fields after FLAGS in flags (caller=) and works without the final LF', () => {
    const r = rec('6,12,99,-,caller=T1;no newline')!;
    expect(r.flags).toBe('-,caller=T1');
    expect(r.message).toBe('no newline');
  });

  it('reads continuation lines into the dictionary, not into the message', () => {
    const r = rec('3,1091,24012345,-;e1000e 0000:00:19.0 eth0: link down\n SUBSYSTEM=net\n DEVICE=n2\n')!;
    expect(r.message).toBe('e1000e 0000:00:19.0 eth0: link down');
    expect(r.dict).toEqual({ SUBSYSTEM: 'net', DEVICE: 'n2' });
  });

  it('decodes \\xNN escapes in the message and in dictionary values', () => {
    const r = rec('4,2,3,-;tab\\x09here back\\x5cslash caf\\xc3\\xa9\n KEY=a\\x20b\n')!;
    expect(r.message).toBe('tab\there back\\slash café');
    expect(r.dict.KEY).toBe('a b');
  });

  it('returns undefined for text that is not a record', () => {
    expect(rec('no semicolon here')).toBeUndefined();
    expect(rec('4,x,3,-;msg')).toBeUndefined();
    expect(rec('4,2;msg')).toBeUndefined();
    expect(rec(';msg')).toBeUndefined();
  });

  it('reads only `length` bytes of a larger buffer', () => {
    const buf = Buffer.alloc(64, 0x41);
    const text = '4,9,10,-;short\n';
    buf.write(text, 0, 'latin1');
    expect(parseKmsgRecord(buf, text.length)!.message).toBe('short');
  });
});

describe('decodeKmsgEscapes', () => {
  it('leaves text without escapes and malformed escapes as they are', () => {
    expect(decodeKmsgEscapes(Buffer.from('plain text'))).toBe('plain text');
    expect(decodeKmsgEscapes(Buffer.from('\\xZZ and \\x4 and \\'))).toBe('\\xZZ and \\x4 and \\');
    expect(decodeKmsgEscapes(Buffer.from('\\x41\\x42C'))).toBe('ABC');
  });
  it('turns invalid UTF-8 into U+FFFD instead of failing', () => {
    expect(decodeKmsgEscapes(Buffer.from('a\\xffb'))).toBe('a\uFFFDb');
  });
});

describe('the frame handed to the parser', () => {
  it('is RFC 5424 with the kernel priority, microsecond timestamp, host, kernel and the sequence number as MSGID', () => {
    const r = rec('4,8123,5000001,-;FW-DROP IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=22\n')!;
    const wallUs = Date.UTC(2026, 11, 2, 2, 30, 0) * 1000 + 123456;
    const frame = kmsgSyslogFrame(r, wallUs, 'fw1');
    expect(frame.toString()).toBe('<4>1 2026-12-02T02:30:00.123456Z fw1 kernel - 8123 - FW-DROP IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=40 PROTO=TCP SPT=1 DPT=22');
    const out = parseFrame(frame, { attributes: { 'input.type': 'kmsg', 'iptables.kernel_uptime_us': r.usec } });
    expect(out.timestamp).toEqual([Math.floor(wallUs / 1e6), 123456000]);
    expect(out.body).toBe(r.message);
    expect(out.severityText).toBe('warning');
    expect(out.attributes).toMatchObject({
      'observer.name': 'fw1',
      'log.syslog.appname': 'kernel',
      'log.syslog.msgid': '8123',
      'log.syslog.facility.code': 0,
      'log.syslog.severity.code': 4,
      'iptables.log_prefix': 'FW-DROP',
      'destination.port': 22,
      'input.type': 'kmsg',
      'iptables.kernel_uptime_us': 5000001,
    });
  });

  it('keeps only the level of a PRI beyond syslog facilities', () => {
    const r = rec('1020,1,1,-;x\n')!; // facility 127, level 4
    expect(kmsgSyslogFrame(r, 0, 'h').toString().startsWith('<4>1 ')).toBe(true);
  });

  it('formats wall time with six fraction digits', () => {
    expect(wallTimeText(1_000_000)).toBe('1970-01-01T00:00:01.000000Z');
    expect(wallTimeText(1_999_999)).toBe('1970-01-01T00:00:01.999999Z');
  });
});
