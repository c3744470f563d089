import { describe, expect, it } from 'vitest';
import { findInKey, scanNetfilter } from '../../../src/netfilter/scan-netfilter.js';
import { LINES } from './sample-lines.js';

const scan = (line: string) => scanNetfilter(line, 0);

describe('prefix and IN=', () => {
  it('takes everything before IN= as the prefix, trimmed', () => {
    expect(scan(LINES.tcpSyn).prefix).toBe('iptables-dropped:');
    expect(scan('[wan-lan-default-D]IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2').prefix).toBe('[wan-lan-default-D]');
    expect(scan('IN=eth0 OUT= SRC=192.0.2.1').prefix).toBe('');
    expect(scan(LINES.ulogd).prefix).toBe('nflog-nft:');
  });
  it('finds IN= glued to a prefix that itself ends in IN', () => {
    const nf = scan('LOGININ=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=1 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=47 ');
    expect(nf.prefix).toBe('LOGIN');
    expect(nf.inputDevice).toBe('eth0');
  });
  it('skips an IN= inside a quoted DESCR', () => {
    const line = '[WAN_LAN-D-1] DESCR="no IN=x here" IN=eth4 OUT=br0 SRC=192.0.2.1 DST=192.0.2.2 ';
    expect(findInKey(line, 0)).toBe(line.indexOf('IN=eth4'));
  });
  it('reports lines without netfilter keys as not found', () => {
    expect(scan('usb 1-1: new high-speed USB device').found).toBe(false);
    expect(scan('').found).toBe(false);
  });
  it('starts at the given content offset', () => {
    const s = '[  293.053963] FW: IN=a OUT=b SRC=192.0.2.1';
    const nf = scanNetfilter(s, 15);
    expect(nf.prefix).toBe('FW:');
  });
});

describe('IPv4 header', () => {
  it('reads a TCP SYN line', () => {
    const nf = scan(LINES.tcpSyn);
    const p = nf.packet;
    expect(nf.found).toBe(true);
    expect([nf.inputDevice, nf.outputDevice]).toEqual(['veth-b', '']);
    expect([nf.destinationMac, nf.sourceMac, nf.etherType]).toEqual(['02-00-0A-C8-00-01', '02-00-0A-C8-00-02', 0x0800]);
    expect([p.family, p.source, p.destination, p.length, p.tos, p.precedence, p.ttl, p.id]).toEqual([4, '192.0.2.1', '192.0.2.2', 60, 0, 0, 64, 6079]);
    expect(p.fragmentFlags).toEqual(['DF']);
    expect([p.transport, p.ianaNumber, p.sourcePort, p.destinationPort, p.tcpWindow, p.tcpReservedBits, p.tcpUrgentPointer]).toEqual(['tcp', 6, 46208, 22, 64240, 0, 0]);
    expect(p.tcpFlags).toEqual(['SYN']);
    expect(nf.unparsed).toBeUndefined();
  });
  it('reads two OPT groups: IP options before PROTO, TCP options after the flags', () => {
    const p = scan(LINES.twoOpt).packet;
    expect(p.ipOptions).toBe('07030400');
    expect(p.tcpOptions).toBe('020405B40402080A');
    expect([p.tcpSeq, p.tcpAck]).toEqual([3721490160, 0]);
    expect(p.tcpFlags).toEqual(['SYN']);
  });
  it('reads MF FRAG:185 on a non-first fragment', () => {
    const nf = scan(LINES.fragment);
    expect(nf.packet.fragmentFlags).toEqual(['MF']);
    expect(nf.packet.fragmentOffset).toBe(185);
    expect(nf.packet.transport).toBe('icmp');
    expect(nf.unparsed).toBeUndefined();
  });
  it('reads INCOMPLETE [8 bytes]', () => {
    const nf = scan(LINES.incomplete);
    expect(nf.packet.incompleteBytes).toBe(8);
    expect(nf.packet.sourcePort).toBeUndefined();
    expect(nf.unparsed).toBeUndefined();
  });
  it('keeps the full TCP flag set in log order and CE DF', () => {
    const p = scan(LINES.allFlags).packet;
    expect(p.tcpFlags).toEqual(['CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN']);
    expect(p.fragmentFlags).toEqual(['CE', 'DF']);
    expect(p.tcpUrgentPointer).toBe(7);
  });
  it('reads hex TOS with and without 0x (ulogd2 TOS=00) and PREC as the masked byte', () => {
    expect(scan(LINES.ulogd).packet.tos).toBe(0);
    expect(scan(LINES.sctp).packet.tos).toBe(2);
    expect(scan(LINES.icmpUnreach).packet.precedence).toBe(0xc0);
    expect(scan(LINES.ulogd).mark).toBe(0);
  });
  it('keeps 32-bit unsigned SEQ/ACK', () => {
    const p = scan(LINES.bigSeq).packet;
    expect([p.tcpSeq, p.tcpAck]).toEqual([4294967295, 4294967294]);
  });
});

