/**
 * What the kernel LOG test sends, the rules that log it, and what each logged line
 * must contain. Expectations are computed from the packets sent (addresses, ports,
 * flags, options), never from parser output. kernel-log.test.ts runs it;
 * scripts/kernel-corpus.sh runs that test with KERNEL_CORPUS_DIR set to capture
 * the lines as test/corpus/kernel.*.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue } from '../../../src/mapping/record.js';
import type { LabLayout, LabRole } from '../../helpers/netns.js';

/** The attribute must not be set. */
export const ABSENT = Symbol('absent');
/** A predicate for values the test cannot know in advance (kernel-chosen IDs, seq numbers). */
export interface Check {
  desc: string;
  test: (v: unknown) => boolean;
}
export type AttrExpect = AttributeValue | typeof ABSENT | Check;

/** Attribute names, in one place so a rename in src/mapping/attribute-table.ts is a one-line change here. */
export const ATTR = {
  src: 'source.address',
  dst: 'destination.address',
  sport: 'source.port',
  dport: 'destination.port',
  srcMac: 'source.mac',
  dstMac: 'destination.mac',
  transport: 'network.transport',
  ianaNumber: 'network.iana_number',
  netType: 'network.type',
  prefix: 'iptables.log_prefix',
  inDev: 'iptables.input_device',
  outDev: 'iptables.output_device',
  length: 'iptables.length',
  ttl: 'iptables.ttl',
  icmpType: 'iptables.icmp.type',
  icmpCode: 'iptables.icmp.code',
  icmpSeq: 'iptables.icmp.seq',
  tcpFlags: 'iptables.tcp.flags',
  tcpSeq: 'iptables.tcp.seq',
  tcpAck: 'iptables.tcp.ack',
  urgp: 'iptables.tcp.urgent_pointer',
  udpLen: 'iptables.udp.length',
  fragFlags: 'iptables.fragment_flags',
  fragOffset: 'iptables.fragment_offset',
  incomplete: 'iptables.incomplete_bytes',
  uid: 'iptables.uid',
  gid: 'iptables.gid',
  mark: 'iptables.mark',
  spi: 'iptables.spi',
  tos: 'iptables.tos',
  ipId: 'iptables.id',
  ipOptions: 'iptables.ip_options',
  tcpOptions: 'iptables.tcp.options',
  v6ExtHeaders: 'iptables.ipv6.extension_headers',
  etherType: 'iptables.ether_type',
  arpOpcode: 'iptables.arp.opcode',
  arpHtype: 'iptables.arp.hardware_type',
  arpPtype: 'iptables.arp.protocol_type',
  action: 'event.action',
  eventType: 'event.type',
  outcome: 'event.outcome',
  errorType: 'error.type',
  unparsed: 'iptables.unparsed',
  // The packet quoted by an ICMP error (attribute-table.ts quotedName()).
  qSrc: 'iptables.icmp.quoted.source.address',
  qDst: 'iptables.icmp.quoted.destination.address',
  qSport: 'iptables.icmp.quoted.source.port',
  qDport: 'iptables.icmp.quoted.destination.port',
  qTransport: 'iptables.icmp.quoted.network.transport',
  qLength: 'iptables.icmp.quoted.length',
  qTtl: 'iptables.icmp.quoted.ttl',
  qUdpLen: 'iptables.icmp.quoted.udp.length',
  qIcmpType: 'iptables.icmp.quoted.icmp.type',
} as const;

/** One line the kernel must print during a step. */
export interface ExpectedLine {
  /** `--log-prefix` exactly as configured ('' = no prefix: the line starts with `IN=`). */
  prefix: string;
  /** printk level: 4 (warning, the default) or 6 (`--log-level info` / nft `level info`). */
  level: 4 | 6 | 7;
  /** Substrings the kernel text must contain: checks the lab before the parser is blamed. */
  has: string[];
  /** Attributes parseFrame must produce (ABSENT = must not be set). */
  attrs: Record<string, AttrExpect>;
}

/** How a step puts packets on the wire. */
export type Send =
  | { kind: 'exec'; role: LabRole; argv: string[]; input?: string }
  | { kind: 'scapy'; packet: string };

/** One line ulogd2 must write to its LOGEMU file (NFLOG group -> ulogd2 in the server namespace). */
export interface ExpectedUlogdLine {
  /** `--nflog-prefix` / nft `log group N prefix` exactly as configured. */
  prefix: string;
  has: string[];
  attrs: Record<string, AttrExpect>;
}

export interface Step {
  name: string;
  send: Send[];
  /** Expected kernel (kmsg) lines; lines with the same prefix are matched in kernel order. */
  expect: ExpectedLine[];
  /** Expected ulogd2 LOGEMU lines, in order; the step is skipped when ulogd2 is not installed. */
  ulogd?: ExpectedUlogdLine[];
}

/** NFLOG group the server namespace's ulogd2 listens on (groups are per namespace). */
export const NFLOG_GROUP = 7;
/** Hostname ulogd2 writes into its lines (it runs in its own UTS namespace). */
export const ULOGD_HOSTNAME = 'fw1';

/** Rules loaded before the steps run, per namespace. */
export interface Rules {
  iptables: Partial<Record<LabRole, string>>;
  ip6tables: Partial<Record<LabRole, string>>;
  nft: Partial<Record<LabRole, string>>;
}

