/**
 * Real relays -> the whole service -> OTLP/HTTP. One rsyslogd and one syslog-ng forward the
 * same firewall lines in every mode a deployment uses (rsyslog omfwd UDP, TCP LF, TCP
 * octet-counted RSYSLOG_SyslogProtocol23Format, TLS with the ossl driver, and a logger-fed
 * imuxsock path; syslog-ng network() UDP/TCP and syslog() TCP/TLS) to one service started
 * with `startService()`. The service exports to two local sinks (protobuf and JSON). Each
 * mode gets its own firewall host name in the relayed header, so the sink can tell the modes
 * apart while the MSG is the same in all of them.
 *
 * Checked at the sinks: every line arrives exactly once per mode, with the right attributes,
 * severity, body, resource and scope; protobuf and JSON carry the same records; /metrics
 * agrees (received, exported per output, nothing dropped or failed).
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormRecord, NormValue, OtlpSink } from '../../helpers/otlp-sink.js';
import { hasLogger, hasRsyslog, hasSyslogNg, inputSocket, sendWithLogger, startRsyslog, startSyslogNg, type Daemon } from '../../helpers/peers.js';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { makeTlsCerts, type TlsCerts } from '../../helpers/tls-certs.js';
import { firewallLines, kernelFrame, type ExpectedLine } from './firewall-lines.js';
import { freeUdpPort, sendDatagrams, startServiceUnderTest, waitUdpBound, type ServiceUnderTest } from './service-under-test.js';

const req = requirement(
  hasRsyslog() && hasSyslogNg() && hasLogger() && hasCommand('openssl'),
  'rsyslogd (with the ossl driver), syslog-ng in /opt/syslog-ng, util-linux logger and openssl are needed',
);

/** Lines per mode (20 of each of the 7 kinds). */
const N = 140;
const LINES = firewallLines(N);

interface Mode {
  name: string;
  daemon: 'rsyslog' | 'syslog-ng';
  /** HOSTNAME in the relayed header: `observer.name`, and how the sink tells modes apart. */
  host: string;
  /** The service listener the daemon forwards to. */
  listener: 'udp' | 'tcp' | 'tls';
  /** How the daemon is fed: datagrams with `<4>` (kern.warning) or `logger -u -p user.warning` (`<12>`). */
  feed: 'udp' | 'logger';
  /** Syslog PRI the service must see. */
  priority: number;
}

const MODES: Mode[] = [
  { name: 'rsyslog omfwd UDP (traditional)', daemon: 'rsyslog', host: 'fw-rs-udp', listener: 'udp', feed: 'udp', priority: 4 },
  { name: 'rsyslog omfwd TCP LF (traditional)', daemon: 'rsyslog', host: 'fw-rs-tcp-lf', listener: 'tcp', feed: 'udp', priority: 4 },
  { name: 'rsyslog omfwd TCP octet-counted SyslogProtocol23', daemon: 'rsyslog', host: 'fw-rs-tcp-octet', listener: 'tcp', feed: 'udp', priority: 4 },
  { name: 'rsyslog omfwd TLS ossl (octet-counted SyslogProtocol23)', daemon: 'rsyslog', host: 'fw-rs-tls', listener: 'tls', feed: 'udp', priority: 4 },
  { name: 'logger user.warning -> rsyslog imuxsock -> omfwd UDP', daemon: 'rsyslog', host: 'fw-rs-uxsock', listener: 'udp', feed: 'logger', priority: 12 },
  { name: 'syslog-ng network() UDP', daemon: 'syslog-ng', host: 'fw-sng-udp', listener: 'udp', feed: 'udp', priority: 4 },
  { name: 'syslog-ng network() TCP', daemon: 'syslog-ng', host: 'fw-sng-tcp', listener: 'tcp', feed: 'udp', priority: 4 },
  { name: 'syslog-ng syslog() TCP octet-counted', daemon: 'syslog-ng', host: 'fw-sng-octet', listener: 'tcp', feed: 'udp', priority: 4 },
  { name: 'syslog-ng syslog() TLS', daemon: 'syslog-ng', host: 'fw-sng-tls', listener: 'tls', feed: 'udp', priority: 4 },
  // syslog-ng stamps local messages with its own host name.
  { name: 'logger user.warning -> syslog-ng unix-dgram -> network() TCP', daemon: 'syslog-ng', host: os.hostname(), listener: 'tcp', feed: 'logger', priority: 12 },
];
const TOTAL = N * MODES.length;

