/**
 * The fast path (our encoders through the export delegate) and the SDK path
 * (LoggerProvider + BackpressureLogRecordProcessor + SDK exporter) must put the same
 * OTLP on the wire: same resource, scope, timestamps, severity, body and every
 * attribute with its type, in JSON and in protobuf, gzip or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpHttpOutput } from '../../../src/output/otlp-http.js';
import { SdkOtlpOutput } from '../../../src/output/otlp-sdk.js';
import type { OtlpOutputConfig } from '../../../src/output/otlp-settings.js';
import { startOtlpSink, type NormRecord, type OtlpSink } from '../../helpers/otlp-sink.js';
import { sampleRecords } from './sample-records.js';

let sink: OtlpSink;
beforeAll(async () => {
  sink = await startOtlpSink();
});
afterAll(async () => {
  await sink.stop();
});

function config(protocol: 'json' | 'protobuf', mode: 'fast' | 'sdk', compression: 'gzip' | 'none'): OtlpOutputConfig {
  return {
    type: 'otlp',
    url: sink.url,
    headers: {},
    compression,
    timeoutMs: 5000,
    protocol,
    mode,
    resource: { 'service.name': 'iptables-otel-test', 'deployment.environment.name': 'test', 'x.count': 2 },
  };
}

async function capture(send: () => Promise<void>): Promise<NormRecord[]> {
  const before = sink.records.length;
  await send();
  return sink.records.slice(before);
}

describe.each([
  ['protobuf', 'none'],
  ['protobuf', 'gzip'],
  ['json', 'none'],
  ['json', 'gzip'],
] as const)('fast path == SDK path (%s, compression %s)', (protocol, compression) => {
  it('sends the same decoded records', async () => {
    const records = sampleRecords(0, 25);
    const fast = new OtlpHttpOutput(config(protocol, 'fast', compression));
    const sdk = new SdkOtlpOutput(config(protocol, 'sdk', compression));
    const reqsBefore = sink.requests.length;
    const a = await capture(() => fast.export(records));
    const b = await capture(() => sdk.export(records));
    await fast.shutdown();
    await sdk.shutdown();
    expect(a).toHaveLength(25);
    expect(b).toEqual(a);
    const reqs = sink.requests.slice(reqsBefore);
    const ct = protocol === 'json' ? 'application/json' : 'application/x-protobuf';
    expect(reqs.every((r) => r.contentType === ct && r.status === 200)).toBe(true);
    expect(reqs.every((r) => r.contentEncoding === (compression === 'gzip' ? 'gzip' : ''))).toBe(true);
    // Spot-check the content, not just the equality.
    const first = a[0] as NormRecord;
    expect(first.resource['service.name']).toEqual({ string: 'iptables-otel-test' });
    expect(first.resource['service.version']?.hasOwnProperty('string')).toBe(true);
    expect(first.resource['host.name']?.hasOwnProperty('string')).toBe(true);
    expect(first.resource['x.count']).toEqual({ int: '2' });
    expect(first.scope.name).toBe('iptables-otel');
    expect(first.attributes['sample.ratio']).toEqual({ double: 1234.56789 });
    expect(first.attributes['source.port']).toEqual({ int: '40000' });
    expect(first.attributes['iptables.tcp.flags']).toEqual({ array: [{ string: 'SYN' }] });
    expect(first.timeUnixNano).toBe('1732599999987654321');
    expect(first.observedTimeUnixNano).toBe('1732600000123456789');
  });
});