describe('duplicate keys resolve by position', () => {
  it('UDP LEN twice: IP length, then UDP length', () => {
    const p = scan(LINES.udp).packet;
    expect([p.length, p.udpLength]).toEqual([76, 56]);
  });
  it('UDPLITE LEN twice', () => {
    const p = scan(LINES.udplite).packet;
    expect([p.transport, p.ianaNumber, p.sourcePort, p.destinationPort, p.length, p.udpLength]).toEqual(['udplite', 136, 5000, 6000, 48, 28]);
  });
  it('ICMP echo ID twice: IP id, then echo id', () => {
    const p = scan(LINES.icmpEcho).packet;
    expect([p.id, p.icmpType, p.icmpCode, p.icmpId, p.icmpSeq]).toEqual([4660, 8, 0, 17, 3]);
  });
});

describe('ICMP errors quote a packet', () => {
  it('puts the quoted packet in its own fields and never overwrites the outer ones', () => {
    const nf = scan(LINES.icmpUnreach);
    const p = nf.packet;
    expect([p.source, p.destination, p.length, p.ttl, p.id, p.transport, p.icmpType, p.icmpCode]).toEqual(['198.51.100.2', '192.0.2.1', 62, 63, 9, 'icmp', 3, 3]);
    expect(p.sourcePort).toBeUndefined();
    expect(p.udpLength).toBeUndefined();
    expect(p.fragmentFlags).toBeUndefined();
    const q = p.quoted!;
    expect([q.source, q.destination, q.length, q.id, q.transport, q.sourcePort, q.destinationPort, q.udpLength]).toEqual(['192.0.2.1', '198.51.100.2', 34, 5, 'udp', 57265, 9000, 14]);
    expect(q.fragmentFlags).toEqual(['DF']);
    expect(nf.unparsed).toBeUndefined();
  });
  it('reads MTU after the quoted packet and a quoted TCP header', () => {
    const p = scan(LINES.icmpFragNeeded).packet;
    expect(p.icmpMtu).toBe(1400);
    expect(p.quoted!.tcpFlags).toEqual(['ACK', 'PSH']);
    expect([p.quoted!.tcpSeq, p.quoted!.tcpAck]).toEqual([1, 2]);
    expect(p.tcpFlags).toBeUndefined();
  });
  it('handles INCOMPLETE [8 bytes] inside the quoted packet', () => {
    const nf = scan(LINES.icmpTimeExceeded);
    expect(nf.packet.quoted!.incompleteBytes).toBe(8);
    expect(nf.packet.incompleteBytes).toBeUndefined();
    expect(nf.unparsed).toBeUndefined();
  });
  it('reads GATEWAY and a quoted echo', () => {
    const p = scan(LINES.icmpRedirect).packet;
    expect(p.icmpRedirect).toBe('192.0.2.253');
    expect([p.quoted!.icmpType, p.quoted!.icmpId, p.quoted!.icmpSeq]).toEqual([8, 1, 1]);
    expect(p.icmpId).toBeUndefined();
  });
  it('reads ICMPv6 errors: unreachable, packet too big (MTU), parameter problem (POINTER, hex)', () => {
    const u = scan(LINES.icmp6Unreach).packet;
    expect([u.family, u.transport, u.ianaNumber, u.icmpType, u.icmpCode]).toEqual([6, 'ipv6-icmp', 58, 1, 4]);
    expect([u.quoted!.source, u.quoted!.flowLabel, u.quoted!.udpLength]).toEqual(['2001:db8::1', 12345, 16]);
    const big = scan(LINES.icmp6TooBig).packet;
    expect(big.icmpMtu).toBe(1280);
    expect(big.quoted!.tcpFlags).toEqual(['ACK']);
    expect(scan(LINES.icmp6ParamProb).packet.icmpPointer).toBe(0x28);
  });
  it('does not nest a second quoted packet', () => {
    const nf = scan('IN=a OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=1 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=ICMP TYPE=3 CODE=1 [SRC=192.0.2.2 DST=192.0.2.3 LEN=1 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=ICMP TYPE=3 CODE=1 [SRC=192.0.2.9 ] ] ');
    expect(nf.packet.quoted!.source).toBe('192.0.2.2');
    expect(nf.packet.quoted!.quoted).toBeUndefined();
  });
});

