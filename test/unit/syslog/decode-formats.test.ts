import { describe, expect, it } from 'vitest';
import { createSyslogDecoder, decodeSyslog } from '../../../src/syslog/decode.js';
import type { SyslogDecodeOptions } from '../../../src/syslog/syslog-message.js';

const now = new Date('2026-11-26T15:00:00Z');
const opts: SyslogDecodeOptions = { now };
const utc = (iso: string): [number, number] => [Date.parse(iso) / 1000, 0];

describe('RFC 3164', () => {
  it('decodes PRI, stamp, host, tag and keeps the trailing space of kernel lines', () => {
    const m = decodeSyslog('<4>Nov 26 14:20:01 fw1 kernel: iptables-dropped: IN=eth0 OUT= URGP=0 ', opts);
    expect(m).toMatchObject({
      format: 'rfc3164',
      priority: 4,
      facility: 0,
      severity: 4,
      timestamp: utc('2026-11-26T14:20:01Z'),
      hostname: 'fw1',
      appName: 'kernel',
      msg: 'iptables-dropped: IN=eth0 OUT= URGP=0 ',
      contentStart: 0,
    });
    expect(m.procId).toBeUndefined();
  });

  it('reads a space-padded and an unpadded day', () => {
    expect(decodeSyslog('<13>Jan  8 03:37:09 h app: x', opts).timestamp).toEqual(utc('2026-01-08T03:37:09Z'));
    expect(decodeSyslog('<13>Jan 8 03:37:09 h app: x', opts).timestamp).toEqual(utc('2026-01-08T03:37:09Z'));
    expect(decodeSyslog('<13>Jan 18 03:37:09 h app: x', opts).timestamp).toEqual(utc('2026-01-18T03:37:09Z'));
  });

  it('accepts a year and a fraction inside the BSD stamp', () => {
    const m = decodeSyslog('<13>Mar 12 2021 14:10:18.250 h app: x', opts);
    expect(m.timestamp).toEqual([Date.parse('2021-03-12T14:10:18Z') / 1000, 250_000_000]);
    expect(m.hostname).toBe('h');
  });

  it('splits TAG[PID]', () => {
    const m = decodeSyslog('<13>Jan 10 12:00:00 host sshd[123]: Accepted key', opts);
    expect(m).toMatchObject({ appName: 'sshd', procId: '123', hostname: 'host', msg: 'Accepted key' });
  });

  it('takes an RFC 3339 stamp in place of the BSD one (RSYSLOG_ForwardFormat)', () => {
    const m = decodeSyslog('<12>2026-11-26T14:19:13.283484+00:00 vm kernel: iptables-dropped: IN=eth0 ', opts);
    expect(m).toMatchObject({
      format: 'rfc3164',
      priority: 12,
      timestamp: [Date.parse('2026-11-26T14:19:13Z') / 1000, 283_484_000],
      hostname: 'vm',
      appName: 'kernel',
      msg: 'iptables-dropped: IN=eth0 ',
    });
  });

  it('decodes header lines without PRI', () => {
    const a = decodeSyslog('Jan 22 09:05:05 ubuntu-bionic kernel: [16571.459614] IN= OUT=lo SRC=2a02::1 ', opts);
    expect(a).toMatchObject({
      format: 'rfc3164',
      hostname: 'ubuntu-bionic',
      appName: 'kernel',
      kernelUptime: 16571.459614,
      msg: '[16571.459614] IN= OUT=lo SRC=2a02::1 ',
      contentStart: 15,
    });
    expect(a.priority).toBeUndefined();
    const b = decodeSyslog('2021-03-12T14:10:18Z Hostname kernel: [wan-lan-default-D]IN=eth0 OUT=', opts);
    expect(b).toMatchObject({
      format: 'rfc3164',
      timestamp: utc('2021-03-12T14:10:18Z'),
      hostname: 'Hostname',
      appName: 'kernel',
      msg: '[wan-lan-default-D]IN=eth0 OUT=',
    });
  });

  it('skips the UDM facility.level token between host and tag', () => {
    const m = decodeSyslog('May  5 20:46:46 My-Office-Gateway user.info kernel:  TTL=126 ID=51392 DF', opts);
    expect(m).toMatchObject({ hostname: 'My-Office-Gateway', appName: 'kernel', msg: ' TTL=126 ID=51392 DF', contentStart: 1 });
  });

  it('treats a prefix followed by IN= as MSG, not host or tag', () => {
    const deny = decodeSyslog('Jan  8 03:37:09 DENY: IN=eth0 OUT= MAC=90:10', opts);
    expect(deny.format).toBe('rfc3164');
    expect(deny.hostname).toBeUndefined();
    expect(deny.appName).toBeUndefined();
    expect(deny.msg).toBe('DENY: IN=eth0 OUT= MAC=90:10');

    const prefixed = decodeSyslog('<4>Nov 26 14:20:01 fw1 iptables-dropped: IN=eth0 OUT=', opts);
    expect(prefixed).toMatchObject({ hostname: 'fw1', appName: undefined, msg: 'iptables-dropped: IN=eth0 OUT=' });
  });

  it('keeps kernel: as the tag when the line has no log prefix', () => {
    const m = decodeSyslog('<4>Nov 26 14:20:01 fw1 kernel: IN=eth0 OUT= SRC=192.0.2.1', opts);
    expect(m).toMatchObject({ hostname: 'fw1', appName: 'kernel', msg: 'IN=eth0 OUT= SRC=192.0.2.1' });
    const noHost = decodeSyslog('Apr  5 22:22:20 kernel: DROP IN=br0 OUT=eth0', opts);
    expect(noHost).toMatchObject({ hostname: undefined, appName: 'kernel', msg: 'DROP IN=br0 OUT=eth0' });
  });

  it('does not take a token containing = as host or tag', () => {
    const m = decodeSyslog('Jan  8 03:37:09 IN=eth0 OUT= SRC=192.0.2.1', opts);
    expect(m.hostname).toBeUndefined();
    expect(m.msg).toBe('IN=eth0 OUT= SRC=192.0.2.1');
    const t = decodeSyslog('Jan  8 03:37:09 fw a=b: IN=eth0', opts);
    expect(t).toMatchObject({ hostname: 'fw', appName: undefined, msg: 'a=b: IN=eth0' });
  });

  it('has host Abc-A1 and no tag for a labelled LOGEMU line', () => {
    const m = decodeSyslog('Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MARK=0', opts);
    expect(m).toMatchObject({
      format: 'ulogd',
      hostname: 'Abc-A1',
      appName: undefined,
      msg: '[SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MARK=0',
      contentStart: 0,
    });
  });

  it('takes a bare vendor word before a [label] as the tag (UniFi fw)', () => {
    const m = decodeSyslog('<4>Dec 10 09:49:04 UDR7 fw [LOCAL_LAN-A-2147483647] DESCR="x y" IN= OUT=br10', opts);
    expect(m).toMatchObject({ hostname: 'UDR7', appName: 'fw', msg: '[LOCAL_LAN-A-2147483647] DESCR="x y" IN= OUT=br10' });
    const unifi = decodeSyslog('Jul 30 05:41:41 UDMP-DTC [WAN_LAN-D-10001] DESCR="a" IN=eth8 OUT=br202', opts);
    expect(unifi).toMatchObject({ hostname: 'UDMP-DTC', appName: undefined, msg: '[WAN_LAN-D-10001] DESCR="a" IN=eth8 OUT=br202' });
  });

  it('keeps the PRI when no stamp follows it', () => {
    const m = decodeSyslog('<4>[  296.341291] iptables-dropped: IN=veth-b OUT= ', opts);
    expect(m).toMatchObject({
      format: 'rfc3164',
      priority: 4,
      timestamp: undefined,
      kernelUptime: 296.341291,
      msg: '[  296.341291] iptables-dropped: IN=veth-b OUT= ',
      contentStart: 15,
    });
    expect(decodeSyslog('<15>Bedroom HIDDEN,USW: INFORM', opts)).toMatchObject({ format: 'rfc3164', priority: 15, msg: 'Bedroom HIDDEN,USW: INFORM' });
  });

  it('returns an empty MSG when the header ends the frame', () => {
    const m = decodeSyslog('<13>Jan 10 12:00:00 host app:', opts);
    expect(m).toMatchObject({ appName: 'app', msg: '', contentStart: 0 });
    expect(decodeSyslog('<13>Jan 10 12:00:00', opts)).toMatchObject({ format: 'rfc3164', msg: '', hostname: undefined });
    expect(decodeSyslog('<13>Jan 10 12:00:00 lonely', opts)).toMatchObject({ hostname: undefined, msg: 'lonely' });
  });
});

