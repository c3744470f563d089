import { describe, expect, it } from 'vitest';
import { parseFrame, validateParseOptions, ParseOptionsError, DEFAULT_PARSE_OPTIONS, type ParseOptions } from '../../../src/mapping/parse-frame.js';
import { LINES } from '../netfilter/sample-lines.js';

const NOW: ParseOptions = { now: new Date('2026-11-26T15:00:00Z') };

describe('parseFrame: record contract', () => {
  it('maps a relayed kernel line: header, severity, body, packet, ECS extras, routing', () => {
    const frame = `<4>Nov 26 14:24:16 fw1 kernel: ${LINES.tcpSyn}`;
    const r = parseFrame(frame, { peerAddress: '192.0.2.53', peerPort: 514, transport: 'udp', receivedAt: [1795700000, 5] }, NOW);
    expect(r.timestamp).toEqual([Date.UTC(2026, 10, 26, 14, 24, 16) / 1000, 0]);
    expect(r.observedTimestamp).toEqual([1795700000, 5]);
    expect([r.severityNumber, r.severityText]).toEqual([13, 'warning']);
    expect(r.body).toBe(LINES.tcpSyn);
    expect(r.attributes).toMatchObject({
      'source.address': '192.0.2.1',
      'source.port': 46208,
      'destination.address': '192.0.2.2',
      'destination.port': 22,
      'network.type': 'ipv4',
      'network.transport': 'tcp',
      'network.iana_number': '6',
      'source.mac': '02-00-0A-C8-00-02',
      'destination.mac': '02-00-0A-C8-00-01',
      'iptables.input_device': 'veth-b',
      'iptables.output_device': '',
      'iptables.ether_type': 2048,
      'iptables.tcp.flags': ['SYN'],
      'iptables.log_prefix': 'iptables-dropped:',
      'event.action': 'iptables-dropped',
      'event.type': ['denied', 'connection'],
      'event.kind': 'event',
      'event.category': ['network'],
      'event.outcome': 'failure',
      'related.ip': ['192.0.2.1', '192.0.2.2'],
      'observer.name': 'fw1',
      'log.syslog.priority': 4,
      'log.syslog.facility.code': 0,
      'log.syslog.facility.name': 'kern',
      'log.syslog.severity.code': 4,
      'log.syslog.severity.name': 'warning',
      'log.syslog.appname': 'kernel',
      'log.syslog.transport': 'udp',
      'network.peer.address': '192.0.2.53',
      'network.peer.port': 514,
      'data_stream.dataset': 'iptables.log',
      'data_stream.namespace': 'default',
      'event.dataset': 'iptables.log',
      'event.module': 'iptables',
    });
    expect(r.attributes['network.community_id']).toMatch(/^1:/);
    expect(r.attributes['log.record.original']).toBeUndefined();
    expect(r.attributes['error.type']).toBeUndefined();
  });
  it('accepts Buffers', () => {
    const r = parseFrame(Buffer.from(`<6>Nov 26 14:24:16 fw1 kernel: ${LINES.udp}`), undefined, NOW);
    expect([r.severityNumber, r.attributes['iptables.udp.length']]).toEqual([9, 56]);
  });
  it('uses the address family for network.type without MAC (IPv6 OUTPUT)', () => {
    expect(parseFrame(LINES.icmp6Echo).attributes['network.type']).toBe('ipv6');
  });
  it('writes the quoted ICMP packet under iptables.icmp.quoted.* without touching the outer fields', () => {
    const a = parseFrame(LINES.icmpUnreach).attributes;
    expect(a['source.address']).toBe('198.51.100.2');
    expect(a['source.port']).toBeUndefined();
    expect(a['iptables.icmp.quoted.source.address']).toBe('192.0.2.1');
    expect(a['iptables.icmp.quoted.destination.port']).toBe(9000);
    expect(a['iptables.icmp.quoted.udp.length']).toBe(14);
    expect(a['iptables.icmp.quoted.network.transport']).toBe('udp');
    expect(a['iptables.icmp.quoted.fragment_flags']).toEqual(['DF']);
  });
  it('sets new attributes for keys Elastic drops', () => {
    const a = { ...parseFrame(LINES.twoOpt).attributes, ...parseFrame(LINES.uidGid).attributes };
    expect(a).toMatchObject({ 'iptables.ip_options': '07030400', 'iptables.tcp.options': '020405B40402080A', 'iptables.tcp.seq': 3721490160, 'iptables.tcp.ack': 0, 'iptables.uid': 65534, 'iptables.gid': 65534 });
    expect(parseFrame(LINES.mark).attributes['iptables.mark']).toBe(42);
    expect(parseFrame(LINES.esp).attributes['iptables.spi']).toBe(0x1234abcd);
    expect(parseFrame(LINES.icmpFragNeeded).attributes['iptables.icmp.mtu']).toBe(1400);
    expect(parseFrame(LINES.icmp6ParamProb).attributes['iptables.icmp.pointer']).toBe(40);
    expect(parseFrame(LINES.physdev).attributes).toMatchObject({ 'iptables.physical_input_device': 'eth1', 'iptables.physical_output_device': 'eth2', 'iptables.output_device': 'br0' });
    expect(parseFrame(LINES.vlan).attributes).toMatchObject({ 'network.vlan.id': '42', 'iptables.vlan.ether_type': 0x0800, 'iptables.vlan.priority': 0 });
    // The kernel prints the whole 802.1Q TCI: 24586 = 0x600A = PCP 3, DEI 0, VID 10 (seen from a real netdev log rule).
    expect(parseFrame(LINES.vlan.replace('VID=42', 'VID=24586')).attributes).toMatchObject({ 'network.vlan.id': '10', 'iptables.vlan.priority': 3 });
    expect(parseFrame(LINES.v6FragOpt).attributes).toMatchObject({ 'iptables.ipv6.extension_headers': ['FRAG'], 'iptables.fragment_offset': 0, 'iptables.fragment_flags': ['MF'], 'iptables.id': 0xabc });
    expect(parseFrame(LINES.incomplete).attributes['iptables.incomplete_bytes']).toBe(8);
    expect(parseFrame(LINES.arp).attributes).toMatchObject({
      'iptables.arp.opcode': 1,
      'iptables.arp.hardware_type': 1,
      'iptables.arp.protocol_type': 2048,
      'source.address': '192.0.2.2',
      'destination.address': '192.0.2.1',
    });
  });
  it('reads GRE/SCTP numbers as transport names and community ids', () => {
    const g = parseFrame(LINES.gre).attributes;
    expect([g['network.transport'], g['network.iana_number']]).toEqual(['gre', '47']);
    expect(g['network.community_id']).toMatch(/^1:/);
    expect(parseFrame(LINES.sctp).attributes['network.transport']).toBe('sctp');
  });
  it('sets rule.* and zones from UniFi OS labels', () => {
    const a = parseFrame(`<4>Nov 26 14:00:00 udm fw ${LINES.emptyMac}`, undefined, NOW).attributes;
    expect(a).toMatchObject({
      'observer.name': 'udm',
      'rule.id': '2147483647',
      'rule.name': 'LOCAL_LAN',
      'rule.description': 'allow lan',
      'event.action': 'accept',
      'event.type': ['allowed', 'connection'],
      'event.outcome': 'success',
      'iptables.output_device': 'br10',
    });
  });
  it('flags UDM truncated lines', () => {
    const a = parseFrame('<14>May  5 20:46:46 gw user.info kernel: L=126 ID=8698 DF PROTO=TCP SPT=88 DPT=51179 WINDOW=2053 RES=0x00 ACK URGP=0', undefined, NOW).attributes;
    expect(a).toMatchObject({ 'iptables.truncated': true, 'iptables.ttl': 126, 'source.port': 88, 'iptables.fragment_flags': ['DF'] });
    expect(a['event.type']).toBeUndefined();
    expect(a['error.type']).toBeUndefined();
  });
  it('reads kmsg records (kernel clock stamp)', () => {
    const r = parseFrame(`4,345,296341291,-;${LINES.tcpSyn}`, undefined, { bootTimeMs: 1_700_000_000_000 });
    expect(r.timestamp).toEqual([1_700_000_296, 341_291_000]);
    expect(r.severityText).toBe('warning');
    expect(r.attributes['source.port']).toBe(46208);
  });
});