function str(v: NormValue | undefined): string | undefined {
  return v && 'string' in v ? v.string : undefined;
}
function int(v: NormValue | undefined): number | undefined {
  return v && 'int' in v ? Number(v.int) : undefined;
}

/** rsyslog: one imudp input and ruleset per mode (rulesets keep the modes apart), plus imuxsock -> UDP. */
function rsyslogConfig(certs: TlsCerts, svc: ServiceUnderTest, inPorts: Map<string, number>): string {
  const target = 'type="omfwd" target="127.0.0.1"';
  const octet23 = 'TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"';
  const actions: Record<string, string> = {
    'fw-rs-udp': `action(${target} port="${svc.port('udp')}" protocol="udp")`,
    'fw-rs-tcp-lf': `action(${target} port="${svc.port('tcp')}" protocol="tcp")`,
    'fw-rs-tcp-octet': `action(${target} port="${svc.port('tcp')}" protocol="tcp" ${octet23})`,
    'fw-rs-tls': `action(${target} port="${svc.port('tls')}" protocol="tcp" StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost" ${octet23})`,
  };
  const out = [`global(DefaultNetstreamDriverCAFile="${certs.caFile}")`, 'global(localHostName="fw-rs-uxsock")', 'module(load="imudp")'];
  for (const [host, action] of Object.entries(actions)) {
    const rs = `r_${host.replace(/-/g, '_')}`;
    out.push(`ruleset(name="${rs}") { ${action} }`);
    out.push(`input(type="imudp" address="127.0.0.1" port="${inPorts.get(host)}" ruleset="${rs}")`);
  }
  // The default ruleset gets imuxsock (logger) and rsyslogd's own messages: forward only the kernel tag.
  out.push(`if $programname == "kernel" then { action(${target} port="${svc.port('udp')}" protocol="udp") }`);
  return out.join('\n');
}

/** syslog-ng: one network() UDP source and log path per mode. */
function syslogNgConfig(certs: TlsCerts, svc: ServiceUnderTest, inPorts: Map<string, number>): string {
  const dest: Record<string, string> = {
    'fw-sng-udp': `network("127.0.0.1" port(${svc.port('udp')}) transport("udp")`,
    'fw-sng-tcp': `network("127.0.0.1" port(${svc.port('tcp')}) transport("tcp")`,
    'fw-sng-octet': `syslog("127.0.0.1" port(${svc.port('tcp')}) transport("tcp")`,
    'fw-sng-tls': `syslog("127.0.0.1" port(${svc.port('tls')}) transport("tls") tls(ca-file("${certs.caFile}") peer-verify(required-trusted))`,
  };
  const out: string[] = [];
  for (const [host, d] of Object.entries(dest)) {
    const id = host.replace(/-/g, '_');
    out.push(`source s_${id} { network(ip("127.0.0.1") port(${inPorts.get(host)}) transport("udp")); };`);
    // Several destinations share the TCP listener's address: syslog-ng needs distinct persist names.
    out.push(`destination d_${id} { ${d} persist-name("d_${id}")); };`);
    out.push(`log { source(s_${id}); destination(d_${id}); };`);
  }
  // s_in (the helper's unix-dgram socket, fed by logger) must be in a log path or syslog-ng never opens it.
  out.push(`destination d_uxsock { network("127.0.0.1" port(${svc.port('tcp')}) transport("tcp") persist-name("d_uxsock")); };`);
  out.push('log { source(s_in); destination(d_uxsock); };');
  return out.join('\n');
}

/**
 * Wait (bounded) until both sinks hold `n` records, then a little longer so duplicates show.
 * Never throws (the tests report what is missing); returns when the count was reached.
 */