describe('ulogd2 LOGEMU', () => {
  it('keeps the prefix (two spaces after it) in MSG', () => {
    const m = decodeSyslog('Nov 26 14:23:54 vm nflog-nft:  IN=b0 OUT= MAC=aa TOS=00 PREC=0x00 MARK=0x0 ', opts);
    expect(m).toMatchObject({
      format: 'ulogd',
      hostname: 'vm',
      appName: undefined,
      timestamp: utc('2026-11-26T14:23:54Z'),
      msg: 'nflog-nft:  IN=b0 OUT= MAC=aa TOS=00 PREC=0x00 MARK=0x0 ',
      contentStart: 0,
    });
    expect(m.priority).toBeUndefined();
  });

  it('is rfc3164 when a PRI is present', () => {
    expect(decodeSyslog('<4>Nov 26 14:23:54 vm nflog-nft:  IN=b0', opts).format).toBe('rfc3164');
  });
});

describe('RFC 5424', () => {
  it('decodes every header field', () => {
    const m = decodeSyslog(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event',
      opts,
    );
    expect(m).toMatchObject({
      format: 'rfc5424',
      priority: 165,
      facility: 20,
      severity: 5,
      timestamp: [Date.parse('2003-10-11T22:14:15Z') / 1000, 3_000_000],
      hostname: 'mymachine.example.com',
      appName: 'evntslog',
      procId: '1234',
      msgId: 'ID47',
      structuredData: '[exampleSDID@32473 iut="3" eventSource="Application"]',
      msg: 'An application event',
    });
  });

  it('leaves NILVALUE fields absent', () => {
    const m = decodeSyslog('<12>1 - vm kernel - - - rfc5424 notq,notime', opts);
    expect(m).toMatchObject({ format: 'rfc5424', hostname: 'vm', appName: 'kernel', msg: 'rfc5424 notq,notime' });
    expect(m.timestamp).toBeUndefined();
    expect(m.procId).toBeUndefined();
    expect(m.msgId).toBeUndefined();
    expect(m.structuredData).toBeUndefined();
    const all = decodeSyslog('<12>1 - - - - - -', opts);
    expect(all).toMatchObject({ format: 'rfc5424', hostname: undefined, appName: undefined, msg: '' });
  });

  it('parses SD with escapes and several elements', () => {
    const sd = '[a@1 x="q\\"uote" y="br\\]acket" z="back\\\\"][b@2 k="v ] still"][c@3]';
    const m = decodeSyslog(`<14>1 2026-11-26T14:00:00Z h app - - ${sd} body [not sd]`, opts);
    expect(m.structuredData).toBe(sd);
    expect(m.msg).toBe('body [not sd]');
  });

  it('takes the rest as MSG when SD is unterminated', () => {
    const m = decodeSyslog('<14>1 2026-11-26T14:00:00Z h app - - [a@1 x="open', opts);
    expect(m.structuredData).toBeUndefined();
    expect(m.msg).toBe('[a@1 x="open');
  });

  it('drops a UTF-8 BOM before MSG (string and Buffer input)', () => {
    const text = '<14>1 2026-11-26T14:00:00Z h app - - - \uFEFFgrüße IN=eth0';
    expect(decodeSyslog(text, opts).msg).toBe('grüße IN=eth0');
    expect(decodeSyslog(Buffer.from(text, 'utf8'), opts).msg).toBe('grüße IN=eth0');
  });

  it('reads fractions to micro- and nanoseconds and honours offsets', () => {
    expect(decodeSyslog('<14>1 2026-11-26T14:19:13.283484+00:00 h a - - - x', opts).timestamp).toEqual([
      Date.parse('2026-11-26T14:19:13Z') / 1000,
      283_484_000,
    ]);
    expect(decodeSyslog('<14>1 2026-11-26T14:19:13.123456789-05:30 h a - - - x', opts).timestamp).toEqual([
      Date.parse('2026-11-26T19:49:13Z') / 1000,
      123_456_789,
    ]);
  });

  it('gives the same msg for a kernel line sent as 3164 and as 5424 (rsyslog double space, syslog-ng single)', () => {
    const body = '[12345.678901] iptables-dropped: IN=eth0 OUT= SYN URGP=0 ';
    const as3164 = decodeSyslog(`<4>Nov 26 14:20:01 fw1 kernel: ${body}`, opts);
    const rsyslog = decodeSyslog(`<4>1 2026-11-26T14:20:01+00:00 fw1 kernel - - -  ${body}\n`, opts);
    const syslogNg = decodeSyslog(`<4>1 2026-11-26T14:20:01+00:00 fw1 kernel - - - ${body}\n`, opts);
    for (const m of [as3164, rsyslog, syslogNg]) {
      expect(m.msg).toBe(body);
      expect(m.kernelUptime).toBe(12345.678901);
      expect(m.contentStart).toBe(15);
      expect(m.timestamp).toEqual(utc('2026-11-26T14:20:01Z'));
    }
    // A UDM line with two spaces after `kernel:` keeps one of them in both forms.
    const udm3164 = decodeSyslog('<12>May  5 20:46:46 gw kernel:  TTL=126 ID=1', opts);
    const udm5424 = decodeSyslog('<12>1 2026-05-05T20:46:46+00:00 gw kernel - - -   TTL=126 ID=1', opts);
    expect(udm3164.msg).toBe(' TTL=126 ID=1');
    expect(udm5424.msg).toBe(' TTL=126 ID=1');
  });

  it('falls back to PRI only when the 5424 stamp is invalid', () => {
    const m = decodeSyslog('<12>1 hello world', opts);
    expect(m).toMatchObject({ format: 'rfc3164', priority: 12, msg: '1 hello world' });
  });
});

