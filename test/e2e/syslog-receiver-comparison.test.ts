/**
 * Peer check: the same RFC 3164 iptables lines, over TCP, into the Collector's own
 * `syslog` receiver — plain, and with stanza operators (regex_parser to split off the
 * log prefix, key_value_parser on the rest) — next to what parseFrame gives. The
 * assertions pin the peer's behaviour that docs/comparison.md describes, so a
 * Collector upgrade that changes it fails here and the doc gets revisited.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/mapping/parse-frame.js';
import { collectorRequirement, freePort, readFileExporterOutput, startCollector, type RunningCollector } from '../helpers/collector.js';
import { assertRequirement, shouldRun } from '../helpers/requirements.js';
import { flattenLogRecords, otlpAttributes, rfc3164Stamp, type FlatLogRecord, type OtlpJsonValue } from './otlp-json.js';
import { sampleFrames, sendTcpLines, waitFor } from './service-process.js';

const req = collectorRequirement();

function kvFields(v: OtlpJsonValue | undefined): Record<string, unknown> | undefined {
  if (!v?.kvlistValue) return undefined;
  const out: Record<string, unknown> = {};
  for (const kv of v.kvlistValue.values ?? []) out[kv.key] = Object.values(kv.value)[0];
  return out;
}

describe.skipIf(!shouldRun(req))('Collector syslog receiver on iptables lines (peer check)', () => {
  let collector: RunningCollector | undefined;
  let plainPort = 0;
  let kvPort = 0;
  const sentAt = new Date();
  const stamp = rfc3164Stamp(sentAt);
  const tcpFrame = sampleFrames(stamp)[0]!.frame; // TCP SYN with DF
  const udpFrame = sampleFrames(stamp)[1]!.frame; // UDP, LEN twice, no flag words
  const icmpFrame = `<4>${stamp} fw1 kernel: ipt-icmp: IN=eth0 OUT= SRC=192.0.2.2 DST=198.51.100.2 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=198.51.100.2 DST=192.0.2.2 LEN=28 TOS=0x00 PREC=0x00 TTL=63 ID=2 PROTO=UDP SPT=5000 DPT=9000 LEN=8 ] `;
  const frames = [tcpFrame, udpFrame, icmpFrame];
  let plain: FlatLogRecord[] = [];
  let kv: FlatLogRecord[] = [];

  beforeAll(async () => {
    assertRequirement(req);
    plainPort = await freePort();
    kvPort = await freePort();
    collector = await startCollector({
      receivers: {
        'syslog/plain': { tcp: { listen_address: `127.0.0.1:${plainPort}` }, protocol: 'rfc3164', location: 'UTC' },
        'syslog/kv': {
          tcp: { listen_address: `127.0.0.1:${kvPort}` },
          protocol: 'rfc3164',
          location: 'UTC',
          operators: [
            { type: 'regex_parser', parse_from: 'attributes.message', regex: '^(?P<log_prefix>.*?)(?P<kv>IN=.*)$', on_error: 'send' },
            {
              type: 'key_value_parser',
              parse_from: 'attributes.kv',
              parse_to: 'attributes.fields',
              delimiter: '=',
              pair_delimiter: ' ',
              on_error: 'send',
            },
          ],
        },
      },
      exporters: {
        'file/plain': { path: '${DIR}/plain.json', flush_interval: '100ms' },
        'file/kv': { path: '${DIR}/kv.json', flush_interval: '100ms' },
      },
      service: {
        pipelines: {
          'logs/plain': { receivers: ['syslog/plain'], exporters: ['file/plain'] },
          'logs/kv': { receivers: ['syslog/kv'], exporters: ['file/kv'] },
        },
      },
    });
    await sendTcpLines(plainPort, frames);
    await sendTcpLines(kvPort, frames);
    const dir = collector.dir;
    plain = await waitFor('syslog/plain records', 20_000, () => {
      const r = flattenLogRecords(readFileExporterOutput(path.join(dir, 'plain.json')));
      return r.length >= frames.length ? r : undefined;
    });
    kv = await waitFor('syslog/kv records', 20_000, () => {
      const r = flattenLogRecords(readFileExporterOutput(path.join(dir, 'kv.json')));
      return r.length >= frames.length ? r : undefined;
    });
  });

  afterAll(async () => {
    await collector?.stop();
  });

  it('plain rfc3164: header fields only, body = the whole frame, no resource or scope', () => {
    for (const r of plain) {
      const a = otlpAttributes(r.record);
      expect(Object.keys(a).sort()).toEqual(['appname', 'facility', 'hostname', 'message', 'priority']);
      expect(a.hostname).toEqual({ stringValue: 'fw1' });
      expect(a.appname).toEqual({ stringValue: 'kernel' });
      expect(a.priority).toEqual({ intValue: '4' });
      expect(r.record.body?.stringValue).toMatch(/^<4>/);
      // The tcp input trims the kernel's trailing space from the message.
      expect(a.message!.stringValue!.endsWith(' ')).toBe(false);
      expect(r.record.severityNumber).toBe(13);
      expect(r.record.severityText).toBe('warning');
      expect(r.resource.attributes ?? []).toEqual([]);
      expect(r.scope.name ?? '').toBe('');
    }
  });

  it('key_value_parser: fails on flag words (DF, SYN) and on ICMP quoted packets; strings only; duplicate LEN collapses', () => {
    const byDpt = (dpt: string): FlatLogRecord | undefined =>
      kv.find((r) => String(otlpAttributes(r.record).message?.stringValue).includes(`DPT=${dpt} `));
    const tcp = byDpt('40001')!;
    expect(otlpAttributes(tcp.record).fields).toBeUndefined();
    expect(otlpAttributes(tcp.record).log_prefix).toEqual({ stringValue: 'iptables-dropped: ' });
    const udp = kvFields(otlpAttributes(byDpt('40002')!.record).fields)!;
    expect(udp).toMatchObject({ SRC: '198.51.100.7', DPT: '40002', SPT: '53', PROTO: 'UDP', TTL: '241' });
    expect(udp.LEN).toBe('20'); // the IP length (40) is lost to the UDP length
    const icmp = kv.find((r) => String(otlpAttributes(r.record).message?.stringValue).includes('ipt-icmp'))!;
    expect(otlpAttributes(icmp.record).fields).toBeUndefined();
  });

  it('iptables-otel on the same frames: typed fields for all three', () => {
    const ctx = { peerAddress: '127.0.0.1', transport: 'tcp' as const };
    const tcp = parseFrame(tcpFrame, ctx).attributes;
    expect(tcp['source.address']).toBe('192.0.2.2');
    expect(tcp['destination.port']).toBe(40001);
    expect(tcp['iptables.tcp.flags']).toEqual(['SYN']);
    expect(tcp['iptables.fragment_flags']).toEqual(['DF']);
    expect(String(tcp['iptables.log_prefix'])).toMatch(/^iptables-dropped:/);
    const udp = parseFrame(udpFrame, ctx).attributes;
    expect(udp['iptables.length']).toBe(40);
    expect(udp['iptables.udp.length']).toBe(20);
    const icmp = parseFrame(icmpFrame, ctx).attributes;
    expect(icmp['source.address']).toBe('192.0.2.2');
    expect(icmp['iptables.icmp.type']).toBe(3);
    expect(icmp['iptables.icmp.quoted.destination.port']).toBe(9000);
  });
});