describe('parseFrame: options', () => {
  it('dataset, namespace and preserveOriginal', () => {
    const r = parseFrame(LINES.udp, undefined, { dataset: 'fw.edge', namespace: 'prod', preserveOriginal: true });
    expect(r.attributes).toMatchObject({ 'data_stream.dataset': 'fw.edge', 'event.dataset': 'fw.edge', 'data_stream.namespace': 'prod', 'log.record.original': LINES.udp });
  });
  it('user prefix rules win over the built-ins', () => {
    const opts: ParseOptions = { prefixRules: [{ match: 'FW-IN-', action: 'drop' }, { match: /^\[wan/, action: 'allow', ruleName: 'custom' }] };
    const a = parseFrame(`FW-IN-ssh: ${LINES.udp.slice(0)}`, undefined, opts).attributes;
    expect([a['event.action'], a['event.type']]).toEqual(['drop', ['denied', 'connection']]);
    const b = parseFrame('[wan-lan-default-D]IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=1 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=47', undefined, opts).attributes;
    expect([b['event.action'], b['event.type'], b['rule.name'], b['iptables.ubiquiti.rule_set']]).toEqual(['allow', ['allowed', 'connection'], 'custom', 'wan-lan']);
  });
  it('timezone applies to stamps without one', () => {
    const r = parseFrame(`<4>Nov 26 14:24:16 fw1 kernel: ${LINES.udp}`, undefined, { timezone: '+02:00', now: NOW.now });
    expect(r.timestamp![0]).toBe(Date.UTC(2026, 10, 26, 12, 24, 16) / 1000);
  });
  it('defaults', () => {
    expect(DEFAULT_PARSE_OPTIONS).toEqual({ timezone: 'UTC', preserveOriginal: false, dataset: 'iptables.log', namespace: 'default' });
  });
});

describe('parseFrame: failures never throw and keep the frame', () => {
  it('non-netfilter line', () => {
    const frame = '<6>Nov 26 14:24:16 host kernel: usb 1-1: new high-speed USB device';
    const r = parseFrame(frame, { peerAddress: '192.0.2.9' }, NOW);
    expect(r.body).toBe('usb 1-1: new high-speed USB device');
    expect(r.attributes).toMatchObject({
      'error.type': 'not_netfilter',
      'event.kind': 'pipeline_error',
      'log.record.original': frame,
      'observer.name': 'host',
      'network.peer.address': '192.0.2.9',
      'data_stream.dataset': 'iptables.log',
    });
    expect(typeof r.attributes['error.message']).toBe('string');
  });
  it('empty frames', () => {
    for (const f of ['', '\n', '   ', Buffer.alloc(0)]) {
      expect(parseFrame(f).attributes['error.type']).toBe('empty_frame');
    }
  });
  it('garbage input types', () => {
    for (const f of [undefined, null, 42, {}, [], Symbol('x')] as unknown[]) {
      const r = parseFrame(f as string);
      expect(r.attributes['error.type']).toBeDefined();
    }
  });
});

describe('validateParseOptions', () => {
  it('accepts and normalises good options', () => {
    expect(validateParseOptions({ timezone: 'Europe/Berlin', preserveOriginal: true, dataset: 'iptables.log', namespace: 'prod', prefixRules: [{ regex: '^FW-', action: 'DROP', ruleName: 'fw' }] })).toEqual({
      timezone: 'Europe/Berlin',
      preserveOriginal: true,
      dataset: 'iptables.log',
      namespace: 'prod',
      prefixRules: [{ match: /^FW-/, action: 'drop', ruleName: 'fw' }],
    });
    expect(validateParseOptions(undefined)).toEqual({});
  });
  it.each([
    [{ timezone: 'Mars/Olympus' }, 'parser.timezone'],
    [{ preserveOriginal: 'yes' }, 'parser.preserveOriginal'],
    [{ dataset: 'Iptables' }, 'parser.dataset'],
    [{ namespace: 'a-b' }, 'parser.namespace'],
    [{ prefixRules: {} }, 'parser.prefixRules'],
    [{ prefixRules: [{ match: 'x', action: 'drop' }, { match: 'y' }] }, 'parser.prefixRules[1].action'],
    [{ prefixRules: [{ regex: '(' , action: 'drop' }] }, 'parser.prefixRules[0].regex'],
    [{ prefixRules: [{ match: 'x', action: 'drop', colour: 1 }] }, 'parser.prefixRules[0].colour'],
    [{ prefixRules: [{ match: 'x', action: 'drop', verdict: 'maybe' }] }, 'parser.prefixRules[0].verdict'],
    [{ nonsense: 1 }, 'parser.nonsense'],
    [{ now: 'today' }, 'parser.now'],
  ])('%j names %s', (raw, key) => {
    try {
      validateParseOptions(raw);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseOptionsError);
      expect((e as ParseOptionsError).key).toBe(key);
      expect((e as Error).message.startsWith(`${key}: `)).toBe(true);
    }
  });
});