describe('/dev/kmsg', () => {
  it('decodes PRI, sequence, timestamp and stops MSG at continuation lines', () => {
    const m = decodeSyslog('4,345,296341291,-;iptables-dropped: IN=veth-b OUT= \n SUBSYSTEM=net\n DEVICE=n2\n', {
      bootTimeMs: 1_764_000_000_000,
    });
    expect(m).toMatchObject({
      format: 'kmsg',
      priority: 4,
      facility: 0,
      severity: 4,
      sequence: 345,
      kernelUptime: 296.341291,
      timestamp: [1_764_000_296, 341_291_000],
      msg: 'iptables-dropped: IN=veth-b OUT= ',
      contentStart: 0,
    });
  });

  it('accepts extra fields after the flags and derives boot time by default', () => {
    const m = decodeSyslog('6,339,5140900,-,caller=T1;nft-arp: IN=b0 OUT= ARP HTYPE=1');
    expect(m).toMatchObject({ format: 'kmsg', priority: 6, sequence: 339, msg: 'nft-arp: IN=b0 OUT= ARP HTYPE=1' });
    const [sec] = m.timestamp!;
    expect(Math.abs(sec - Date.now() / 1000)).toBeLessThan(10 * 365 * 86400);
  });

  it('is bare when the record is malformed', () => {
    expect(decodeSyslog('4,345,296341291 no semicolon').format).toBe('bare');
    expect(decodeSyslog('999,1,2,-;x').format).toBe('bare');
    expect(decodeSyslog('4,1,2,- x;y').format).toBe('bare');
  });
});

