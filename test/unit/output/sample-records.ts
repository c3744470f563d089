import type { FirewallLogRecord } from '../../../src/mapping/record.js';

/** A realistic record (~30 attributes of every type) whose values vary with `i`. */
export function sampleRecord(i: number, opts: { withTime?: boolean } = {}): FirewallLogRecord {
  const withTime = opts.withTime ?? true;
  const r: FirewallLogRecord = {
    observedTimestamp: [1_732_600_000 + i, 123_456_789],
    severityNumber: 13,
    severityText: 'warning',
    body: `kernel: [ 1234.567890] iptables-dropped: IN=eth0 OUT= MAC=f6:f5:70:01:f1:81:fa:7d:e7:90:d0:9f:08:00 SRC=192.0.2.${i % 250} DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${6079 + i} DF PROTO=TCP SPT=${40000 + (i % 20000)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 #${i}`,
    attributes: {
      'source.address': `192.0.2.${i % 250}`,
      'source.port': 40000 + (i % 20000),
      'destination.address': '198.51.100.7',
      'destination.port': 22,
      'network.type': 'ipv4',
      'network.transport': 'tcp',
      'network.iana_number': '6',
      'network.community_id': '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
      'source.mac': 'FA-7D-E7-90-D0-9F',
      'destination.mac': 'F6-F5-70-01-F1-81',
      'related.ip': [`192.0.2.${i % 250}`, '198.51.100.7'],
      'iptables.input_device': 'eth0',
      'iptables.output_device': '',
      'iptables.ether_type': 2048,
      'iptables.length': 60,
      'iptables.tos': 0,
      'iptables.precedence_bits': 0,
      'iptables.ttl': 64,
      'iptables.id': 6079 + i,
      'iptables.fragment_flags': ['DF'],
      'iptables.tcp.window': 64240,
      'iptables.tcp.reserved_bits': 0,
      'iptables.tcp.flags': ['SYN'],
      'iptables.tcp.urgent_pointer': 0,
      'sample.ratio': 1234.56789 + i,
      'log.prefix': 'iptables-dropped:',
      'event.action': 'dropped',
      'host.hostname': 'fw1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': 51514,
      'data_stream.dataset': 'iptables.log',
      'iptables.seq': i,
    },
  };
  if (withTime) r.timestamp = [1_732_599_999 + i, 987_654_321];
  return r;
}

/** `n` sample records starting at index `from`. */
export function sampleRecords(from: number, n: number): FirewallLogRecord[] {
  return Array.from({ length: n }, (_, k) => sampleRecord(from + k));
}
