/**
 * `threads: 0`'s frame sink (InProcessFramePipeline): with OTLP/HTTP protobuf as the only
 * output it encodes frames straight into LogRecord bytes, and what reaches the wire is exactly
 * what the record path (parseFrame + the same output) sends; any other output set takes the
 * record path. Parse outcomes are counted either way, and new parser options apply at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameSpans } from '../../../src/framing/framer.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { ParseOutcomeCounter } from '../../../src/ops/parse-outcomes.js';
import { OtlpHttpOutput } from '../../../src/output/otlp-http.js';
import type { OtlpOutputConfig } from '../../../src/output/otlp-settings.js';
import type { Output } from '../../../src/output/output.js';
import { InProcessFramePipeline } from '../../../src/pipeline/in-process-frames.js';
import { resolvePipelineConfig } from '../../../src/pipeline/pipeline-config.js';
import { benchLines, PLAIN_CASE } from '../../helpers/parser-corpus.js';
import { startOtlpSink, type OtlpSink } from '../../helpers/otlp-sink.js';

let sink: OtlpSink;
beforeAll(async () => {
  sink = await startOtlpSink();
});
afterAll(async () => {
  await sink.stop();
});

function otlp(protocol: 'protobuf' | 'json'): OtlpHttpOutput {
  const cfg: OtlpOutputConfig = {
    type: 'otlp',
    url: sink.url,
    headers: {},
    compression: 'none',
    timeoutMs: 5000,
    protocol,
    mode: 'fast',
    resource: { 'service.name': 'iptables-otel-test' },
  };
  return new OtlpHttpOutput(cfg);
}

/** A socket read as `Framer.scan` reports it: the first frame carried over (`head`), the rest as offsets. */
function spansOf(frames: string[]): FrameSpans {
  const parts = frames.slice(1).map((f) => Buffer.from(f));
  const spans = new FrameSpans();
  spans.reset(Buffer.concat(parts));
  spans.setHead(Buffer.from(frames[0]!));
  let at = 0;
  for (const p of parts) {
    spans.push(at, at + p.length);
    at += p.length;
  }
  return spans;
}

const config = resolvePipelineConfig({ batchSize: 64, lingerMs: 5 });
// Not netfilter lines first: they go through offerFrames (spans never hold an empty frame).
const frames = ['not a firewall line', '', ...benchLines().slice(0, 150)];

/** Sends `frames` (half through offerFrames, half through offerSpans) and returns what the sink decoded. */
async function run(outputs: Output[], options = PLAIN_CASE.options): Promise<{ records: unknown[]; direct: boolean; outcomes: ParseOutcomeCounter; metrics: Metrics }> {
  const metrics = new Metrics();
  const outcomes = new ParseOutcomeCounter();
  const p = new InProcessFramePipeline(config, outputs, options, { metrics, outcomes, track: (o) => o });
  const before = sink.records.length;
  const half = frames.length >> 1;
  p.offerFrames(frames.slice(0, half).map((f) => Buffer.from(f)), PLAIN_CASE.ctx!);
  p.offerSpans(spansOf(frames.slice(half)), PLAIN_CASE.ctx!);
  await p.shutdown(5000);
  return { records: sink.records.slice(before), direct: p.directPath, outcomes, metrics };
}

describe('InProcessFramePipeline (threads: 0)', () => {
  it('encodes straight to OTLP protobuf, with the same records on the wire as the record path', async () => {
    const direct = await run([otlp('protobuf')]);
    // Two outputs: not the direct path, so parseFrame and the same encoder (per output).
    const viaRecords = await run([otlp('protobuf'), { name: 'null', export: async () => {}, shutdown: async () => {} }]);
    expect(direct.direct).toBe(true);
    expect(viaRecords.direct).toBe(false);
    expect(direct.records).toHaveLength(frames.length);
    expect(direct.records).toEqual(viaRecords.records);
  });

  it('takes the record path for JSON and counts parse outcomes on both paths', async () => {
    const json = await run([otlp('json')]);
    const proto = await run([otlp('protobuf')]);
    expect(json.direct).toBe(false);
    expect(json.records).toHaveLength(frames.length);
    for (const r of [json, proto]) {
      r.outcomes.flushTo(r.metrics);
      const text = await r.metrics.registry.metrics();
      expect(text).toMatch(/iptables_otel_parsed_total\{outcome="ok"\} 150/);
      expect(text).toMatch(/iptables_otel_parsed_total\{outcome="failed"\} 2/);
    }
  });

  it('applies new parser options to the frames offered after them', async () => {
    const metrics = new Metrics();
    const p = new InProcessFramePipeline(config, [otlp('protobuf')], PLAIN_CASE.options, { metrics, outcomes: new ParseOutcomeCounter(), track: (o) => o });
    const line = benchLines()[0]!;
    const before = sink.records.length;
    p.offerFrames([Buffer.from(line)], PLAIN_CASE.ctx!);
    p.setParser({ ...PLAIN_CASE.options, dataset: 'iptables.reloaded' });
    p.offerFrames([Buffer.from(line)], PLAIN_CASE.ctx!);
    await p.shutdown(5000);
    const got = sink.records.slice(before) as { attributes: Record<string, unknown> }[];
    expect(got.map((r) => r.attributes['event.dataset'])).toEqual([{ string: 'iptables.log' }, { string: 'iptables.reloaded' }]);
  });

  it('a frame whose encoding throws (a parser bug) is dropped, counted and logged; the others go through', async () => {
    const metrics = new Metrics();
    const errors: string[] = [];
    const logger = { error: (msg: string) => errors.push(msg) } as unknown as import('../../../src/ops/logger.js').Logger;
    const p = new InProcessFramePipeline(config, [otlp('protobuf')], PLAIN_CASE.options, { metrics, outcomes: new ParseOutcomeCounter(), track: (o) => o, logger });
    const enc = (p as unknown as { direct: { appendBytes: (...a: unknown[]) => unknown } }).direct;
    const real = enc.appendBytes.bind(enc);
    let calls = 0;
    enc.appendBytes = (...a: unknown[]) => {
      if (calls++ === 1) throw new Error('bug');
      return real(...a);
    };
    const before = sink.records.length;
    p.offerSpans(spansOf(benchLines().slice(0, 3)), PLAIN_CASE.ctx!);
    await p.shutdown(5000);
    expect(sink.records.length - before).toBe(2);
    expect(await metrics.registry.metrics()).toMatch(/iptables_otel_dropped_total\{reason="decode_error"\} 1/);
    expect(errors).toEqual(['encoder threw; frame dropped']);
  });
});