describe('bare kernel lines', () => {
  it.each([
    ['IN=eth0 OUT= MAC=00 SRC=192.0.2.1 ', 0],
    ['[wan-lan-default-D]IN=eth0 OUT= SRC=192.0.2.1', 0],
    ['iptables-dropped: IN=eth0 OUT= ', 0],
    ['  IN=eth0 OUT=', 2],
  ])('%j', (line, contentStart) => {
    const m = decodeSyslog(line, opts);
    expect(m).toMatchObject({ format: 'bare', msg: line, contentStart });
    expect(m.priority).toBeUndefined();
    expect(m.timestamp).toBeUndefined();
  });

  it('reads a printk stamp at the start (dmesg output), with a caller id', () => {
    const m = decodeSyslog('[  293.053963] iptables-dropped: IN=veth-b OUT= ', opts);
    expect(m).toMatchObject({ format: 'bare', kernelUptime: 293.053963, contentStart: 15 });
    const c = decodeSyslog('[ 1234.567890][  T123] IN=eth0', opts);
    expect(c).toMatchObject({ kernelUptime: 1234.56789, contentStart: 23 });
    expect(c.msg.slice(c.contentStart)).toBe('IN=eth0');
  });

  it('does not take a label or a half stamp for a printk stamp', () => {
    expect(decodeSyslog('[12345] IN=x', opts)).toMatchObject({ kernelUptime: undefined, contentStart: 0 });
    expect(decodeSyslog('[12.34 IN=x', opts)).toMatchObject({ kernelUptime: undefined, contentStart: 0 });
    expect(decodeSyslog('[UFW BLOCK] IN=x', opts)).toMatchObject({ kernelUptime: undefined, contentStart: 0 });
  });
});

