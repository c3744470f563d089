/**
 * iptables-otel -> OTLP/HTTP -> the reference Collector's `otlp` receiver -> `file`
 * exporter (OTLP/JSON). Every record must arrive with every attribute, each with the
 * OTLP value type the attribute table promises (ints stay ints, arrays stay arrays),
 * plus resource, scope, timestamps, severity and body — over JSON and protobuf, in
 * the fast serializer and the SDK mode.
 *
 * A pass-through proxy between the service and the Collector records the request
 * Content-Type, so the test also proves which encoding was on the wire.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTE_BY_NAME, type AttributeType } from '../../src/mapping/attribute-table.js';
import { parseFrame } from '../../src/mapping/parse-frame.js';
import type { FirewallLogRecord } from '../../src/mapping/record.js';
import { packageInfo } from '../../src/output/package-info.js';
import { collectorRequirement, freePort, readFileExporterOutput, startCollector, type RunningCollector } from '../helpers/collector.js';
import { assertRequirement, requirement, shouldRun } from '../helpers/requirements.js';
import { cliRequirement, sampleFrames, startService, waitFor, type RunningService } from './service-process.js';
import { flattenLogRecords, otlpAttributes, rfc3164Stamp, sendTcpLinesFrom, type OtlpJsonValue } from './otlp-json.js';

const collectorReq = collectorRequirement();
const cliReq = cliRequirement();
const req = requirement(collectorReq.ok && cliReq.ok, [collectorReq.reason, cliReq.reason].filter(Boolean).join('; '));

/** The OTLP/JSON value key each attribute-table type must arrive as. */
function expectedKind(t: AttributeType): string {
  switch (t) {
    case 'int':
      return 'intValue';
    case 'double':
      return 'doubleValue';
    case 'bool':
      return 'boolValue';
    case 'string':
      return 'stringValue';
    case 'string[]':
    case 'int[]':
      return 'arrayValue';
  }
}

/** Compare one OTLP/JSON value with the value our parser produced, by the table type. */
function assertValue(name: string, got: OtlpJsonValue, want: unknown): void {
  const spec = ATTRIBUTE_BY_NAME.get(name);
  expect(spec, `attribute ${name} is not in the attribute table`).toBeDefined();
  const kind = expectedKind(spec!.type);
  expect(Object.keys(got), `${name} arrives as ${kind}`).toEqual([kind]);
  switch (spec!.type) {
    case 'int':
      // OTLP/JSON carries int64 as a decimal string.
      expect(String(got.intValue), name).toBe(String(want));
      break;
    case 'double':
      expect(Number(got.doubleValue), name).toBe(want);
      break;
    case 'bool':
      expect(got.boolValue, name).toBe(want);
      break;
    case 'string':
      expect(got.stringValue, name).toBe(want);
      break;
    case 'string[]': {
      const values = got.arrayValue?.values ?? [];
      for (const v of values) expect(Object.keys(v), `${name}[] elements are strings`).toEqual(['stringValue']);
      expect(values.map((v) => v.stringValue), name).toEqual(want);
      break;
    }
    case 'int[]': {
      const values = got.arrayValue?.values ?? [];
      for (const v of values) expect(Object.keys(v), `${name}[] elements are ints`).toEqual(['intValue']);
      expect(values.map((v) => Number(v.intValue)), name).toEqual(want);
      break;
    }
  }
}

function hrToNanos(hr: [number, number]): string {
  return (BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])).toString();
}

const variants = [
  { protocol: 'http/json', mode: 'fast', contentType: 'application/json' },
  { protocol: 'http/protobuf', mode: 'fast', contentType: 'application/x-protobuf' },
  { protocol: 'http/json', mode: 'sdk', contentType: 'application/json' },
  { protocol: 'http/protobuf', mode: 'sdk', contentType: 'application/x-protobuf' },
] as const;

