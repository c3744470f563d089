/**
 * The direct OTLP path (OtlpDirectEncoder, the threaded default) against HAND-WRITTEN expected
 * attributes: one line of each kind, its LogRecord bytes decoded by the test sink's own protobuf
 * reader (test/helpers/otlp-sink.ts, independent of src/). otlp-direct.test.ts proves the direct
 * bytes equal the record path's; this test pins what both say, value by value and with the OTLP
 * type of each value, so a mistake shared by both paths is caught too.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OtlpDirectEncoder, ParseOutcome } from '../../../src/output/otlp-direct.js';
import { decodeProtobufLogRecord, type NormRecord, type NormValue } from '../../helpers/otlp-sink.js';

const NOW = new Date('2026-11-26T15:00:00Z');
const RECEIVED: [number, number] = [1795700000, 123_000_000];
const OPTIONS = { now: NOW, bootTimeMs: Date.UTC(2026, 10, 26, 9, 30, 0) };
const CTX = { receivedAt: RECEIVED };

const s = (v: string): NormValue => ({ string: v });
const i = (v: number): NormValue => ({ int: String(v) });
const sa = (...v: string[]): NormValue => ({ array: v.map(s) });

/** Encode one frame on the direct path and decode its LogRecord. */
function directRecord(frame: string): { outcome: ParseOutcome; record: NormRecord } {
  const enc = new OtlpDirectEncoder(OPTIONS);
  const outcome = enc.append(frame, CTX);
  const recs = enc.takeChunk();
  expect(recs).toHaveLength(1);
  const bytes = Buffer.from(recs[0]!.chunk.subarray(recs[0]!.start, recs[0]!.end));
  // ScopeLogs.log_records: field 2, length-delimited, then the LogRecord message.
  expect(bytes[0], 'field tag of ScopeLogs.log_records').toBe(0x12);
  let len = 0;
  let shift = 0;
  let at = 1;
  for (;;) {
    const b = bytes[at++]!;
    len += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) break;
  }
  expect(at + len, 'the length covers the record exactly').toBe(bytes.length);
  return { outcome, record: decodeProtobufLogRecord(bytes.subarray(at)) };
}

/** Community ID v1 (seed 0), written from the spec for this test, independent of src/mapping. */
function communityId(proto: number, src: string, dst: string, sport: number, dport: number, oneWay = false): string {
  const ip = (a: string): Buffer => {
    if (!a.includes(':')) return Buffer.from(a.split('.').map(Number));
    const [head, tail] = a.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  };
  let [a, b, pa, pb] = [ip(src), ip(dst), sport, dport];
  const cmp = Buffer.compare(a, b);
  if (!oneWay && (cmp > 0 || (cmp === 0 && pa > pb))) [a, b, pa, pb] = [b, a, pb, pa];
  const port = (p: number): Buffer => Buffer.from([p >> 8, p & 0xff]);
  const h = createHash('sha1').update(Buffer.concat([Buffer.from([0, 0]), a, b, Buffer.from([proto, 0]), port(pa), port(pb)]));
  return `1:${h.digest('base64')}`;
}

/** What every netfilter line from `kernel` at warning level (<4>) on host fw1 carries. */
const KERNEL_HEADER: Record<string, NormValue> = {
  'event.kind': s('event'),
  'event.category': sa('network'),
  'event.dataset': s('iptables.log'),
  'event.module': s('iptables'),
  'data_stream.dataset': s('iptables.log'),
  'data_stream.namespace': s('default'),
  'observer.name': s('fw1'),
  'log.syslog.priority': i(4),
  'log.syslog.facility.code': i(0),
  'log.syslog.facility.name': s('kern'),
  'log.syslog.severity.code': i(4),
  'log.syslog.severity.name': s('warning'),
  'log.syslog.appname': s('kernel'),
};

/** Seconds of a Nov 26 2026 UTC time as OTLP nanoseconds. */
const nanos = (hh: number, mm: number, ss: number): string => String(BigInt(Date.UTC(2026, 10, 26, hh, mm, ss)) * 1_000_000n);

