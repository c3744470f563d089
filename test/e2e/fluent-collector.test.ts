/**
 * iptables-otel -> Fluent forward (with acks) -> the reference Collector's
 * `fluentforward` receiver -> `file` exporter (OTLP/JSON), twice: as the receiver
 * delivers it (what forward carries and what it loses), and through
 * collector-config/fluentforward.yaml's transform/from_forward (what can be rebuilt).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTE_BY_NAME } from '../../src/mapping/attribute-table.js';
import { parseFrame } from '../../src/mapping/parse-frame.js';
import { collectorRequirement, freePort, readFileExporterOutput, startCollector, type RunningCollector } from '../helpers/collector.js';
import { repoRoot } from '../helpers/paths.js';
import { assertRequirement, requirement, shouldRun } from '../helpers/requirements.js';
import { flattenLogRecords, otlpAttributes, rfc3164Stamp, type FlatLogRecord, type OtlpJsonValue } from './otlp-json.js';
import { cliRequirement, sampleFrames, sendTcpLines, startService, waitFor, type RunningService } from './service-process.js';

const collectorReq = collectorRequirement();
const cliReq = cliRequirement();
const req = requirement(collectorReq.ok && cliReq.ok, [collectorReq.reason, cliReq.reason].filter(Boolean).join('; '));

/** JS value of an OTLP/JSON AnyValue, keeping the int/double distinction visible. */
function plain(v: OtlpJsonValue): unknown {
  if ('intValue' in v) return { int: Number(v.intValue) };
  if ('doubleValue' in v) return { double: v.doubleValue };
  if ('arrayValue' in v) return (v.arrayValue?.values ?? []).map(plain);
  if ('boolValue' in v) return v.boolValue;
  return v.stringValue;
}

/** The same shape for a value from parseFrame, using the attribute table's type. */
function expected(name: string, v: unknown): unknown {
  const t = ATTRIBUTE_BY_NAME.get(name)?.type;
  if (t === 'int') return { int: v };
  if (t === 'int[]') return (v as number[]).map((n) => ({ int: n }));
  // msgpack writes a whole-valued double as an int: the one type forward can blur.
  if (t === 'double') return Number.isInteger(v) ? { int: v } : { double: v };
  return v;
}

describe.skipIf(!shouldRun(req))('Fluent forward to the reference Collector', () => {
  let collector: RunningCollector | undefined;
  let service: RunningService | undefined;
  const sentAt = new Date();
  const samples = sampleFrames(rfc3164Stamp(sentAt));
  let raw: FlatLogRecord[] = [];
  let rebuilt: FlatLogRecord[] = [];

  beforeAll(async () => {
    assertRequirement(req);
    const prod = parse(readFileSync(path.join(repoRoot, 'collector-config', 'fluentforward.yaml'), 'utf8')) as {
      processors: Record<string, unknown>;
    };
    const fwdPort = await freePort();
    collector = await startCollector({
      receivers: { fluentforward: { endpoint: `127.0.0.1:${fwdPort}` } },
      processors: { 'transform/from_forward': prod.processors['transform/from_forward'] },
      exporters: {
        'file/raw': { path: '${DIR}/raw.json', flush_interval: '100ms' },
        'file/rebuilt': { path: '${DIR}/rebuilt.json', flush_interval: '100ms' },
      },
      service: {
        pipelines: {
          'logs/raw': { receivers: ['fluentforward'], exporters: ['file/raw'] },
          'logs/rebuilt': { receivers: ['fluentforward'], processors: ['transform/from_forward'], exporters: ['file/rebuilt'] },
        },
      },
    });
    service = await startService({
      port: await freePort(),
      configYaml: [
        'pipeline:',
        '  batch:',
        '    linger: 50ms',
        'outputs:',
        '  - fluent:',
        '      host: 127.0.0.1',
        `      port: ${fwdPort}`,
        '      tag: iptables',
        '      ack: true',
        '',
      ].join('\n'),
    });
    await sendTcpLines(service.port, samples.map((s) => s.frame));
    const dir = collector.dir;
    const read = (f: string) => () => {
      const r = flattenLogRecords(readFileExporterOutput(path.join(dir, f)));
      return r.length >= samples.length ? r : undefined;
    };
    const logs = (): string => `\nservice:\n${service?.logs() ?? ''}\ncollector:\n${collector?.logs() ?? ''}`;
    raw = await waitFor('raw forward records', 30_000, read('raw.json')).catch((e: Error) => {
      throw new Error(e.message + logs());
    });
    rebuilt = await waitFor('rebuilt forward records', 30_000, read('rebuilt.json'));
  });

  afterAll(async () => {
    await service?.stop();
    await collector?.stop();
  });

  const byDpt = (records: FlatLogRecord[], dpt: number): FlatLogRecord | undefined =>
    records.find((r) => otlpAttributes(r.record)['destination.port']?.intValue === String(dpt));

  it('carries every attribute with its type, the body and the event time', () => {
    expect(raw).toHaveLength(samples.length);
    for (const { dpt, frame } of samples) {
      const got = byDpt(raw, dpt);
      expect(got, `record with destination.port ${dpt}`).toBeDefined();
      const want = parseFrame(frame, { peerAddress: '127.0.0.1', transport: 'tcp' });
      const attrs = otlpAttributes(got!.record);
      for (const [name, value] of Object.entries(want.attributes)) {
        if (name === 'network.peer.port') {
          expect(attrs[name], name).toHaveProperty('intValue');
          continue;
        }
        expect(plain(attrs[name]!), name).toEqual(expected(name, value));
      }
      expect(got!.record.body).toEqual({ stringValue: want.body });
      expect(got!.record.timeUnixNano).toBe((BigInt(Math.floor(sentAt.getTime() / 1000)) * 1_000_000_000n).toString());
    }
  });

  it('loses resource, scope, severity fields and observed time (they arrive as attributes or not at all)', () => {
    for (const r of raw) {
      const a = otlpAttributes(r.record);
      expect(r.resource.attributes ?? []).toEqual([]);
      expect(r.scope.name ?? '').toBe('');
      expect(r.record.severityNumber ?? 0).toBe(0);
      expect(r.record.severityText ?? '').toBe('');
      expect(r.record.observedTimeUnixNano ?? '0').toBe('0');
      expect(a.severity_number).toEqual({ intValue: '13' });
      expect(a.severity_text).toEqual({ stringValue: 'warning' });
      expect(a.observed_time?.stringValue).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      expect(a['fluent.tag']).toEqual({ stringValue: 'iptables' });
    }
  });

  it('collector-config/fluentforward.yaml transform rebuilds severity, observed time and service.name', () => {
    for (const { dpt } of samples) {
      const r = byDpt(rebuilt, dpt)!;
      const rawAttrs = otlpAttributes(byDpt(raw, dpt)!.record);
      const a = otlpAttributes(r.record);
      expect(r.record.severityNumber).toBe(13);
      expect(r.record.severityText).toBe('warning');
      const observedMs = Date.parse(String(rawAttrs.observed_time!.stringValue));
      expect(Number(BigInt(r.record.observedTimeUnixNano ?? '0') / 1_000_000n)).toBe(observedMs);
      for (const k of ['severity_number', 'severity_text', 'observed_time', 'fluent.tag']) expect(a[k], k).toBeUndefined();
      expect(otlpAttributes(r.resource)['service.name']).toEqual({ stringValue: 'iptables-otel' });
    }
  });
});