describe.skipIf(!shouldRun(req))('OTLP/HTTP to the reference Collector', () => {
  beforeAll(() => assertRequirement(req));

  describe.each(variants)('$protocol, $mode serializer', ({ protocol, mode, contentType }) => {
    let collector: RunningCollector | undefined;
    let service: RunningService | undefined;
    let proxy: http.Server | undefined;
    const contentTypes: string[] = [];
    let outFile = '';
    const sentAt = new Date();
    const stamp = rfc3164Stamp(sentAt);
    const samples = sampleFrames(stamp);
    let peerPort = 0;

    beforeAll(async () => {
      const otlpPort = await freePort();
      collector = await startCollector({
        receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlpPort}` } } } },
        exporters: { file: { path: '${DIR}/logs.json', flush_interval: '100ms' } },
        service: { pipelines: { logs: { receivers: ['otlp'], exporters: ['file'] } } },
      });
      outFile = path.join(collector.dir, 'logs.json');

      // Pass-through proxy that notes the Content-Type of every request.
      proxy = http.createServer((req, res) => {
        contentTypes.push(String(req.headers['content-type'] ?? ''));
        const up = http.request(
          { host: '127.0.0.1', port: otlpPort, method: req.method, path: req.url, headers: req.headers },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        req.pipe(up);
      });
      await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', () => r()));
      const proxyPort = (proxy.address() as AddressInfo).port;

      service = await startService({
        port: await freePort(),
        args: ['--output', 'otlp'],
        configYaml: `pipeline:\n  batch:\n    linger: 50ms\noutputs:\n  - otlp:\n      mode: ${mode}\n`,
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${proxyPort}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        },
      });
      peerPort = await sendTcpLinesFrom(service.port, samples.map((s) => s.frame));
    });

    afterAll(async () => {
      await service?.stop();
      await collector?.stop();
      await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
    });

    it('every record arrives, on the expected encoding', async () => {
      const records = await waitFor('records in the file exporter output', 30_000, () => {
        const got = flattenLogRecords(readFileExporterOutput(outFile));
        return got.length >= samples.length ? got : undefined;
      }).catch((e: Error) => {
        throw new Error(`${e.message}\nservice:\n${service?.logs() ?? ''}\ncollector:\n${collector?.logs() ?? ''}`);
      });
      expect(records).toHaveLength(samples.length);
      expect(contentTypes.length).toBeGreaterThan(0);
      for (const ct of contentTypes) expect(ct.split(';')[0]).toBe(contentType);
    });

    it('attributes, types, body, severity, timestamps, resource and scope are intact', () => {
      const records = flattenLogRecords(readFileExporterOutput(outFile));
      const ctx = { peerAddress: '127.0.0.1', peerPort, transport: 'tcp' as const };
      for (const { dpt, frame } of samples) {
        const got = records.find((r) => otlpAttributes(r.record)['destination.port']?.intValue === String(dpt));
        expect(got, `record with destination.port ${dpt}`).toBeDefined();
        const want: FirewallLogRecord = parseFrame(frame, ctx);
        const attrs = otlpAttributes(got!.record);

        // The same attribute set, in full: nothing lost, nothing added on the way.
        expect(Object.keys(attrs).sort()).toEqual(Object.keys(want.attributes).sort());
        for (const [name, value] of Object.entries(want.attributes)) assertValue(name, attrs[name]!, value);

        // Spot checks that do not depend on the parser agreeing with itself.
        expect(attrs['source.port']).toHaveProperty('intValue');
        expect(attrs['destination.port']!.intValue).toBe(String(dpt));
        expect(attrs['network.peer.address']!.stringValue).toBe('127.0.0.1');
        expect(attrs['network.peer.port']!.intValue).toBe(String(peerPort));
        expect(attrs['iptables.tcp.flags'] ?? attrs['iptables.udp.length']).toBeDefined();
        expect(attrs['data_stream.dataset']!.stringValue).toBe('iptables.log');

        expect(got!.record.body).toEqual({ stringValue: want.body });
        expect(got!.record.severityNumber).toBe(13);
        expect(got!.record.severityText).toBe('warning');
        expect(want.timestamp).toBeDefined();
        expect(got!.record.timeUnixNano).toBe(hrToNanos(want.timestamp!));
        expect(got!.record.timeUnixNano).toBe((BigInt(Math.floor(sentAt.getTime() / 1000)) * 1_000_000_000n).toString());
        const observed = BigInt(got!.record.observedTimeUnixNano ?? '0');
        expect(observed).toBeGreaterThanOrEqual(BigInt(sentAt.getTime() - 1000) * 1_000_000n);
        expect(observed).toBeLessThanOrEqual(BigInt(Date.now()) * 1_000_000n);

        const resource = otlpAttributes(got!.resource);
        expect(resource['service.name']).toEqual({ stringValue: 'iptables-otel' });
        expect(resource['service.version']).toEqual({ stringValue: packageInfo().version });
        expect(resource['host.name']?.stringValue).toBeTruthy();
        expect(got!.scope.name).toBe('iptables-otel');
        expect(got!.scope.version).toBe(packageInfo().version);
      }
    });
  });
});
