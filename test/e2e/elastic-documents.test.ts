/**
 * The documents Elasticsearch would store: iptables-otel -> OTLP -> the reference
 * Collector running the production configs from collector-config/ (otel and ecs
 * mapping modes, self-managed variant, and the gateway config) -> `elasticsearch` exporter -> a local `_bulk`
 * capture. Asserts the data stream, the dataset, and where the source IP, destination
 * port, log prefix and original message land in each mode — and that every attribute
 * the parser produced reaches the document with its JSON type.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/mapping/parse-frame.js';
import { collectorRequirement, freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { getField, startEsBulkCapture, type CapturedDocument, type EsBulkCapture } from '../helpers/es-bulk-capture.js';
import { assertRequirement, requirement, shouldRun } from '../helpers/requirements.js';
import { productionEnv, testableProductionConfig } from './collector-pipelines.js';
import { rfc3164Stamp } from './otlp-json.js';
import { cliRequirement, sampleFrames, sendTcpLines, startService, type RunningService } from './service-process.js';

const collectorReq = collectorRequirement();
const cliReq = cliRequirement();
const req = requirement(collectorReq.ok && cliReq.ok, [collectorReq.reason, cliReq.reason].filter(Boolean).join('; '));

const modes = [
  {
    mode: 'otel',
    file: 'elastic-self-managed-otel.yaml',
    index: 'logs-iptables.log.otel-default',
    dataset: 'iptables.log.otel',
    // otel mode: record attributes under `attributes`, body under `body.text`.
    attr: (name: string) => `attributes.${name}`,
    message: 'body.text',
  },
  {
    // The gateway config: same document shape as otel mode, different queue and receiver settings.
    mode: 'otel',
    file: 'gateway.yaml',
    index: 'logs-iptables.log.otel-default',
    dataset: 'iptables.log.otel',
    attr: (name: string) => `attributes.${name}`,
    message: 'body.text',
  },
  {
    mode: 'ecs',
    file: 'elastic-self-managed-ecs.yaml',
    index: 'logs-iptables.log-default',
    dataset: 'iptables.log',
    // ecs mode: attributes at the top level, body as `message`.
    attr: (name: string) => name,
    message: 'message',
  },
] as const;

describe.skipIf(!shouldRun(req))('Elastic documents via the Collector elasticsearch exporter', () => {
  beforeAll(() => assertRequirement(req));

  describe.each(modes)('mapping.mode $mode ($file)', (m) => {
    let capture: EsBulkCapture | undefined;
    let collector: RunningCollector | undefined;
    let service: RunningService | undefined;
    let storage = '';
    const sentAt = new Date();
    const samples = sampleFrames(rfc3164Stamp(sentAt));
    let docs: CapturedDocument[] = [];

    beforeAll(async () => {
      capture = await startEsBulkCapture();
      storage = mkdtempSync(path.join(os.tmpdir(), 'otelcol-storage-'));
      const otlpPort = await freePort();
      collector = await startCollector(
        testableProductionConfig({ file: m.file, receiverPort: otlpPort, elasticsearchUrl: capture.url }),
        { env: productionEnv(storage, capture.url) },
      );
      service = await startService({
        port: await freePort(),
        args: ['--output', 'otlp'],
        configYaml: 'pipeline:\n  batch:\n    linger: 50ms\n',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}` },
      });
      await sendTcpLines(service.port, samples.map((s) => s.frame));
      docs = await capture.waitForDocuments(samples.length, 30_000).catch((e: Error) => {
        throw new Error(`${e.message}\nservice:\n${service?.logs() ?? ''}\ncollector:\n${collector?.logs() ?? ''}`);
      });
    });

    afterAll(async () => {
      await service?.stop();
      await collector?.stop();
      await capture?.close();
      if (storage) rmSync(storage, { recursive: true, force: true });
    });

    it(`lands in the data stream ${m.index} with dataset ${m.dataset}`, () => {
      expect(docs).toHaveLength(samples.length);
      for (const d of docs) {
        expect(d.action).toBe('create');
        expect(d.index).toBe(m.index);
        expect(getField(d.source, 'data_stream.type')).toBe('logs');
        expect(getField(d.source, 'data_stream.dataset')).toBe(m.dataset);
        expect(getField(d.source, 'data_stream.namespace')).toBe('default');
        // event.dataset is the integration's name in both modes (ES maps the otel one via passthrough).
        expect(getField(d.source, m.attr('event.dataset'))).toBe('iptables.log');
      }
    });

    it('source IP, destination port, log prefix and the original message', () => {
      for (const { dpt, frame } of samples) {
        const d = docs.find((x) => getField(x.source, m.attr('destination.port')) === dpt);
        expect(d, `document with destination.port ${dpt}`).toBeDefined();
        const want = parseFrame(frame, { peerAddress: '127.0.0.1', transport: 'tcp' });
        expect(getField(d!.source, m.attr('source.address'))).toBe(want.attributes['source.address']);
        expect(getField(d!.source, m.attr('destination.port'))).toBe(dpt);
        expect(typeof getField(d!.source, m.attr('source.port'))).toBe('number');
        expect(getField(d!.source, m.attr('iptables.log_prefix'))).toBe(want.attributes['iptables.log_prefix']);
        expect(getField(d!.source, m.message)).toBe(want.body);
        expect(want.body).toContain(`DPT=${dpt} `);
        if (m.mode === 'ecs') {
          // Added by transform/ecs_iptables for Elastic's dashboards.
          expect(getField(d!.source, 'source.ip')).toBe(want.attributes['source.address']);
          expect(getField(d!.source, 'destination.ip')).toBe(want.attributes['destination.address']);
          expect(getField(d!.source, 'log.level')).toBe('warning');
          expect(Date.parse(String(getField(d!.source, '@timestamp')))).toBe(Math.floor(sentAt.getTime() / 1000) * 1000);
        } else {
          expect(getField(d!.source, 'severity_text')).toBe('warning');
          expect(getField(d!.source, 'severity_number')).toBe(13);
          expect(getField(d!.source, 'resource.attributes.service.name')).toBe('iptables-otel');
          expect(getField(d!.source, 'scope.name')).toBe('iptables-otel');
          // otel mode writes @timestamp as epoch milliseconds.
          expect(Number(getField(d!.source, '@timestamp'))).toBe(Math.floor(sentAt.getTime() / 1000) * 1000);
        }
      }
      const first = docs.find((x) => getField(x.source, m.attr('destination.port')) === 40001)!;
      expect(getField(first.source, m.attr('iptables.log_prefix'))).toMatch(/^iptables-dropped:/);
      expect(getField(first.source, m.attr('source.address'))).toBe('192.0.2.2');
    });

    it('every attribute reaches the document with its JSON type', () => {
      for (const { dpt, frame } of samples) {
        const d = docs.find((x) => getField(x.source, m.attr('destination.port')) === dpt)!;
        const want = parseFrame(frame, { peerAddress: '127.0.0.1', transport: 'tcp' });
        for (const [name, value] of Object.entries(want.attributes)) {
          if (name === 'network.peer.port') continue; // the test's ephemeral port
          // The exporter moves data_stream.* to the document root in both modes.
          const field = name.startsWith('data_stream.') ? name : m.attr(name);
          const got = getField(d.source, field);
          if (name === 'data_stream.dataset') expect(got, name).toBe(m.dataset);
          else expect(got, `${field} (frame DPT=${dpt})`).toEqual(value);
        }
      }
    });
  });
});