/** The kernel prints IPv6 addresses fully expanded: 2001:0db8:0001:0000:0000:0000:0000:0002. */
export function expandV6(addr: string): string {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

function addressBytes(addr: string): Buffer {
  if (addr.includes(':')) return Buffer.from(expandV6(addr).replaceAll(':', ''), 'hex');
  return Buffer.from(addr.split('.').map(Number));
}

/**
 * Community ID v1 (seed 0) of a TCP/UDP flow, computed here from the addresses and
 * ports the test sent, independently of src/mapping/community-id.ts.
 */
export function communityIdV1(proto: number, src: string, dst: string, sport: number, dport: number): string {
  let a = addressBytes(src);
  let b = addressBytes(dst);
  let pa = sport;
  let pb = dport;
  const cmp = Buffer.compare(a, b);
  if (cmp > 0 || (cmp === 0 && pa > pb)) {
    [a, b, pa, pb] = [b, a, pb, pa];
  }
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(pa, 0);
  ports.writeUInt16BE(pb, 2);
  const data = Buffer.concat([Buffer.from([0, 0]), a, b, Buffer.from([proto, 0]), ports]);
  return '1:' + createHash('sha1').update(data).digest('base64');
}

/** RFC 7042 form (upper case, dashes), as Elastic renders MACs. */
export function macRfc7042(mac: string): string {
  return mac.toUpperCase().replaceAll(':', '-');
}

const startsWith = (p: string): Check => ({ desc: `a string starting with ${p}`, test: (v) => typeof v === 'string' && v.startsWith(p) });
const positiveInt: Check = { desc: 'a non-negative integer', test: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 };

/** OTel SeverityNumber for a printk level: 4 warning -> 13 (WARN), 6 info -> 9 (INFO). */
export function severityNumberFor(level: number): number {
  return ({ 0: 21, 1: 19, 2: 18, 3: 17, 4: 13, 5: 10, 6: 9, 7: 5 } as Record<number, number>)[level] ?? 0;
}

/** Build rules and steps for a lab layout. */
export function buildScenario(L: LabLayout): { rules: Rules; steps: Step[] } {
  const n = L.ifname;
  const a4 = L.v4.a0;
  const b4 = L.v4.b0;
  const r0v4 = L.v4.r0;
  const a6 = L.v6.a0;
  const b6 = L.v6.b0;
  const r0v6 = L.v6.r0;
  const fwdIn = `IN=${n.r0} OUT=${n.r1} `;
  const fwdBack = `IN=${n.r1} OUT=${n.r0} `;
  // MAC= at the router's client-side port: dst r0, src a0, ethertype.
  const macFwd4 = `MAC=${L.mac.r0}:${L.mac.a0}:08:00 `;
  const macFwd6 = `MAC=${L.mac.r0}:${L.mac.a0}:86:dd `;
  const macBack4 = `MAC=${L.mac.r1}:${L.mac.b0}:08:00 `;
  const macBack6 = `MAC=${L.mac.r1}:${L.mac.b0}:86:dd `;

  const rules: Rules = {
    iptables: {
      r: [
        '*mangle',
        '-A PREROUTING -p udp --dport 7005 -j MARK --set-mark 0x2a',
        'COMMIT',
        '*filter',
        '-A FORWARD -p tcp --dport 7001 -j LOG --log-prefix "DROP: "',
        '-A FORWARD -p tcp --dport 7006 -j LOG',
        '-A FORWARD -p tcp --dport 7002 -j LOG --log-prefix "fw-opts: " --log-tcp-sequence --log-tcp-options --log-ip-options',
        '-A FORWARD -p udp --dport 7003 -j LOG --log-prefix "[UFW BLOCK] " --log-macdecode',
        '-A FORWARD -p udp --dport 7004 -j LOG --log-prefix "ACCEPT: " --log-level info',
        '-A FORWARD -p udp --dport 7005 -j LOG --log-prefix "fw-mark: "',
        '-A FORWARD -p icmp --icmp-type echo-request -j LOG --log-prefix "fw-echo: "',
        '-A FORWARD -p icmp -f -j LOG --log-prefix "fw-frag: "',
        '-A FORWARD -p icmp --icmp-type port-unreachable -j LOG --log-prefix "fw-unreach: "',
        '-A FORWARD -p icmp --icmp-type timestamp-request -j LOG --log-prefix "fw-tstamp: "',
        '-A FORWARD -p icmp --icmp-type timestamp-reply -j LOG --log-prefix "fw-tstamp: "',
        '-A FORWARD -p tcp --dport 7020 -j LOG --log-prefix "fw-flags: "',
        // A tcp match would drop an 8-byte fragment as a tiny fragment before LOG: match the length.
        '-A FORWARD -p tcp -m length --length 28 -j LOG --log-prefix "fw-tiny: "',
        '-A FORWARD -p esp -j LOG --log-prefix "fw-esp: "',
        '-A FORWARD -p ah -j LOG --log-prefix "fw-ah: "',
        '-A FORWARD -p gre -j LOG --log-prefix "fw-gre: "',
        '-A FORWARD -p sctp -j LOG --log-prefix "fw-sctp: "',
        '-A FORWARD -p udplite -j LOG --log-prefix "fw-udplite: "',
        '-A FORWARD -p icmp --icmp-type fragmentation-needed -j LOG --log-prefix "fw-mtu: "',
        '-A FORWARD -p icmp --icmp-type parameter-problem -j LOG --log-prefix "fw-param: "',
        '-A FORWARD -p icmp --icmp-type redirect -j LOG --log-prefix "fw-redirect: "',
        '-A FORWARD -p udp --dport 7060 -j LOG --log-prefix "fw-debug: " --log-level debug',
        '-A OUTPUT -p icmp --icmp-type time-exceeded -j LOG --log-prefix "fw-ttl: "',
        'COMMIT',
        '',
      ].join('\n'),
      a: ['*filter', '-A OUTPUT -p udp --dport 7010 -j LOG --log-prefix "fw-uid: " --log-uid', 'COMMIT', ''].join('\n'),
      // NFLOG (non-terminating) feeds ulogd2. Then only port 7009 may draw a
      // port-unreachable: the other UDP probes would add ICMP error lines.
      b: [
        '*filter',
        `-A INPUT -p udp --dport 7050 -j NFLOG --nflog-group ${NFLOG_GROUP} --nflog-prefix "nflog-fw:"`,
        // A trailing space in the prefix gives ulogd2's two spaces before IN=.
        `-A INPUT -p tcp --dport 7051 -j NFLOG --nflog-group ${NFLOG_GROUP} --nflog-prefix "nflog-tcp: "`,
        '-A INPUT -p udp ! --dport 7009 -j DROP',
        'COMMIT',
        '',
      ].join('\n'),
    },
    ip6tables: {
      r: [
        '*filter',
        '-A FORWARD -p ipv6-icmp --icmpv6-type echo-request -j LOG --log-prefix "ip6-echo: "',
        '-A FORWARD -m frag --fragid 0:4294967295 -j LOG --log-prefix "ip6-frag: " --log-ip-options',
        '-A FORWARD -p ipv6-icmp --icmpv6-type port-unreachable -j LOG --log-prefix "ip6-unreach: "',
        '-A FORWARD -p tcp --dport 7101 -j LOG --log-prefix "filter_FWD_public_REJECT: " --log-level info',
        '-A FORWARD -p ipv6-icmp --icmpv6-type packet-too-big -j LOG --log-prefix "ip6-ptb: "',
        '-A FORWARD -p ipv6-icmp --icmpv6-type parameter-problem -j LOG --log-prefix "ip6-param: "',
        '-A FORWARD -p udp --dport 7061 -j LOG --log-prefix "ip6-ext: " --log-ip-options',
        '-A OUTPUT -p ipv6-icmp --icmpv6-type time-exceeded -j LOG --log-prefix "ip6-ttl: "',
        'COMMIT',
        '',
      ].join('\n'),
      b: [
        '*filter',
        `-A INPUT -p udp --dport 7050 -j NFLOG --nflog-group ${NFLOG_GROUP} --nflog-prefix "nflog-fw6:"`,
        '-A INPUT -p udp ! --dport 7009 -j DROP',
        'COMMIT',
        '',
      ].join('\n'),
    },
    nft: {
      b: `
table inet ipo_nflog {
  chain input_log {
    type filter hook input priority 5; policy accept;
    icmp type echo-request ip length 100 log group ${NFLOG_GROUP} prefix "nflog-nft: "
  }
}
`,
      r: `
table inet ipo_log {
  chain forward_log {
    type filter hook forward priority 10; policy accept;
    tcp dport 7201 log prefix "iptables-dropped: "
    tcp dport 7202 log prefix "nft-all: " flags all
    udp dport 7203 log prefix "nft-info: " level info
  }
}
table netdev ipo_netdev {
  chain ingress_log {
    type filter hook ingress device "${n.r0}" priority 0; policy accept;
    udp dport 7070 log prefix "nft-netdev: "
    vlan id 10 log prefix "nft-vlan: " flags ether
  }
}
table arp ipo_arp {
  chain input_log {
    type filter hook input priority 0; policy accept;
    arp operation request log prefix "nft-arp: "
  }
}
`,
    },
  };

  const socatTcp4 = (sport: number, dport: number): Send => ({
    kind: 'exec',
    role: 'a',
    argv: ['socat', '-u', '/dev/null', `TCP4:${b4}:${dport},sourceport=${sport},connect-timeout=2`],
  });
  const socatTcp6 = (sport: number, dport: number): Send => ({
    kind: 'exec',
    role: 'a',
    argv: ['socat', '-u', '/dev/null', `TCP6:[${b6}]:${dport},sourceport=${sport},connect-timeout=2`],
  });
  // "x\n": UDP length 10, IPv4 total length 30, IPv6 payload 10 -> LEN=50.
  const socatUdp4 = (sport: number, dport: number, extra = ''): Send => ({
    kind: 'exec',
    role: 'a',
    argv: ['socat', '-u', '-', `UDP4-SENDTO:${b4}:${dport},sourceport=${sport}${extra}`],
    input: 'x\n',
  });
  const socatUdp6 = (sport: number, dport: number, extra = ''): Send => ({
    kind: 'exec',
    role: 'a',
    argv: ['socat', '-u', '-', `UDP6-SENDTO:[${b6}]:${dport},sourceport=${sport}${extra}`],
    input: 'x\n',
  });
  const scapy = (packet: string): Send => ({ kind: 'scapy', packet });

  /** Attributes every forwarded IPv4 A->B line has. */
  const fwd4 = (transport: string | typeof ABSENT): Record<string, AttrExpect> => ({
    [ATTR.src]: a4,
    [ATTR.dst]: b4,
    [ATTR.netType]: 'ipv4',
    [ATTR.transport]: transport,
    [ATTR.errorType]: ABSENT,
  });
  const fwd6 = (transport: string): Record<string, AttrExpect> => ({
    [ATTR.src]: a6,
    [ATTR.dst]: b6,
    [ATTR.netType]: 'ipv6',
    [ATTR.transport]: transport,
    [ATTR.errorType]: ABSENT,
  });
  const ports = (sport: number, dport: number): Record<string, AttrExpect> => ({ [ATTR.sport]: sport, [ATTR.dport]: dport });
  const noPorts: Record<string, AttrExpect> = { [ATTR.sport]: ABSENT, [ATTR.dport]: ABSENT };
  const prefixAttr = (p: string): Record<string, AttrExpect> => ({ [ATTR.prefix]: p.trim() });
  const v4Head = `SRC=${a4} DST=${b4} `;
  const v6Head = `SRC=${expandV6(a6)} DST=${expandV6(b6)} `;

  const steps: Step[] = [
    {
      name: 'iptables TCP SYN, plain LOG, action word in the prefix',
      send: [socatTcp4(40001, 7001)],
      expect: [
        {
          prefix: 'DROP: ',
          level: 4,
          has: [fwdIn + macFwd4 + v4Head, 'PROTO=TCP SPT=40001 DPT=7001 ', ' SYN URGP=0 '],
          attrs: { ...fwd4('tcp'), ...ports(40001, 7001), ...prefixAttr('DROP: '), [ATTR.action]: 'drop', [ATTR.eventType]: ['denied', 'connection'], [ATTR.outcome]: 'failure', [ATTR.ianaNumber]: '6', [ATTR.tcpFlags]: ['SYN'], [ATTR.tcpSeq]: ABSENT, [ATTR.etherType]: 0x0800, [ATTR.srcMac]: macRfc7042(L.mac.a0), [ATTR.dstMac]: macRfc7042(L.mac.r0), [ATTR.inDev]: n.r0, [ATTR.outDev]: n.r1, [ATTR.ttl]: 63, [ATTR.length]: 60 },
        },
      ],
    },
    {
      name: 'iptables LOG without a prefix',
      send: [socatTcp4(40006, 7006)],
      expect: [
        {
          prefix: '',
          level: 4,
          has: [fwdIn + macFwd4 + v4Head, 'SPT=40006 DPT=7006 '],
          attrs: { ...fwd4('tcp'), ...ports(40006, 7006), [ATTR.prefix]: ABSENT, [ATTR.action]: ABSENT, [ATTR.tcpFlags]: ['SYN'] },
        },
      ],
    },
    {
      name: 'iptables --log-tcp-sequence --log-tcp-options --log-ip-options (two OPT groups)',
      send: [scapy('tcp-options')],
      expect: [
        {
          prefix: 'fw-opts: ',
          level: 4,
          has: [' ID=1 OPT (94040000) PROTO=TCP SPT=40002 DPT=7002 SEQ=3721490160 ACK=0 WINDOW=8192 ', ' SYN URGP=0 OPT (020405B40402030307000000) '],
          attrs: { ...fwd4('tcp'), ...ports(40002, 7002), ...prefixAttr('fw-opts: '), [ATTR.tcpSeq]: 3721490160, [ATTR.tcpAck]: 0, [ATTR.tcpFlags]: ['SYN'], [ATTR.ipOptions]: '94040000', [ATTR.tcpOptions]: '020405B40402030307000000', [ATTR.ipId]: 1 },
        },
      ],
    },
    {
      name: 'iptables --log-macdecode (MACSRC/MACDST/MACPROTO)',
      send: [socatUdp4(40003, 7003)],
      expect: [
        {
          prefix: '[UFW BLOCK] ',
          level: 4,
          has: [`${fwdIn}MACSRC=${L.mac.a0} MACDST=${L.mac.r0} MACPROTO=0800 ${v4Head}LEN=30 `, 'PROTO=UDP SPT=40003 DPT=7003 LEN=10 '],
          attrs: {
            ...fwd4('udp'),
            ...ports(40003, 7003),
            ...prefixAttr('[UFW BLOCK] '),
            [ATTR.action]: 'block',
            [ATTR.etherType]: 0x0800,
            [ATTR.srcMac]: macRfc7042(L.mac.a0),
            [ATTR.dstMac]: macRfc7042(L.mac.r0),
            [ATTR.length]: 30,
            [ATTR.udpLen]: 10,
            [ATTR.outDev]: n.r1,
          },
        },
      ],
    },
    {
      name: 'iptables --log-level info',
      send: [socatUdp4(40004, 7004)],
      expect: [
        {
          prefix: 'ACCEPT: ',
          level: 6,
          has: [fwdIn + macFwd4 + v4Head, 'PROTO=UDP SPT=40004 DPT=7004 LEN=10 '],
          attrs: { ...fwd4('udp'), ...ports(40004, 7004), ...prefixAttr('ACCEPT: '), [ATTR.action]: 'accept', [ATTR.eventType]: ['allowed', 'connection'], [ATTR.outcome]: 'success' },
        },
      ],
    },
    {
      name: 'iptables MARK 0x2a',
      send: [socatUdp4(40005, 7005)],
      expect: [
        {
          prefix: 'fw-mark: ',
          level: 4,
          has: ['SPT=40005 DPT=7005 LEN=10 MARK=0x2a '],
          attrs: { ...fwd4('udp'), ...ports(40005, 7005), [ATTR.mark]: 0x2a },
        },
      ],
    },
    {
      name: 'ICMP echo request',
      send: [{ kind: 'exec', role: 'a', argv: ['ping', '-n', '-c1', '-W2', b4] }],
      expect: [
        {
          prefix: 'fw-echo: ',
          level: 4,
          has: [fwdIn + macFwd4 + v4Head + 'LEN=84 ', ' PROTO=ICMP TYPE=8 CODE=0 ', ' SEQ=1 '],
          attrs: { ...fwd4('icmp'), ...noPorts, [ATTR.icmpType]: 8, [ATTR.icmpCode]: 0, [ATTR.icmpSeq]: 1, [ATTR.length]: 84 },
        },
      ],
    },
    {
      // 3008 bytes of ICMP over MTU 1500: fragments of 1480, 1480, 48 payload bytes,
      // offsets 0, 185, 370 (units of 8 bytes). B reassembles and replies the same way.
      name: 'IPv4 fragments (ping -s 3000)',
      send: [{ kind: 'exec', role: 'a', argv: ['ping', '-n', '-c1', '-W2', '-s', '3000', b4] }],
      expect: [
        {
          prefix: 'fw-echo: ',
          level: 4,
          has: [v4Head + 'LEN=1500 ', ' MF PROTO=ICMP TYPE=8 CODE=0 '],
          attrs: { ...fwd4('icmp'), [ATTR.icmpType]: 8, [ATTR.fragFlags]: ['MF'], [ATTR.fragOffset]: ABSENT, [ATTR.length]: 1500 },
        },
        ...[
          { src: a4, dst: b4, off: 185, len: 1500, mf: true },
          { src: a4, dst: b4, off: 370, len: 68, mf: false },
          { src: b4, dst: a4, off: 185, len: 1500, mf: true },
          { src: b4, dst: a4, off: 370, len: 68, mf: false },
        ].map(
          (f): ExpectedLine => ({
            prefix: 'fw-frag: ',
            level: 4,
            has: [`SRC=${f.src} DST=${f.dst} LEN=${f.len} `, `${f.mf ? ' MF' : ''} FRAG:${f.off} PROTO=ICMP `],
            attrs: {
              [ATTR.src]: f.src,
              [ATTR.dst]: f.dst,
              [ATTR.netType]: 'ipv4',
              [ATTR.transport]: 'icmp',
              [ATTR.fragOffset]: f.off,
              [ATTR.length]: f.len,
              [ATTR.icmpType]: ABSENT, // a non-first fragment has no ICMP header
              [ATTR.errorType]: ABSENT,
              ...(f.mf ? { [ATTR.fragFlags]: ['MF'] } : {}),
            },
          }),
        ),
      ],
    },
    {
      name: 'ICMP port unreachable quoting the UDP datagram',
      send: [socatUdp4(40009, 7009)],
      expect: [
        {
          prefix: 'fw-unreach: ',
          level: 4,
          has: [
            `${fwdBack}${macBack4}SRC=${b4} DST=${a4} LEN=58 `,
            ` PROTO=ICMP TYPE=3 CODE=3 [SRC=${a4} DST=${b4} LEN=30 `,
            ' PROTO=UDP SPT=40009 DPT=7009 LEN=10 ] ',
          ],
          attrs: {
            // The outer packet: B -> A. The quoted packet must not overwrite it.
            [ATTR.src]: b4,
            [ATTR.dst]: a4,
            [ATTR.netType]: 'ipv4',
            [ATTR.transport]: 'icmp',
            [ATTR.icmpType]: 3,
            [ATTR.icmpCode]: 3,
            [ATTR.length]: 58,
            [ATTR.udpLen]: ABSENT,
            ...noPorts,
            [ATTR.qSrc]: a4,
            [ATTR.qDst]: b4,
            [ATTR.qTransport]: 'udp',
            [ATTR.qSport]: 40009,
            [ATTR.qDport]: 7009,
            [ATTR.qLength]: 30,
            [ATTR.qUdpLen]: 10,
            [ATTR.errorType]: ABSENT,
          },
        },
      ],
    },
    {
      name: 'ICMP time exceeded from the router (UDP with TTL 1), OUTPUT chain, no MAC',
      send: [socatUdp4(40011, 7011, ',ttl=1')],
      expect: [
        {
          prefix: 'fw-ttl: ',
          level: 4,
          has: [`IN= OUT=${n.r0} SRC=${r0v4} DST=${a4} `, ` PROTO=ICMP TYPE=11 CODE=0 [SRC=${a4} DST=${b4} LEN=30 `, ' TTL=1 ', 'SPT=40011 DPT=7011 LEN=10 ] '],
          attrs: {
            [ATTR.src]: r0v4,
            [ATTR.dst]: a4,
            [ATTR.netType]: 'ipv4',
            [ATTR.transport]: 'icmp',
            [ATTR.icmpType]: 11,
            [ATTR.icmpCode]: 0,
            [ATTR.ttl]: 64,
            [ATTR.inDev]: '',
            [ATTR.outDev]: n.r0,
            [ATTR.srcMac]: ABSENT,
            ...noPorts,
            [ATTR.qSrc]: a4,
            [ATTR.qDst]: b4,
            [ATTR.qTtl]: 1,
            [ATTR.qSport]: 40011,
            [ATTR.qDport]: 7011,
            [ATTR.errorType]: ABSENT,
          },
        },
      ],
    },
    {
      name: 'TCP with every flag, URGP=7, IP flags CE DF',
      send: [scapy('tcp-all-flags')],
      expect: [
        {
          prefix: 'fw-flags: ',
          level: 4,
          has: [' ID=1 CE DF PROTO=TCP SPT=40020 DPT=7020 WINDOW=8192 RES=0x00 CWR ECE URG ACK PSH RST SYN FIN URGP=7 '],
          attrs: {
            ...fwd4('tcp'),
            ...ports(40020, 7020),
            [ATTR.tcpFlags]: ['CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN'],
            [ATTR.fragFlags]: ['CE', 'DF'],
            [ATTR.urgp]: 7,
            [ATTR.tcpSeq]: ABSENT, // no --log-tcp-sequence on this rule
          },
        },
      ],
    },
    {
      name: 'tiny first fragment: PROTO=TCP INCOMPLETE [8 bytes]',
      send: [scapy('tcp-tiny-fragment')],
      expect: [
        {
          prefix: 'fw-tiny: ',
          level: 4,
          has: [v4Head + 'LEN=28 ', ' ID=4660 MF PROTO=TCP INCOMPLETE [8 bytes] '],
          attrs: { ...fwd4('tcp'), ...noPorts, [ATTR.incomplete]: 8, [ATTR.fragFlags]: ['MF'], [ATTR.ipId]: 0x1234, [ATTR.tcpFlags]: ABSENT },
        },
      ],
    },
    {
      name: 'ESP with SPI',
      send: [scapy('esp')],
      expect: [{ prefix: 'fw-esp: ', level: 4, has: [v4Head + 'LEN=44 ', ' PROTO=ESP SPI=0x1234abcd '], attrs: { ...fwd4('esp'), [ATTR.ianaNumber]: '50', [ATTR.spi]: 0x1234abcd, ...noPorts } }],
    },
    {
      name: 'AH with SPI',
      send: [scapy('ah')],
      expect: [{ prefix: 'fw-ah: ', level: 4, has: [v4Head + 'LEN=44 ', ' PROTO=AH SPI=0x5678 '], attrs: { ...fwd4('ah'), [ATTR.ianaNumber]: '51', [ATTR.spi]: 0x5678, ...noPorts } }],
    },
    {
      name: 'GRE, printed as PROTO=47',
      send: [scapy('gre')],
      expect: [{ prefix: 'fw-gre: ', level: 4, has: [v4Head + 'LEN=52 ', ' PROTO=47 '], attrs: { ...fwd4('gre'), [ATTR.ianaNumber]: '47', ...noPorts } }],
    },
    {
      name: 'SCTP, printed as PROTO=132 without ports',
      send: [scapy('sctp')],
      expect: [{ prefix: 'fw-sctp: ', level: 4, has: [v4Head + 'LEN=32 ', ' PROTO=132 '], attrs: { ...fwd4('sctp'), [ATTR.ianaNumber]: '132', ...noPorts } }],
    },
    {
      name: 'UDP-Lite',
      send: [scapy('udplite')],
      expect: [
        {
          prefix: 'fw-udplite: ',
          level: 4,
          has: [' PROTO=UDPLITE SPT=40031 DPT=7031 LEN=8 '],
          attrs: { ...fwd4('udplite'), [ATTR.ianaNumber]: '136', ...ports(40031, 7031), [ATTR.udpLen]: 8 },
        },
      ],
    },
    {
      name: 'ICMP timestamp request and the reply',
      send: [scapy('icmp-timestamp')],
      expect: [
        {
          prefix: 'fw-tstamp: ',
          level: 4,
          has: [fwdIn + macFwd4 + v4Head, ' PROTO=ICMP TYPE=13 CODE=0 '],
          attrs: { ...fwd4('icmp'), [ATTR.icmpType]: 13, [ATTR.icmpCode]: 0 },
        },
        {
          prefix: 'fw-tstamp: ',
          level: 4,
          has: [`${fwdBack}${macBack4}SRC=${b4} DST=${a4} `, ' PROTO=ICMP TYPE=14 CODE=0 '],
          attrs: { [ATTR.src]: b4, [ATTR.dst]: a4, [ATTR.transport]: 'icmp', [ATTR.icmpType]: 14, [ATTR.icmpCode]: 0, [ATTR.errorType]: ABSENT },
        },
      ],
    },
    {
      name: 'OUTPUT with --log-uid from uid/gid 65534',
      send: [
        {
          kind: 'exec',
          role: 'a',
          argv: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'socat', '-u', '-', `UDP4-SENDTO:${b4}:7010,sourceport=40010`],
          input: 'x\n',
        },
      ],
      expect: [
        {
          prefix: 'fw-uid: ',
          level: 4,
          has: [`IN= OUT=${n.a0} ${v4Head}LEN=30 `, ' TTL=64 ', 'PROTO=UDP SPT=40010 DPT=7010 LEN=10 UID=65534 GID=65534 '],
          attrs: {
            ...fwd4('udp'),
            ...ports(40010, 7010),
            [ATTR.uid]: 65534,
            [ATTR.gid]: 65534,
            [ATTR.inDev]: '',
            [ATTR.outDev]: n.a0,
            [ATTR.ttl]: 64,
          },
        },
      ],
    },
    {
      name: 'ARP request (nft arp family)',
      send: [scapy('arp-request')],
      expect: [
        {
          prefix: 'nft-arp: ',
          level: 4,
          has: [`IN=${n.r0} OUT= ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=${L.mac.a0} IPSRC=${a4} MACDST=00:00:00:00:00:00 IPDST=${r0v4}`],
          attrs: {
            [ATTR.src]: a4,
            [ATTR.dst]: r0v4,
            [ATTR.srcMac]: macRfc7042(L.mac.a0),
            [ATTR.dstMac]: '00-00-00-00-00-00',
            [ATTR.arpHtype]: 1,
            [ATTR.arpPtype]: 0x0800,
            [ATTR.arpOpcode]: 1,
            [ATTR.inDev]: n.r0,
            [ATTR.outDev]: '',
            [ATTR.transport]: ABSENT,
            ...noPorts,
            [ATTR.errorType]: ABSENT,
          },
        },
      ],
    },
    {
      name: 'ICMPv6 echo request with traffic class 184',
      send: [{ kind: 'exec', role: 'a', argv: ['ping', '-6', '-n', '-c1', '-W2', '-Q', '184', b6] }],
      expect: [
        {
          prefix: 'ip6-echo: ',
          level: 4,
          has: [fwdIn + macFwd6 + v6Head + 'LEN=104 TC=184 HOPLIMIT=63 ', ' PROTO=ICMPv6 TYPE=128 CODE=0 ', ' SEQ=1 '],
          attrs: { ...fwd6('ipv6-icmp'), ...noPorts, [ATTR.icmpType]: 128, [ATTR.icmpCode]: 0, [ATTR.icmpSeq]: 1, [ATTR.ianaNumber]: '58', [ATTR.ttl]: 63, [ATTR.length]: 104, [ATTR.tos]: 184, [ATTR.etherType]: 0x86dd },
        },
      ],
    },
    {
      // 3008 bytes over MTU 1500: 1448 + 1448 + 112, byte offsets 0, 1448, 2896, both directions.
      name: 'IPv6 fragments (ping -6 -s 3000), bare and with --log-ip-options',
      send: [{ kind: 'exec', role: 'a', argv: ['ping', '-6', '-n', '-c1', '-W2', '-s', '3000', b6] }],
      expect: [
        {
          prefix: 'ip6-echo: ',
          level: 4,
          has: [v6Head + 'LEN=1496 ', ' FRAG:0 INCOMPLETE ID:', ' PROTO=ICMPv6 TYPE=128 CODE=0 '],
          attrs: { ...fwd6('ipv6-icmp'), [ATTR.icmpType]: 128, [ATTR.fragOffset]: 0, [ATTR.fragFlags]: ['MF'], [ATTR.v6ExtHeaders]: ['FRAG'], [ATTR.ipId]: positiveInt },
        },
        ...[
          { src: a6, dst: b6, off: 0, len: 1496, more: true, type: 128 },
          { src: a6, dst: b6, off: 1448, len: 1496, more: true },
          { src: a6, dst: b6, off: 2896, len: 160, more: false },
          { src: b6, dst: a6, off: 0, len: 1496, more: true, type: 129 },
          { src: b6, dst: a6, off: 1448, len: 1496, more: true },
          { src: b6, dst: a6, off: 2896, len: 160, more: false },
        ].map(
          (f): ExpectedLine => ({
            prefix: 'ip6-frag: ',
            level: 4,
            has: [`SRC=${expandV6(f.src)} DST=${expandV6(f.dst)} LEN=${f.len} `, ` OPT ( FRAG:${f.off} ${f.more ? 'INCOMPLETE ' : ''}ID:`],
            attrs: {
              [ATTR.src]: f.src,
              [ATTR.dst]: f.dst,
              [ATTR.netType]: 'ipv6',
              [ATTR.transport]: 'ipv6-icmp',
              [ATTR.length]: f.len,
              [ATTR.icmpType]: f.type ?? ABSENT,
              [ATTR.fragOffset]: f.off,
              [ATTR.fragFlags]: f.more ? ['MF'] : ABSENT,
              [ATTR.v6ExtHeaders]: ['FRAG'],
              [ATTR.ipId]: positiveInt,
              [ATTR.errorType]: ABSENT,
            },
          }),
        ),
      ],
    },
    {
      name: 'ICMPv6 port unreachable quoting the UDP datagram',
      send: [socatUdp6(40109, 7009)],
      expect: [
        {
          prefix: 'ip6-unreach: ',
          level: 4,
          has: [
            `${fwdBack}${macBack6}SRC=${expandV6(b6)} DST=${expandV6(a6)} LEN=98 `,
            ` PROTO=ICMPv6 TYPE=1 CODE=4 [SRC=${expandV6(a6)} DST=${expandV6(b6)} LEN=50 `,
            ' PROTO=UDP SPT=40109 DPT=7009 LEN=10 ] ',
          ],
          attrs: {
            [ATTR.src]: b6,
            [ATTR.dst]: a6,
            [ATTR.netType]: 'ipv6',
            [ATTR.transport]: 'ipv6-icmp',
            [ATTR.icmpType]: 1,
            [ATTR.icmpCode]: 4,
            [ATTR.length]: 98,
            ...noPorts,
            [ATTR.qSrc]: a6,
            [ATTR.qDst]: b6,
            [ATTR.qTransport]: 'udp',
            [ATTR.qSport]: 40109,
            [ATTR.qDport]: 7009,
            [ATTR.qLength]: 50,
            [ATTR.errorType]: ABSENT,
          },
        },
      ],
    },
    {
      name: 'ICMPv6 time exceeded from the router (UDP with hop limit 1)',
      send: [socatUdp6(40112, 7012, ',ipv6-unicast-hops=1')],
      expect: [
        {
          prefix: 'ip6-ttl: ',
          level: 4,
          has: [`IN= OUT=${n.r0} SRC=${expandV6(r0v6)} DST=${expandV6(a6)} `, ' HOPLIMIT=64 ', ` PROTO=ICMPv6 TYPE=3 CODE=0 [SRC=${expandV6(a6)} DST=${expandV6(b6)} `, ' HOPLIMIT=1 ', 'SPT=40112 DPT=7012 LEN=10 ] '],
          attrs: {
            [ATTR.src]: r0v6,
            [ATTR.dst]: a6,
            [ATTR.netType]: 'ipv6',
            [ATTR.transport]: 'ipv6-icmp',
            [ATTR.icmpType]: 3,
            [ATTR.icmpCode]: 0,
            [ATTR.ttl]: 64,
            ...noPorts,
            [ATTR.qSrc]: a6,
            [ATTR.qDst]: b6,
            [ATTR.qTtl]: 1,
            [ATTR.qSport]: 40112,
            [ATTR.qDport]: 7012,
            [ATTR.errorType]: ABSENT,
          },
        },
      ],
    },
    {
      name: 'ip6tables TCP SYN, --log-level info, firewalld-style prefix',
      send: [socatTcp6(40101, 7101)],
      expect: [
        {
          prefix: 'filter_FWD_public_REJECT: ',
          level: 6,
          has: [fwdIn + macFwd6 + v6Head, ' PROTO=TCP SPT=40101 DPT=7101 ', ' SYN URGP=0 '],
          attrs: { ...fwd6('tcp'), ...ports(40101, 7101), ...prefixAttr('filter_FWD_public_REJECT: '), [ATTR.action]: 'reject', [ATTR.tcpFlags]: ['SYN'] },
        },
      ],
    },
    {
      name: 'nft inet log prefix, IPv4',
      send: [socatTcp4(40201, 7201)],
      expect: [
        {
          prefix: 'iptables-dropped: ',
          level: 4,
          has: [fwdIn + macFwd4 + v4Head, ' PROTO=TCP SPT=40201 DPT=7201 '],
          attrs: { ...fwd4('tcp'), ...ports(40201, 7201), ...prefixAttr('iptables-dropped: '), [ATTR.eventType]: ['denied', 'connection'], [ATTR.tcpFlags]: ['SYN'] },
        },
      ],
    },
    {
      name: 'nft inet log prefix, IPv6',
      send: [socatTcp6(40202, 7201)],
      expect: [
        {
          prefix: 'iptables-dropped: ',
          level: 4,
          has: [fwdIn + macFwd6 + v6Head, ' PROTO=TCP SPT=40202 DPT=7201 '],
          attrs: { ...fwd6('tcp'), ...ports(40202, 7201), [ATTR.tcpFlags]: ['SYN'] },
        },
      ],
    },
    {
      name: 'nft log flags all, IPv4 (MACSRC, SEQ, TCP options)',
      send: [socatTcp4(40203, 7202)],
      expect: [
        {
          prefix: 'nft-all: ',
          level: 4,
          has: [`${fwdIn}MACSRC=${L.mac.a0} MACDST=${L.mac.r0} MACPROTO=0800 ${v4Head}`, ' PROTO=TCP SPT=40203 DPT=7202 SEQ=', ' ACK=0 ', ' SYN URGP=0 OPT (020405B4'],
          attrs: { ...fwd4('tcp'), ...ports(40203, 7202), [ATTR.tcpSeq]: positiveInt, [ATTR.tcpAck]: 0, [ATTR.srcMac]: macRfc7042(L.mac.a0), [ATTR.dstMac]: macRfc7042(L.mac.r0), [ATTR.etherType]: 0x0800, [ATTR.tcpOptions]: startsWith('020405B4') },
        },
      ],
    },
    {
      name: 'nft log flags all, IPv6',
      send: [socatTcp6(40204, 7202)],
      expect: [
        {
          prefix: 'nft-all: ',
          level: 4,
          has: [`${fwdIn}MACSRC=${L.mac.a0} MACDST=${L.mac.r0} MACPROTO=86dd ${v6Head}`, ' PROTO=TCP SPT=40204 DPT=7202 SEQ='],
          attrs: { ...fwd6('tcp'), ...ports(40204, 7202), [ATTR.tcpSeq]: positiveInt, [ATTR.srcMac]: macRfc7042(L.mac.a0), [ATTR.etherType]: 0x86dd },
        },
      ],
    },
    {
      name: 'nft log level info',
      send: [socatUdp4(40205, 7203)],
      expect: [
        {
          prefix: 'nft-info: ',
          level: 6,
          has: [fwdIn + macFwd4 + v4Head, ' PROTO=UDP SPT=40205 DPT=7203 LEN=10 '],
          attrs: { ...fwd4('udp'), ...ports(40205, 7203), [ATTR.udpLen]: 10 },
        },
      ],
    },
    {
      name: 'iptables --log-level debug',
      send: [socatUdp4(40060, 7060)],
      expect: [
        {
          prefix: 'fw-debug: ',
          level: 7,
          has: [fwdIn + macFwd4 + v4Head, ' PROTO=UDP SPT=40060 DPT=7060 LEN=10 '],
          attrs: { ...fwd4('udp'), ...ports(40060, 7060) },
        },
      ],
    },
    {
      name: 'ICMP fragmentation needed: quoted packet, then MTU=',
      send: [scapy('icmp-frag-needed')],
      expect: [
        {
          prefix: 'fw-mtu: ',
          level: 4,
          has: [v4Head + 'LEN=56 ', ` PROTO=ICMP TYPE=3 CODE=4 [SRC=${b4} DST=203.0.113.9 LEN=28 `, ' PROTO=UDP SPT=7063 DPT=40063 LEN=8 ] MTU=1280 '],
          attrs: {
            ...fwd4('icmp'),
            ...noPorts,
            [ATTR.icmpType]: 3,
            [ATTR.icmpCode]: 4,
            'iptables.icmp.mtu': 1280,
            [ATTR.qSrc]: b4,
            [ATTR.qDst]: '203.0.113.9',
            [ATTR.qSport]: 7063,
            [ATTR.qDport]: 40063,
            [ATTR.qTransport]: 'udp',
          },
        },
      ],
    },
    {
      name: 'ICMP parameter problem: PARAMETER=',
      send: [scapy('icmp-param-problem')],
      expect: [
        {
          prefix: 'fw-param: ',
          level: 4,
          has: [v4Head, ' PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20 '],
          attrs: { ...fwd4('icmp'), ...noPorts, [ATTR.icmpType]: 12, [ATTR.icmpCode]: 0, 'iptables.icmp.parameter': 20 },
        },
      ],
    },
    {
      name: 'ICMP redirect: GATEWAY= before the quoted TCP packet',
      send: [scapy('icmp-redirect')],
      expect: [
        {
          prefix: 'fw-redirect: ',
          level: 4,
          has: [v4Head, ` PROTO=ICMP TYPE=5 CODE=1 GATEWAY=192.0.2.254 [SRC=${b4} DST=203.0.113.9 LEN=40 `, ' PROTO=TCP SPT=7065 DPT=40065 WINDOW=8192 RES=0x00 SYN URGP=0 ] '],
          attrs: {
            ...fwd4('icmp'),
            ...noPorts,
            [ATTR.icmpType]: 5,
            [ATTR.icmpCode]: 1,
            'iptables.icmp.redirect': '192.0.2.254',
            [ATTR.tcpFlags]: ABSENT, // the SYN belongs to the quoted packet
            [ATTR.qSrc]: b4,
            [ATTR.qSport]: 7065,
            [ATTR.qTransport]: 'tcp',
            'iptables.icmp.quoted.tcp.flags': ['SYN'],
          },
        },
      ],
    },
    {
      name: 'ICMPv6 packet too big: quoted packet, then MTU=',
      send: [scapy('icmpv6-packet-too-big')],
      expect: [
        {
          prefix: 'ip6-ptb: ',
          level: 4,
          has: [v6Head + 'LEN=96 ', ` PROTO=ICMPv6 TYPE=2 CODE=0 [SRC=${expandV6(b6)} DST=${expandV6('2001:db8:3::9')} LEN=48 `, ' PROTO=UDP SPT=7066 DPT=40066 LEN=8 ] MTU=1280 '],
          attrs: {
            ...fwd6('ipv6-icmp'),
            ...noPorts,
            [ATTR.icmpType]: 2,
            [ATTR.icmpCode]: 0,
            'iptables.icmp.mtu': 1280,
            [ATTR.qSrc]: b6,
            [ATTR.qDst]: '2001:db8:3::9',
            [ATTR.qSport]: 7066,
            [ATTR.qDport]: 40066,
          },
        },
      ],
    },
    {
      name: 'ICMPv6 parameter problem: POINTER= in hex',
      send: [scapy('icmpv6-param-problem')],
      expect: [
        {
          prefix: 'ip6-param: ',
          level: 4,
          has: [v6Head, ' PROTO=ICMPv6 TYPE=4 CODE=0 POINTER=00000006 [', ' PROTO=UDP SPT=7067 DPT=40067 LEN=8 ] '],
          attrs: { ...fwd6('ipv6-icmp'), ...noPorts, [ATTR.icmpType]: 4, [ATTR.icmpCode]: 0, 'iptables.icmp.pointer': 6, [ATTR.qSport]: 7067 },
        },
      ],
    },
    {
      name: 'IPv6 hop-by-hop and destination options with --log-ip-options: OPT ( ) OPT ( )',
      send: [scapy('ipv6-ext-headers')],
      expect: [
        {
          prefix: 'ip6-ext: ',
          level: 4,
          has: [v6Head + 'LEN=65 ', ' FLOWLBL=0 OPT ( ) OPT ( ) PROTO=UDP SPT=40061 DPT=7061 LEN=9 '],
          attrs: { ...fwd6('udp'), ...ports(40061, 7061), [ATTR.udpLen]: 9, [ATTR.length]: 65 },
        },
      ],
    },
    {
      name: 'nft netdev ingress log (before routing: OUT= empty, TTL not yet decremented)',
      send: [socatUdp4(40070, 7070)],
      expect: [
        {
          prefix: 'nft-netdev: ',
          level: 4,
          has: [`IN=${n.r0} OUT= ${macFwd4}${v4Head}LEN=30 `, ' TTL=64 ', ' PROTO=UDP SPT=40070 DPT=7070 LEN=10 '],
          attrs: { ...fwd4('udp'), ...ports(40070, 7070), [ATTR.inDev]: n.r0, [ATTR.outDev]: '', [ATTR.ttl]: 64, [ATTR.srcMac]: macRfc7042(L.mac.a0) },
        },
      ],
    },
    {
      // The kernel prints the whole TCI as VID (priority 3 << 13 | 10 = 24586); the VLAN id is the low 12 bits.
      name: 'nft netdev log flags ether on an 802.1Q frame: VPROTO= VID=',
      send: [scapy('vlan-udp')],
      expect: [
        {
          prefix: 'nft-vlan: ',
          level: 4,
          has: [`IN=${n.r0} OUT= MACSRC=${L.mac.a0} MACDST=${L.mac.r0} VPROTO=8100 VID=24586 MACPROTO=0800 ${v4Head}LEN=29 `, ' PROTO=UDP SPT=40072 DPT=7072 LEN=9 '],
          attrs: {
            ...fwd4('udp'),
            ...ports(40072, 7072),
            'network.vlan.id': '10',
            'iptables.vlan.ether_type': 0x8100,
            [ATTR.etherType]: 0x0800,
            [ATTR.srcMac]: macRfc7042(L.mac.a0),
            [ATTR.dstMac]: macRfc7042(L.mac.r0),
          },
        },
      ],
    },
    // ulogd2: NFLOG in the server namespace, LOGEMU file output (TOS without 0x, MARK always printed).
    {
      name: 'ulogd2 LOGEMU: UDP via NFLOG',
      send: [socatUdp4(40050, 7050)],
      expect: [],
      ulogd: [
        {
          prefix: 'nflog-fw:',
          has: [
            ` ${ULOGD_HOSTNAME} nflog-fw: IN=${n.b0} OUT= MAC=${L.mac.b0}:${L.mac.r1}:08:00 ${v4Head}LEN=30 TOS=00 PREC=0x00 TTL=63 `,
            ' PROTO=UDP SPT=40050 DPT=7050 LEN=10 MARK=0x0 ',
          ],
          attrs: { ...fwd4('udp'), ...ports(40050, 7050), [ATTR.prefix]: 'nflog-fw:', [ATTR.mark]: 0, [ATTR.inDev]: n.b0, [ATTR.ttl]: 63, [ATTR.udpLen]: 10 },
        },
      ],
    },
    {
      name: 'ulogd2 LOGEMU: UDP over IPv6 via NFLOG',
      send: [socatUdp6(40051, 7050)],
      expect: [],
      ulogd: [
        {
          prefix: 'nflog-fw6:',
          has: [` ${ULOGD_HOSTNAME} nflog-fw6: IN=${n.b0} OUT= `, ' PROTO=UDP SPT=40051 DPT=7050 LEN=10 '],
          attrs: { ...fwd6('udp'), ...ports(40051, 7050), [ATTR.prefix]: 'nflog-fw6:', [ATTR.inDev]: n.b0 },
        },
      ],
    },
    {
      name: 'ulogd2 LOGEMU: TCP SYN, two spaces after the prefix',
      send: [socatTcp4(40052, 7051)],
      expect: [],
      ulogd: [
        {
          prefix: 'nflog-tcp: ',
          has: [` ${ULOGD_HOSTNAME} nflog-tcp:  IN=${n.b0} OUT= `, ' PROTO=TCP SPT=40052 DPT=7051 SEQ=', ' ACK=0 ', ' SYN URGP=0 MARK=0x0 '],
          attrs: { ...fwd4('tcp'), ...ports(40052, 7051), [ATTR.prefix]: 'nflog-tcp:', [ATTR.tcpSeq]: positiveInt, [ATTR.tcpFlags]: ['SYN'], [ATTR.mark]: 0 },
        },
      ],
    },
    {
      // 72 bytes of payload: IP total length 100, which the nft rule on the server selects.
      name: 'ulogd2 LOGEMU: nft log group, ICMP echo (also logged by the router)',
      send: [{ kind: 'exec', role: 'a', argv: ['ping', '-n', '-c1', '-W2', '-s', '72', b4] }],
      expect: [
        {
          prefix: 'fw-echo: ',
          level: 4,
          has: [fwdIn + macFwd4 + v4Head + 'LEN=100 ', ' PROTO=ICMP TYPE=8 CODE=0 '],
          attrs: { ...fwd4('icmp'), [ATTR.icmpType]: 8, [ATTR.length]: 100 },
        },
      ],
      ulogd: [
        {
          prefix: 'nflog-nft: ',
          has: [` ${ULOGD_HOSTNAME} nflog-nft:  IN=${n.b0} OUT= `, `${v4Head}LEN=100 TOS=00 `, ' PROTO=ICMP TYPE=8 CODE=0 ', ' SEQ=1 MARK=0x0 '],
          attrs: { ...fwd4('icmp'), ...noPorts, [ATTR.prefix]: 'nflog-nft:', [ATTR.icmpType]: 8, [ATTR.icmpCode]: 0, [ATTR.length]: 100 },
        },
      ],
    },
  ];
  return { rules, steps };
}