describe('IPv6', () => {
  it('canonicalises addresses and reads TC in decimal', () => {
    const p = scan(LINES.icmp6Echo).packet;
    expect([p.source, p.destination, p.tos, p.ttl, p.flowLabel, p.icmpId, p.icmpSeq]).toEqual(['2001:db8::1', '2001:db8::1', 184, 64, 868225, 3427, 1]);
  });
  it('reads extension headers inside OPT ( )', () => {
    const p = scan(LINES.v6FragOpt).packet;
    expect(p.extensionHeaders).toEqual(['FRAG']);
    expect(p.fragmentOffset).toBe(0);
    expect(p.fragmentFlags).toEqual(['MF']);
    expect(p.id).toBe(0xabc);
    expect([p.sourcePort, p.udpLength]).toEqual([40000, 3008]);
  });
  it('reads bare fragment headers', () => {
    const nf = scan(LINES.v6FragBare);
    expect([nf.packet.fragmentOffset, nf.packet.id, nf.packet.transport]).toEqual([1448, 0xabc, 'udp']);
    expect(nf.packet.fragmentFlags).toEqual(['MF']);
    expect(nf.unparsed).toBeUndefined();
  });
  it('reads an empty OPT ( ) as no extension headers', () => {
    const nf = scan(LINES.v6OptEmpty);
    expect(nf.packet.extensionHeaders).toEqual([]);
    expect(nf.packet.tcpFlags).toEqual(['SYN']);
    expect(nf.unparsed).toBeUndefined();
  });
});

describe('other protocols', () => {
  it('ESP and AH SPI', () => {
    expect([scan(LINES.esp).packet.transport, scan(LINES.esp).packet.spi]).toEqual(['esp', 0x1234abcd]);
    expect([scan(LINES.ah).packet.transport, scan(LINES.ah).packet.spi]).toEqual(['ah', 0x5678]);
  });
  it('numeric PROTO=47 and PROTO=132 get their IANA keyword', () => {
    expect([scan(LINES.gre).packet.transport, scan(LINES.gre).packet.ianaNumber]).toEqual(['gre', 47]);
    expect([scan(LINES.sctp).packet.transport, scan(LINES.sctp).packet.ianaNumber]).toEqual(['sctp', 132]);
  });
  it('ARP (no trailing space)', () => {
    const nf = scan(LINES.arp);
    expect(nf.prefix).toBe('nft-arp:');
    expect([nf.arpHardwareType, nf.arpProtocolType, nf.arpOpcode]).toEqual([1, 0x0800, 1]);
    expect([nf.sourceMac, nf.destinationMac]).toEqual(['02-00-0A-C8-00-02', '00-00-00-00-00-00']);
    expect([nf.packet.source, nf.packet.destination, nf.packet.family]).toEqual(['192.0.2.2', '192.0.2.1', 4]);
    expect(nf.unparsed).toBeUndefined();
  });
});

describe('link layer and metadata', () => {
  it('MACSRC/MACDST/MACPROTO fill the MAC fields', () => {
    const nf = scan(LINES.macDecode);
    expect([nf.sourceMac, nf.destinationMac, nf.etherType, nf.outputDevice]).toEqual(['02-00-0A-C8-00-02', '02-00-0A-C8-00-01', 0x0800, 'r1']);
  });
  it('VLAN VPROTO/VID', () => {
    const nf = scan(LINES.vlan);
    expect([nf.etherType, nf.vlanProtocol, nf.vlanId]).toEqual([0x8100, 0x0800, 42]);
  });
  it('empty MAC= does not corrupt OUT', () => {
    const nf = scan(LINES.emptyMac);
    expect([nf.inputDevice, nf.outputDevice, nf.sourceMac, nf.destinationMac]).toEqual(['', 'br10', undefined, undefined]);
    expect(nf.prefix).toBe('[LOCAL_LAN-A-2147483647] DESCR="allow lan"');
    expect(nf.unparsed).toBeUndefined();
  });
  it('PHYSIN/PHYSOUT', () => {
    const nf = scan(LINES.physdev);
    expect([nf.inputDevice, nf.outputDevice, nf.physicalInputDevice, nf.physicalOutputDevice]).toEqual(['br0', 'br0', 'eth1', 'eth2']);
  });
  it('UID/GID and MARK', () => {
    const u = scan(LINES.uidGid);
    expect([u.uid, u.gid]).toEqual([65534, 65534]);
    expect(scan(LINES.mark).mark).toBe(0x2a);
  });
  it('MAC= with extra header octets keeps the first 14', () => {
    const nf = scan('IN=eth0 OUT= MAC=90:10:92:6e:ea:a7:90:10:73:ba:d6:77:08:00:45:fc:02:1c SRC=192.0.2.1 DST=192.0.2.2 ');
    expect([nf.destinationMac, nf.sourceMac, nf.etherType]).toEqual(['90-10-92-6E-EA-A7', '90-10-73-BA-D6-77', 2048]);
  });
});