describe('PRI and frame edges', () => {
  it.each([
    ['<0>Jan  1 00:00:00 h k: x', 0],
    ['<191>Jan  1 00:00:00 h k: x', 191],
    ['<007>Jan  1 00:00:00 h k: x', 7],
  ])('accepts %j', (line, pri) => {
    expect(decodeSyslog(line, opts).priority).toBe(pri);
  });

  it.each(['<192>Jan  1 00:00:00 h k: x', '<999>Nov 26 14:18:46 vm kernel: x', '<>x', '<12 x', '<1234>x', '<-1>x'])(
    'rejects %j as a PRI (bare)',
    (line) => {
      const m = decodeSyslog(line, opts);
      expect(m.priority).toBeUndefined();
      expect(m.format).toBe('bare');
      expect(m.msg).toBe(line);
    },
  );

  it('strips trailing LF, CR and NUL but nothing else', () => {
    expect(decodeSyslog('<4>Nov 26 14:20:01 fw1 kernel: IN=a URGP=0 \r\n', opts).msg).toBe('IN=a URGP=0 ');
    expect(decodeSyslog('<4>Nov 26 14:20:01 fw1 kernel: IN=a URGP=0 \n\0', opts).msg).toBe('IN=a URGP=0 ');
    expect(decodeSyslog('IN=a \t\n', opts).msg).toBe('IN=a \t');
    expect(decodeSyslog('\n\r\0', opts)).toMatchObject({ format: 'bare', msg: '', contentStart: 0 });
    expect(decodeSyslog('', opts)).toMatchObject({ format: 'bare', msg: '' });
  });

  it('decodes Buffers as UTF-8', () => {
    const m = decodeSyslog(Buffer.from('<4>Nov 26 14:20:01 fw1 kernel: [Zürich] IN=eth0\n', 'utf8'), opts);
    expect(m).toMatchObject({ hostname: 'fw1', msg: '[Zürich] IN=eth0' });
  });

  it('createSyslogDecoder binds options', () => {
    const decode = createSyslogDecoder({ timezone: '+02:00', now });
    expect(decode('Nov 26 14:20:01 fw1 kernel: x').timestamp).toEqual(utc('2026-11-26T12:20:01Z'));
  });

  it('gives every message the same set of keys', () => {
    const keys = (line: string) => Object.keys(decodeSyslog(line, opts)).join(',');
    const k = keys('IN=x');
    for (const line of ['<4>Nov 26 14:20:01 fw1 kernel: x', '<4>1 - h a - - - x', '4,1,2,-;x', 'Nov 26 14:20:01 h p: IN=x']) {
      expect(keys(line)).toBe(k);
    }
  });
});