async function settle(sinks: OtlpSink[], n: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  while (sinks.some((s) => s.records.length < n) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const reached = Date.now();
  await new Promise((r) => setTimeout(r, 500));
  return reached;
}

// Both pipelines: everything on the main thread (0), and worker threads (auto).
describe.skipIf(!shouldRun(req)).each(['0', 'auto'])('rsyslog and syslog-ng -> service -> OTLP/HTTP (threads %s)', (threads) => {
  let certs: TlsCerts | undefined;
  let svc: ServiceUnderTest | undefined;
  let rsyslog: Daemon | undefined;
  let syslogNg: Daemon | undefined;
  let sentAt = 0;
  let settledMs = 0;

  beforeAll(async () => {
    assertRequirement(req);
    certs = makeTlsCerts();
    svc = await startServiceUnderTest(certs, threads);
    const inPorts = new Map<string, number>();
    for (const m of MODES) {
      if (m.feed !== 'udp') continue;
      // Each probe socket is closed before the next, so the kernel may hand out a port twice.
      let port = await freeUdpPort();
      for (let tries = 0; [...inPorts.values()].includes(port) && tries < 20; tries++) port = await freeUdpPort();
      inPorts.set(m.host, port);
    }
    rsyslog = await startRsyslog(rsyslogConfig(certs, svc, inPorts));
    syslogNg = await startSyslogNg(syslogNgConfig(certs, svc, inPorts));
    await waitUdpBound([...inPorts.values()]);

    const t0 = Date.now();
    sentAt = t0;
    const now = new Date(t0);
    for (const m of MODES) {
      if (m.feed === 'udp') {
        await sendDatagrams(inPorts.get(m.host)!, LINES.map((l) => kernelFrame(m.host, l.msg, now)));
      } else {
        const daemon = m.daemon === 'rsyslog' ? rsyslog : syslogNg;
        await sendWithLogger(['-u', inputSocket(daemon), '-t', 'kernel', '-p', 'user.warning'], LINES.map((l) => l.msg));
      }
    }
    settledMs = (await settle([svc.protobufSink, svc.jsonSink], TOTAL, 30_000)) - t0;
  }, 90_000);

  afterAll(async () => {
    await rsyslog?.stop();
    await syslogNg?.stop();
    await svc?.stop();
    certs?.cleanup();
    // eslint-disable-next-line no-console
    console.log(`service-senders: ${MODES.length} modes x ${N} lines = ${TOTAL} records per sink, ${settledMs} ms from the first send to the last record at both sinks`);
  });

  /** The records of one mode in one sink, keyed by body (MSG); duplicates and strays reported. */
  function recordsOf(sink: OtlpSink, host: string): NormRecord[] {
    return sink.records.filter((r) => str(r.attributes['observer.name']) === host);
  }

  function checkRecord(r: NormRecord, line: ExpectedLine, mode: Mode): void {
    const a = r.attributes;
    const where = `${mode.host} ${line.kind} ${line.sourceAddress}`;
    expect(a['error.type'], where).toBeUndefined();
    expect(str(a['source.address']), where).toBe(line.sourceAddress);
    expect(str(a['destination.address']), where).toBe(line.destinationAddress);
    expect(int(a['destination.port']), where).toBe(line.destinationPort);
    expect(int(a['source.port']), where).toBe(line.sourcePort);
    expect(str(a['network.transport']), where).toBe(line.transport);
    expect(str(a['network.type']), where).toBe(line.networkType);
    expect(str(a['iptables.log_prefix']), where).toBe(line.logPrefix);
    expect(str(a['event.action']), where).toBe(line.action);
    if (line.quoted) {
      expect(str(a['iptables.icmp.quoted.source.address']), where).toBe(line.quoted.sourceAddress);
      expect(str(a['iptables.icmp.quoted.destination.address']), where).toBe(line.quoted.destinationAddress);
      expect(int(a['iptables.icmp.quoted.source.port']), where).toBe(line.quoted.sourcePort);
      expect(int(a['iptables.icmp.quoted.destination.port']), where).toBe(line.quoted.destinationPort);
      expect(str(a['iptables.icmp.quoted.network.transport']), where).toBe(line.quoted.transport);
    } else {
      expect(a['iptables.icmp.quoted.source.address'], where).toBeUndefined();
    }
    if (line.kernelUptime !== undefined) {
      expect(int(a['iptables.kernel_uptime_us']), where).toBe(Math.round(line.kernelUptime * 1e6));
    } else {
      expect(a['iptables.kernel_uptime_us'], where).toBeUndefined();
    }
    expect(str(a['observer.name']), where).toBe(mode.host);
    expect(str(a['network.peer.address']), where).toBe('127.0.0.1');
    expect(int(a['network.peer.port']), where).toBeGreaterThan(0);
    expect(str(a['log.syslog.transport']), where).toBe(mode.listener);
    expect(str(a['log.syslog.appname']), where).toBe('kernel');
    expect(int(a['log.syslog.priority']), where).toBe(mode.priority);
    expect(str(a['log.syslog.facility.name']), where).toBe(mode.priority === 4 ? 'kern' : 'user');
    expect(str(a['log.syslog.severity.name']), where).toBe('warning');
    expect(r.severityNumber, where).toBe(13); // syslog warning -> OTel WARN
    expect(r.severityText, where).toBe('warning');
    // The relays' stamps are whole seconds (RFC 3164) or micro-seconds: within a minute of the send.
    expect(Math.abs(Number(BigInt(r.timeUnixNano) / 1_000_000n) - sentAt), where).toBeLessThan(60_000);
    expect(str(r.resource['service.name'])).toBe('iptables-otel');
    expect(str(r.resource['host.name'])).toBe(os.hostname());
    expect(r.scope.name).toBe('iptables-otel');
  }

  for (const mode of MODES) {
    it(`${mode.name}: ${N} lines, each exactly once, attributes right`, () => {
      for (const [label, sink] of [['protobuf', svc!.protobufSink], ['json', svc!.jsonSink]] as const) {
        const got = recordsOf(sink, mode.host);
        const byBody = new Map<string, NormRecord[]>();
        for (const r of got) byBody.set(str(r.body) ?? '', [...(byBody.get(str(r.body) ?? '') ?? []), r]);
        const missing = LINES.filter((l) => !byBody.has(l.msg)).map((l) => l.msg);
        const unexpected = [...byBody.keys()].filter((b) => !LINES.some((l) => l.msg === b));
        expect({ sink: label, missing: missing.slice(0, 3), missingCount: missing.length, unexpected: unexpected.slice(0, 3).map((b) => JSON.stringify(b)) }).toEqual({
          sink: label,
          missing: [],
          missingCount: 0,
          unexpected: [],
        });
        const dups = [...byBody.entries()].filter(([, rs]) => rs.length > 1).map(([b]) => b);
        expect(dups, `${label}: duplicated`).toEqual([]);
        expect(got, label).toHaveLength(N);
        for (const line of LINES) checkRecord(byBody.get(line.msg)![0]!, line, mode);
      }
    });
  }

  it('no record outside the modes; protobuf and JSON sinks got the same records', () => {
    const hosts = new Set(MODES.map((m) => m.host));
    for (const sink of [svc!.protobufSink, svc!.jsonSink]) {
      const strays = sink.records.filter((r) => !hosts.has(str(r.attributes['observer.name']) ?? ''));
      expect(strays.map((r) => str(r.body)).slice(0, 3)).toEqual([]);
      expect(sink.records).toHaveLength(TOTAL);
    }
    const key = (r: NormRecord): string => `${str(r.attributes['observer.name'])}|${str(r.body)}`;
    const json = new Map(svc!.jsonSink.records.map((r) => [key(r), r]));
    for (const r of svc!.protobufSink.records) expect(json.get(key(r)), key(r)).toEqual(r);
    expect(svc!.protobufSink.requests.every((q) => q.contentType.startsWith('application/x-protobuf'))).toBe(true);
    expect(svc!.jsonSink.requests.every((q) => q.contentType.startsWith('application/json'))).toBe(true);
  });

  it('the body is the MSG as the kernel printed it, identical in every mode', () => {
    for (const line of LINES) {
      const bodies = new Set<string | undefined>();
      for (const m of MODES) {
        const r = recordsOf(svc!.protobufSink, m.host).find((x) => str(x.body)?.trim() === line.msg.trim());
        bodies.add(r === undefined ? `<missing in ${m.host}>` : str(r.body));
      }
      expect([...bodies].map((b) => JSON.stringify(b)), line.kind).toEqual([JSON.stringify(line.msg)]);
    }
  });

  it('/metrics agrees: received per listener, exported per output, no drops or failures', async () => {
    const s = svc!;
    expect(await s.metric('iptables_otel_received_total')).toBe(TOTAL);
    for (const l of s.service.listeners()) {
      const expected = N * MODES.filter((m) => m.listener === l.type).length;
      expect(await s.metric('iptables_otel_received_total', { input: l.name }), l.name).toBe(expected);
    }
    expect(await s.metric('iptables_otel_exported_total', { output: 'otlp-protobuf' })).toBe(TOTAL);
    expect(await s.metric('iptables_otel_exported_total', { output: 'otlp-json' })).toBe(TOTAL);
    expect(await s.metric('iptables_otel_parsed_total', { outcome: 'ok' })).toBe(TOTAL);
    expect(await s.metric('iptables_otel_parse_failures_total')).toBe(0);
    expect(await s.metric('iptables_otel_dropped_total')).toBe(0);
    expect(await s.metric('iptables_otel_framing_errors_total')).toBe(0);
    expect(await s.metric('iptables_otel_export_failures_total')).toBe(0);
    expect(s.protobufSink.requests.every((q) => q.status === 200)).toBe(true);
    expect(s.jsonSink.requests.every((q) => q.status === 200)).toBe(true);
  });
});