interface Case {
  name: string;
  frame: string;
  outcome: ParseOutcome;
  time: string;
  severity: [number, string];
  attributes: Record<string, NormValue>;
}

const CASES: Case[] = [
  {
    name: 'TCP over IPv4, with MAC header and kernel uptime',
    frame:
      '<4>Nov 26 14:20:01 fw1 kernel: [12345.678901] iptables-dropped: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=192.0.2.10 DST=198.51.100.20 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ',
    outcome: ParseOutcome.Ok,
    time: nanos(14, 20, 1),
    severity: [13, 'warning'],
    attributes: {
      ...KERNEL_HEADER,
      'source.address': s('192.0.2.10'),
      'source.port': i(40000),
      'destination.address': s('198.51.100.20'),
      'destination.port': i(22),
      'network.transport': s('tcp'),
      'network.iana_number': s('6'),
      'network.type': s('ipv4'),
      'network.community_id': s(communityId(6, '192.0.2.10', '198.51.100.20', 40000, 22)),
      'iptables.length': i(60),
      'iptables.tos': i(0),
      'iptables.precedence_bits': i(0),
      'iptables.ttl': i(64),
      'iptables.id': i(54321),
      'iptables.fragment_flags': sa('DF'),
      'iptables.tcp.window': i(64240),
      'iptables.tcp.reserved_bits': i(0),
      'iptables.tcp.flags': sa('SYN'),
      'iptables.tcp.urgent_pointer': i(0),
      // MAC= is destination (6 bytes), source (6 bytes), EtherType (2 bytes).
      'source.mac': s('52-54-00-65-43-21'),
      'destination.mac': s('52-54-00-12-34-56'),
      'iptables.ether_type': i(0x0800),
      'iptables.input_device': s('eth0'),
      'iptables.output_device': s(''),
      'iptables.log_prefix': s('iptables-dropped:'),
      'event.action': s('iptables-dropped'),
      'event.type': sa('denied', 'connection'),
      'event.outcome': s('failure'),
      'related.ip': sa('192.0.2.10', '198.51.100.20'),
      'iptables.kernel_uptime_us': i(12_345_678_901),
    },
  },
  {
    name: 'UDP over IPv6 (addresses canonicalised)',
    frame:
      '<4>Nov 26 14:20:02 fw1 kernel: ip6-in: IN=eth0 OUT= SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=12345 PROTO=UDP SPT=5353 DPT=53 LEN=40 ',
    outcome: ParseOutcome.Ok,
    time: nanos(14, 20, 2),
    severity: [13, 'warning'],
    attributes: {
      ...KERNEL_HEADER,
      'source.address': s('2001:db8::1'),
      'source.port': i(5353),
      'destination.address': s('2001:db8::2'),
      'destination.port': i(53),
      'network.transport': s('udp'),
      'network.iana_number': s('17'),
      'network.type': s('ipv6'),
      'network.community_id': s(communityId(17, '2001:db8::1', '2001:db8::2', 5353, 53)),
      'iptables.length': i(80),
      'iptables.tos': i(0), // TC= (traffic class)
      'iptables.ttl': i(64), // HOPLIMIT=
      'iptables.flow_label': i(12345),
      'iptables.udp.length': i(40),
      'iptables.input_device': s('eth0'),
      'iptables.output_device': s(''),
      'iptables.log_prefix': s('ip6-in:'),
      'event.action': s('ip6-in'),
      'event.type': sa('connection'),
      'related.ip': sa('2001:db8::1', '2001:db8::2'),
    },
  },
  {
    name: 'ICMP destination unreachable with the quoted packet',
    frame:
      '<4>Nov 26 14:24:16 fw1 kernel: fw-unreach: IN=r1-fw OUT=r0-fw MAC=02:00:c6:33:64:01:02:00:c6:33:64:02:08:00 SRC=198.51.100.2 DST=192.0.2.2 LEN=58 TOS=0x00 PREC=0xC0 TTL=63 ID=41931 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.2 DST=198.51.100.2 LEN=30 TOS=0x00 PREC=0x00 TTL=63 ID=59971 DF PROTO=UDP SPT=40009 DPT=7009 LEN=10 ] ',
    outcome: ParseOutcome.Ok,
    time: nanos(14, 24, 16),
    severity: [13, 'warning'],
    attributes: {
      ...KERNEL_HEADER,
      'source.address': s('198.51.100.2'),
      'destination.address': s('192.0.2.2'),
      'network.transport': s('icmp'),
      'network.iana_number': s('1'),
      'network.type': s('ipv4'),
      // ICMP: type and code stand in for the ports; an unreachable is one-way (no reordering).
      'network.community_id': s(communityId(1, '198.51.100.2', '192.0.2.2', 3, 3, true)),
      'iptables.length': i(58),
      'iptables.tos': i(0),
      'iptables.precedence_bits': i(0xc0),
      'iptables.ttl': i(63),
      'iptables.id': i(41931),
      'iptables.icmp.type': i(3),
      'iptables.icmp.code': i(3),
      'source.mac': s('02-00-C6-33-64-02'),
      'destination.mac': s('02-00-C6-33-64-01'),
      'iptables.ether_type': i(0x0800),
      'iptables.input_device': s('r1-fw'),
      'iptables.output_device': s('r0-fw'),
      'iptables.icmp.quoted.source.address': s('192.0.2.2'),
      'iptables.icmp.quoted.source.port': i(40009),
      'iptables.icmp.quoted.destination.address': s('198.51.100.2'),
      'iptables.icmp.quoted.destination.port': i(7009),
      'iptables.icmp.quoted.network.transport': s('udp'),
      'iptables.icmp.quoted.network.iana_number': s('17'),
      'iptables.icmp.quoted.length': i(30),
      'iptables.icmp.quoted.tos': i(0),
      'iptables.icmp.quoted.precedence_bits': i(0),
      'iptables.icmp.quoted.ttl': i(63),
      'iptables.icmp.quoted.id': i(59971),
      'iptables.icmp.quoted.fragment_flags': sa('DF'),
      'iptables.icmp.quoted.udp.length': i(10),
      'iptables.log_prefix': s('fw-unreach:'),
      'event.action': s('fw-unreach'),
      'event.type': sa('connection'),
      'related.ip': sa('198.51.100.2', '192.0.2.2'),
    },
  },
  {
    name: 'ARP (nftables arp family): MACs and IPs from the ARP header, no transport',
    frame: '<4>Nov 26 14:24:17 fw1 kernel: nft-arp: IN=r0-fw OUT= ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=02:00:c0:00:02:02 IPSRC=192.0.2.2 MACDST=00:00:00:00:00:00 IPDST=192.0.2.1',
    outcome: ParseOutcome.Ok,
    time: nanos(14, 24, 17),
    severity: [13, 'warning'],
    attributes: {
      ...KERNEL_HEADER,
      'source.address': s('192.0.2.2'),
      'destination.address': s('192.0.2.1'),
      'network.type': s('ipv4'),
      'source.mac': s('02-00-C0-00-02-02'),
      'destination.mac': s('00-00-00-00-00-00'),
      'iptables.arp.hardware_type': i(1),
      'iptables.arp.protocol_type': i(0x0800),
      'iptables.arp.opcode': i(1),
      'iptables.input_device': s('r0-fw'),
      'iptables.output_device': s(''),
      'iptables.log_prefix': s('nft-arp:'),
      'event.action': s('nft-arp'),
      'event.type': sa('connection'),
      'related.ip': sa('192.0.2.2', '192.0.2.1'),
    },
  },
  {
    name: 'a vendor prefix ([UFW BLOCK]) with MACSRC/MACDST/MACPROTO',
    frame:
      '<4>Nov 26 14:24:16 fw1 kernel: [UFW BLOCK] IN=r0-fw OUT=r1-fw MACSRC=02:00:c0:00:02:02 MACDST=02:00:c0:00:02:01 MACPROTO=0800 SRC=192.0.2.2 DST=198.51.100.2 LEN=30 TOS=0x00 PREC=0x00 TTL=63 ID=59939 DF PROTO=UDP SPT=40003 DPT=7003 LEN=10 ',
    outcome: ParseOutcome.Ok,
    time: nanos(14, 24, 16),
    severity: [13, 'warning'],
    attributes: {
      ...KERNEL_HEADER,
      'source.address': s('192.0.2.2'),
      'source.port': i(40003),
      'destination.address': s('198.51.100.2'),
      'destination.port': i(7003),
      'network.transport': s('udp'),
      'network.iana_number': s('17'),
      'network.type': s('ipv4'),
      'network.community_id': s(communityId(17, '192.0.2.2', '198.51.100.2', 40003, 7003)),
      'iptables.length': i(30),
      'iptables.tos': i(0),
      'iptables.precedence_bits': i(0),
      'iptables.ttl': i(63),
      'iptables.id': i(59939),
      'iptables.fragment_flags': sa('DF'),
      'iptables.udp.length': i(10),
      'source.mac': s('02-00-C0-00-02-02'),
      'destination.mac': s('02-00-C0-00-02-01'),
      'iptables.ether_type': i(0x0800),
      'iptables.input_device': s('r0-fw'),
      'iptables.output_device': s('r1-fw'),
      'iptables.log_prefix': s('[UFW BLOCK]'),
      'rule.ruleset': s('ufw'),
      'event.action': s('block'),
      'event.type': sa('denied', 'connection'),
      'event.outcome': s('failure'),
      'related.ip': sa('192.0.2.2', '198.51.100.2'),
    },
  },
  {
    name: 'a line that is not netfilter: an error record keeping the original',
    frame: '<13>Nov 26 14:20:03 host1 sshd[123]: Accepted publickey for root from 192.0.2.9 port 50000',
    outcome: ParseOutcome.Failed,
    time: nanos(14, 20, 3),
    severity: [10, 'notice'],
    attributes: {
      'observer.name': s('host1'),
      'log.syslog.priority': i(13),
      'log.syslog.facility.code': i(1),
      'log.syslog.facility.name': s('user'),
      'log.syslog.severity.code': i(5),
      'log.syslog.severity.name': s('notice'),
      'log.syslog.appname': s('sshd'),
      'log.syslog.procid': s('123'),
      'event.kind': s('pipeline_error'),
      'event.dataset': s('iptables.log'),
      'event.module': s('iptables'),
      'data_stream.dataset': s('iptables.log'),
      'data_stream.namespace': s('default'),
      'error.type': s('not_netfilter'),
      'error.message': s('not a netfilter log line: no IN= key and no truncated TTL= start'),
      'log.record.original': s('<13>Nov 26 14:20:03 host1 sshd[123]: Accepted publickey for root from 192.0.2.9 port 50000'),
    },
  },
];

describe('OtlpDirectEncoder: hand-written expected records', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { outcome, record } = directRecord(c.frame);
    expect(outcome).toBe(c.outcome);
    expect(record.timeUnixNano).toBe(c.time);
    expect(record.observedTimeUnixNano).toBe(String(BigInt(RECEIVED[0]) * 1_000_000_000n + BigInt(RECEIVED[1])));
    expect([record.severityNumber, record.severityText]).toEqual(c.severity);
    // The body is MSG: the frame after the syslog header (and kernel uptime stamp kept).
    expect(record.body).toEqual(s(c.frame.slice(c.frame.indexOf(': ') + 2)));
    // Every attribute, with its value and OTLP type, and no other (compared as sets of keys).
    expect(Object.keys(record.attributes).sort()).toEqual(Object.keys(c.attributes).sort());
    for (const [k, v] of Object.entries(c.attributes)) expect(record.attributes[k], k).toEqual(v);
  });
});
