/**
 * util-linux `logger` in every framing and header mode -> the service (child process) ->
 * a local OTLP/HTTP sink: every message arrives once, with the right attributes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpSink, type NormRecord, type NormValue, type OtlpSink } from '../../helpers/otlp-sink.js';
import { hasLogger, sendWithLogger } from '../../helpers/peers.js';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from './service-process.js';

const loggerReq = requirement(hasLogger(), 'util-linux logger is not installed');

function str(v: NormValue | undefined): string | undefined {
  return v && 'string' in v ? v.string : undefined;
}
function int(v: NormValue | undefined): number | undefined {
  return v && 'int' in v ? Number(v.int) : undefined;
}

const PER_MODE = 40;
const MODES: Array<{ name: string; transport: 'udp' | 'tcp'; args: string[]; appname: string; severity: string }> = [
  { name: 'udp-5424', transport: 'udp', args: ['--udp'], appname: 'fwtest', severity: 'warning' },
  { name: 'udp-3164', transport: 'udp', args: ['--udp', '--rfc3164'], appname: 'fwtest', severity: 'warning' },
  { name: 'tcp-lf', transport: 'tcp', args: ['--tcp'], appname: 'fwtest', severity: 'warning' },
  { name: 'tcp-octet', transport: 'tcp', args: ['--tcp', '--octet-count'], appname: 'fwtest', severity: 'warning' },
  { name: 'tcp-3164-octet', transport: 'tcp', args: ['--tcp', '--rfc3164', '--octet-count'], appname: 'fwtest', severity: 'warning' },
  { name: 'tcp-5424-sd', transport: 'tcp', args: ['--tcp', '--rfc5424', '--sd-id', 'fw@32473', '--sd-param', 'chain="INPUT"', '--msgid', 'DROP'], appname: 'fwtest', severity: 'warning' },
];

function line(id: number): string {
  return `iptables-dropped: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=192.0.2.1 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${id} DF PROTO=TCP SPT=${40000 + (id % 20000)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 `;
}

// Both pipelines: everything on the main thread (0), and worker threads (auto).
describe.skipIf(!shouldRun(loggerReq)).each(['0', 'auto'])('logger -> service -> OTLP (threads %s)', (threads) => {
  let sink: OtlpSink;
  let svc: ServiceProcess;

  beforeAll(async () => {
    assertRequirement(loggerReq);
    ensureBuilt();
    sink = await startOtlpSink();
    svc = await startServiceProcess(
      [
        'inputs:',
        '  - udp: {host: 127.0.0.1, port: 0}',
        '  - tcp: {host: 127.0.0.1, port: 0}',
        'outputs:',
        `  - otlp: {endpoint: "http://127.0.0.1:${sink.port}", resourceAttributes: {host.name: fw-test}}`,
        'pipeline: {batch: {linger: 5ms}}',
        'ops: {address: "127.0.0.1:0"}',
      ].join('\n'),
      ['--threads', threads],
    );
  }, 300_000);

  afterAll(async () => {
    svc?.kill('SIGKILL');
    await sink?.stop();
  });

  it('delivers every message of every mode exactly once with the right attributes', async () => {
    for (const [k, mode] of MODES.entries()) {
      const ids = Array.from({ length: PER_MODE }, (_, i) => (k + 1) * 1000 + i);
      const port = svc.port(mode.transport);
      if (mode.transport === 'udp') {
        // One logger call per datagram batch; loopback UDP with a 4 MiB buffer does not drop 40 datagrams.
        await sendWithLogger([...mode.args, '-n', '127.0.0.1', '-P', String(port), '-t', mode.appname, '-p', 'user.warning'], ids.map(line));
      } else {
        await sendWithLogger([...mode.args, '-n', '127.0.0.1', '-P', String(port), '-t', mode.appname, '-p', 'user.warning'], ids.map(line));
      }
    }
    const total = PER_MODE * MODES.length;
    await sink.waitForRecords(total, 20_000);
    await new Promise((r) => setTimeout(r, 300)); // anything extra (a duplicate) would show up now
    expect(sink.records).toHaveLength(total);

    const byId = new Map<number, NormRecord[]>();
    for (const r of sink.records) {
      const id = int(r.attributes['iptables.id'])!;
      byId.set(id, [...(byId.get(id) ?? []), r]);
    }
    for (const [k, mode] of MODES.entries()) {
      for (let i = 0; i < PER_MODE; i++) {
        const id = (k + 1) * 1000 + i;
        const got = byId.get(id) ?? [];
        expect(got, `${mode.name} id ${id}`).toHaveLength(1);
        const r = got[0]!;
        expect(str(r.attributes['source.address'])).toBe('192.0.2.1');
        expect(str(r.attributes['destination.address'])).toBe('198.51.100.7');
        expect(int(r.attributes['destination.port'])).toBe(22);
        expect(int(r.attributes['source.port'])).toBe(40000 + (id % 20000));
        expect(str(r.attributes['network.transport'])).toBe('tcp');
        expect(str(r.attributes['iptables.input_device'])).toBe('eth0');
        expect(str(r.attributes['log.syslog.transport'])).toBe(mode.transport);
        expect(str(r.attributes['log.syslog.appname'])).toBe(mode.appname);
        expect(str(r.attributes['network.peer.address'])).toBe('127.0.0.1');
        expect(r.attributes['error.type']).toBeUndefined();
        expect(r.severityNumber).toBe(13); // syslog warning -> WARN
        expect(str(r.body)).toBe(line(id));
        expect(str(r.resource['host.name'])).toBe('fw-test');
        expect(str(r.resource['service.name'])).toBe('iptables-otel');
        if (mode.name === 'tcp-5424-sd') expect(str(r.attributes['log.syslog.msgid'])).toBe('DROP');
      }
    }
    expect(await svc.metric('iptables_otel_exported_total', { output: 'otlp' })).toBeGreaterThanOrEqual(total);
    expect(await svc.metric('iptables_otel_received_total')).toBe(total);
    expect(await svc.metric('iptables_otel_parse_failures_total')).toBe(0);
  }, 60_000);
});