describe('UniFi UDM truncated lines', () => {
  it.each([
    ['TTL=126 ID=15317 DF PROTO=TCP SPT=59344 DPT=443 WINDOW=8212 RES=0x00 ACK PSH URGP=0', 126, 15317],
    [' TTL=126 ID=51392 DF PROTO=TCP SPT=51653 DPT=7914 WINDOW=1024 RES=0x00 ACK PSH URGP=0', 126, 51392],
    ['L=126 ID=8698 DF PROTO=TCP SPT=88 DPT=51179 WINDOW=2053 RES=0x00 ACK URGP=0', 126, 8698],
    ['0 TTL=126 ID=15461 DF PROTO=TCP SPT=59289 DPT=443 WINDOW=8208 RES=0x00 ACK PSH URGP=0', 126, 15461],
    ['TL=126 ID=4622 DF PROTO=TCP SPT=389 DPT=49209 WINDOW=8192 RES=0x00 ECE ACK SYN URGP=0', 126, 4622],
    ['kernel: L=64 ID=1 PROTO=UDP SPT=1 DPT=2 LEN=8', 64, 1],
  ])('%s', (line, ttl, id) => {
    const nf = scan(line);
    expect(nf.found).toBe(true);
    expect(nf.truncated).toBe(true);
    expect([nf.packet.ttl, nf.packet.id, nf.packet.source]).toEqual([ttl, id, undefined]);
    expect(nf.packet.sourcePort).toBeGreaterThan(0);
  });
});

describe('partial success', () => {
  it('keeps what parsed and lists the rest in unparsed', () => {
    const nf = scan('FW: IN=eth0 OUT= SRC=192.0.2.1 DST=not-an-ip LEN=abc TOS=0x00 FOO=bar PROTO=TCP SPT=1 DPT=99999 WINDOW=1 RES=0x00 SYN weird');
    expect(nf.found).toBe(true);
    expect(nf.packet.source).toBe('192.0.2.1');
    expect(nf.packet.destination).toBeUndefined();
    expect(nf.packet.sourcePort).toBe(1);
    expect(nf.packet.tcpFlags).toEqual(['SYN']);
    expect(nf.unparsed).toEqual(['DST=not-an-ip', 'LEN=abc', 'FOO=bar', 'DPT=99999', 'weird']);
  });
  it('bounds unparsed on hostile lines', () => {
    const nf = scan('IN=a OUT= ' + 'x '.repeat(1000));
    expect(nf.unparsed!.length).toBe(32);
  });
  it('survives truncation at every position of every sample line', () => {
    for (const line of Object.values(LINES)) {
      for (let i = 0; i <= line.length; i++) scan(line.slice(0, i));
    }
  });
});

describe('hostile lines stay linear and never throw', () => {
  // Each case is built at a size `n`; the check is relative (the line 8 times longer may take at
  // most ~24 times as long, where a quadratic scan would take 64 times), so a slow or loaded
  // machine, or Stryker's instrumented code, cannot make it fail while linear code passes.
  const cases: Array<[string, (n: number) => string]> = [
    ['many IN= without spaces', (n) => 'IN='.repeat(n)],
    ['many IN= with spaces, no OUT=', (n) => 'IN=x '.repeat(n / 2)],
    ['nested OPT groups', (n) => `IN=a OUT= SRC=${'2001:db8::1'} DST=2001:db8::2 LEN=1 TC=0 HOPLIMIT=1 FLOWLBL=0 ${'OPT ( '.repeat(n / 5)})`],
    ['many INCOMPLETE [', (n) => `IN=a OUT= SRC=192.0.2.1 PROTO=TCP ${'INCOMPLETE [ '.repeat(n / 5)}`],
    ['many brackets', (n) => `IN=a OUT= SRC=192.0.2.1 PROTO=ICMP TYPE=3 CODE=1 ${'[SRC=192.0.2.2 '.repeat(n / 5)}`],
    ['one huge token', (n) => `IN=a OUT= SRC=${'1'.repeat(3 * n)}`],
  ];
  const timed = (line: string): number => {
    const t0 = performance.now();
    const nf = scanNetfilter(line, 0);
    const ms = performance.now() - t0;
    expect(nf.unparsed === undefined || nf.unparsed.length <= 32).toBe(true);
    return ms;
  };
  it.each(cases)('%s', (_name, make) => {
    timed(make(1000)); // warm up
    const small = Math.min(timed(make(12_500)), timed(make(12_500)));
    const big = timed(make(100_000));
    expect(big).toBeLessThan(24 * small + 100);
  });
});
