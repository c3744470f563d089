/**
 * The shipped forwarder examples work: rsyslog (TCP, and TLS with octet counting) and
 * syslog-ng, each loaded from examples/ with only the address changed, relay kernel-facility
 * "iptables-dropped: " lines to the service (child process), which exports them over OTLP.
 * Lines without the prefix are not forwarded.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOtlpSink, type OtlpSink } from '../../helpers/otlp-sink.js';
import { hasRsyslog, hasSyslogNg, startRsyslog, startSyslogNg, type Daemon } from '../../helpers/peers.js';
import { freePort } from '../../helpers/collector.js';
import { makeTlsCerts, type TlsCerts } from '../../helpers/tls-certs.js';
import { repoRoot } from '../../helpers/paths.js';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { udpPortBound } from '../../helpers/sockets.js';
import { holdsFor, waitFor } from '../../helpers/wait.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from './service-process.js';

const examples = path.join(repoRoot, 'examples');
const rsyslogReq = requirement(hasRsyslog(), 'rsyslogd is not installed');
const sngReq = requirement(hasSyslogNg(), 'syslog-ng is not unpacked in /opt/syslog-ng');
const opensslReq = requirement(hasCommand('openssl'), 'openssl is not installed');

const kernelLine = (id: number, prefix = 'iptables-dropped: '): string =>
  `<4>Nov 26 14:20:01 fw1 kernel: ${prefix}IN=eth0 OUT= SRC=192.0.2.44 DST=198.51.100.7 LEN=60 TTL=64 ID=${id} DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 `;

async function sendUdp(port: number, lines: string[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  for (const l of lines) await new Promise<void>((r) => s.send(l, port, '127.0.0.1', () => r()));
  s.close();
}

describe('forwarder examples -> service -> OTLP', () => {
  let sink: OtlpSink | undefined;
  let svc: ServiceProcess | undefined;
  let daemon: Daemon | undefined;
  let certs: TlsCerts | undefined;

  beforeAll(() => ensureBuilt(), 300_000);
  afterEach(async () => {
    await daemon?.stop();
    svc?.kill('SIGKILL');
    await sink?.stop();
    certs?.cleanup();
    daemon = svc = sink = certs = undefined;
  });

  async function startAll(inputs: string[]): Promise<void> {
    sink = await startOtlpSink();
    svc = await startServiceProcess(
      ['inputs:', ...inputs, 'outputs:', `  - otlp: {endpoint: "http://127.0.0.1:${sink.port}"}`, 'pipeline: {batch: {linger: 5ms}}', 'ops: {address: off}'].join('\n'),
    );
  }

  const idOf = (r: OtlpSink['records'][number]): number => Number((r.attributes['iptables.id'] as { int: string }).int);

  async function expectForwarded(udpPort: number): Promise<void> {
    // The daemon reads its UDP input once it is bound: before that, datagrams would be refused.
    await waitFor(() => udpPortBound(udpPort), { what: `the daemon's UDP input on port ${udpPort}`, timeoutMs: 15_000 });
    await sendUdp(udpPort, [kernelLine(1), kernelLine(2, 'something-else: '), kernelLine(3)]);
    // Lines 1 and 3 in; consecutive reads of one connection may be exported by different worker
    // threads, so line 2 is given a settle period of its own before "not forwarded" is concluded.
    await waitFor(() => [1, 3].every((id) => sink!.records.some((r) => idOf(r) === id)), { what: 'lines 1 and 3 at the sink', timeoutMs: 20_000 });
    await holdsFor(() => !sink!.records.some((r) => idOf(r) === 2), { forMs: 1000, what: 'line 2 filtered out' });
    const ids = sink!.records.map(idOf).sort();
    expect(ids).toEqual([1, 3]);
    for (const r of sink!.records) {
      expect(r.attributes['source.address']).toEqual({ string: '192.0.2.44' });
      expect(r.attributes['iptables.log_prefix']).toEqual({ string: 'iptables-dropped:' });
      expect(r.attributes['error.type']).toBeUndefined();
    }
  }

  it.skipIf(!shouldRun(rsyslogReq))('rsyslog: examples/rsyslog/30-iptables-otel.conf (TCP)', async () => {
    assertRequirement(rsyslogReq);
    await startAll(['  - tcp: {host: 127.0.0.1, port: 0}']);
    const udpIn = await freePort();
    const rule = readFileSync(path.join(examples, 'rsyslog', '30-iptables-otel.conf'), 'utf8').replace('port="9001"', `port="${svc!.port('tcp')}"`);
    daemon = await startRsyslog([`module(load="imudp")`, `input(type="imudp" address="127.0.0.1" port="${udpIn}")`, rule].join('\n'));
    await expectForwarded(udpIn);
    expect(sink!.records[0]!.attributes['log.syslog.transport']).toEqual({ string: 'tcp' });
  }, 60_000);

  it.skipIf(!shouldRun(rsyslogReq) || !shouldRun(opensslReq))('rsyslog: examples/rsyslog/31-iptables-otel-tls.conf (TLS, octet counting)', async () => {
    assertRequirement(rsyslogReq);
    assertRequirement(opensslReq);
    certs = makeTlsCerts();
    await startAll([`  - tls: {host: 127.0.0.1, port: 0, tls: {cert: "${certs.certFile}", key: "${certs.keyFile}"}}`]);
    const udpIn = await freePort();
    const rule = readFileSync(path.join(examples, 'rsyslog', '31-iptables-otel-tls.conf'), 'utf8')
      .replaceAll('fw-collector.example.net', 'localhost')
      .replace('port="6514"', `port="${svc!.port('tls')}"`)
      .replace('/etc/rsyslog.d/iptables-otel-ca.pem', certs.caFile);
    daemon = await startRsyslog([`module(load="imudp")`, `input(type="imudp" address="127.0.0.1" port="${udpIn}")`, rule].join('\n'));
    await expectForwarded(udpIn);
    expect(sink!.records[0]!.attributes['log.syslog.transport']).toEqual({ string: 'tls' });
  }, 60_000);

  it.skipIf(!shouldRun(sngReq))('syslog-ng: examples/syslog-ng/iptables-otel.conf (TCP)', async () => {
    assertRequirement(sngReq);
    await startAll(['  - tcp: {host: 127.0.0.1, port: 0}']);
    const udpIn = await freePort();
    const rule = readFileSync(path.join(examples, 'syslog-ng', 'iptables-otel.conf'), 'utf8')
      .replace('network("127.0.0.1" port(9001)', `network("127.0.0.1" port(${svc!.port('tcp')})`)
      // The disk buffer goes to a private directory instead of syslog-ng's default state dir.
      .replace('reliable(no))', `reliable(no) dir("${mkdtempSync(path.join(tmpdir(), 'iptables-otel-sng-buf-'))}"))`);
    expect(rule).toContain('dir("');
    daemon = await startSyslogNg(
      [
        `source s_src { network(ip("127.0.0.1") port(${udpIn}) transport("udp")); };`,
        rule,
        // startSyslogNg waits for its own unix source, which syslog-ng opens only when a log path uses it.
        'log { source(s_in); filter(f_iptables_otel); destination(d_iptables_otel); };',
      ].join('\n'),
    );
    await expectForwarded(udpIn);
  }, 60_000);
});
