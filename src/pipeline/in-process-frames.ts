/**
 * `threads: 0`'s frame sink: inputs hand raw frames over, as they do to the worker threads,
 * and this thread parses them into the bounded pipeline.
 *
 * Why not the inputs' own per-record path: with the only output OTLP/HTTP protobuf (the
 * default), frames are encoded straight into LogRecord bytes (`OtlpDirectEncoder`, as in a
 * worker), so the queue holds ~1.7 KB of bytes per record instead of a ~45-property record
 * object, and a flood stays far below the memory target. Any other output set parses into
 * records (`parseFrame`) exactly as before.
 */
import type { FrameSpans } from '../framing/framer.js';
import { parseFrame, type ParseOptions } from '../mapping/parse-frame.js';
import type { FirewallLogRecord, ReceiveContext } from '../mapping/record.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { ParseOutcomeCounter } from '../ops/parse-outcomes.js';
import { OtlpDirectEncoder, type EncodedLogRecord } from '../output/otlp-direct.js';
import { OtlpHttpOutput } from '../output/otlp-http.js';
import type { Output } from '../output/output.js';
import type { FrameSink } from './frame-sink.js';
import { Pipeline, type PipelineOutput, type PipelineShutdownResult } from './pipeline.js';
import type { PipelineConfig } from './pipeline-config.js';

/** Queue bytes charged per encoded record on top of its own (object, offsets, batch slot). */
export const ENCODED_RECORD_OVERHEAD = 64;

/**
 * The encoded-record twin of `outputs[0]` when frames can skip record objects: the only output
 * is OTLP/HTTP sending protobuf. `wrap` adds what the caller tracks (health); undefined otherwise.
 */
export function directOutput(
  outputs: readonly Output[],
  wrap: (o: PipelineOutput<EncodedLogRecord>) => PipelineOutput<EncodedLogRecord> = (o) => o,
): PipelineOutput<EncodedLogRecord> | undefined {
  const only = outputs.length === 1 ? outputs[0] : undefined;
  if (!(only instanceof OtlpHttpOutput) || !only.acceptsEncoded) return undefined;
  return wrap({ name: only.name, export: (items) => only.exportEncoded(items), shutdown: () => only.shutdown() });
}

export interface InProcessFramesDeps {
  metrics: Metrics;
  /** Where parse outcomes are counted (flushed to metrics by the owner). */
  outcomes: ParseOutcomeCounter;
  /** Adds the owner's tracking (health) around each output. */
  track: <T>(output: PipelineOutput<T>) => PipelineOutput<T>;
  logger?: Logger;
}

/** Frames -> (encoded) records -> bounded queue -> outputs, all on this thread. */
export class InProcessFramePipeline implements FrameSink {
  private readonly direct: OtlpDirectEncoder | undefined;
  private readonly encoded: Pipeline<EncodedLogRecord> | undefined;
  private readonly records: Pipeline<FirewallLogRecord> | undefined;
  private options: ParseOptions | undefined;

  /**
   * `outputs` are built and owned by the pipeline from now on (shut down with it); `options`
   * are the validated parser options.
   */
  constructor(config: PipelineConfig, outputs: Output[], options: ParseOptions | undefined, private readonly deps: InProcessFramesDeps) {
    this.options = options;
    const direct = directOutput(outputs, deps.track);
    if (direct !== undefined) {
      this.direct = new OtlpDirectEncoder(options);
      this.encoded = new Pipeline<EncodedLogRecord>(config, {
        outputs: [direct],
        metrics: deps.metrics,
        sizeOf: (r) => r.end - r.start + ENCODED_RECORD_OVERHEAD,
      });
    } else {
      this.records = new Pipeline(config, { outputs: outputs.map((o) => deps.track(o)), metrics: deps.metrics });
    }
  }

  /** True when frames are encoded straight into OTLP bytes (see the file comment). */
  get directPath(): boolean {
    return this.direct !== undefined;
  }

  /** True while the queue is below its high-water mark. */
  get writable(): boolean {
    return (this.encoded ?? this.records)!.writable;
  }

  /** Records queued, not yet exported. */
  get queuedRecords(): number {
    return (this.encoded ?? this.records)!.queuedRecords;
  }

  /** Parses and queues the frames of one read; false means pause (see `FrameSink`). */
  offerFrames(frames: Buffer[], ctx: ReceiveContext): boolean {
    const direct = this.direct;
    if (direct !== undefined) {
      for (const f of frames) this.encode(direct, f, 0, f.length, ctx);
      return this.encoded!.offer(direct.takeChunk());
    }
    const out: FirewallLogRecord[] = [];
    for (const f of frames) this.record(out, f, ctx);
    return this.records!.offer(out);
  }

  /** `offerFrames` for frames given as offsets into one chunk. */
  offerSpans(spans: FrameSpans, ctx: ReceiveContext): boolean {
    const { chunk, offsets, count } = spans;
    const direct = this.direct;
    if (direct !== undefined) {
      if (spans.head !== undefined) this.encode(direct, spans.head, 0, spans.head.length, ctx);
      for (let i = 0; i < count; i++) this.encode(direct, chunk, offsets[2 * i] as number, offsets[2 * i + 1] as number, ctx);
      return this.encoded!.offer(direct.takeChunk());
    }
    const out: FirewallLogRecord[] = [];
    if (spans.head !== undefined) this.record(out, spans.head, ctx);
    for (let i = 0; i < count; i++) this.record(out, chunk.subarray(offsets[2 * i], offsets[2 * i + 1]), ctx);
    return this.records!.offer(out);
  }

  /** Call `listener` once, when the queue next drains to its low-water mark. */
  onDrain(listener: () => void): void {
    (this.encoded ?? this.records)!.onDrain(listener);
  }

  /** New parser options (config reload): frames offered from now on use them. */
  setParser(options: ParseOptions | undefined): void {
    this.options = options;
    this.direct?.setOptions(options);
  }

  /** Deliver what is queued within `deadlineMs`, then shut the outputs down. */
  shutdown(deadlineMs?: number): Promise<PipelineShutdownResult> {
    return (this.encoded ?? this.records)!.shutdown(deadlineMs);
  }

  private encode(direct: OtlpDirectEncoder, bytes: Buffer, start: number, end: number, ctx: ReceiveContext): void {
    try {
      this.deps.outcomes.countOutcome(direct.appendBytes(bytes, start, end, ctx));
    } catch (err) {
      this.lost('encoder', err);
    }
  }

  private record(out: FirewallLogRecord[], frame: Buffer, ctx: ReceiveContext): void {
    try {
      const r = parseFrame(frame, ctx, this.options);
      this.deps.outcomes.count(r);
      out.push(r);
    } catch (err) {
      this.lost('parser', err);
    }
  }

  /** A parser bug (neither path throws by contract): the frame is lost, counted and logged, as in a worker. */
  private lost(what: string, err: unknown): void {
    this.deps.metrics.dropped.inc({ reason: 'decode_error' });
    this.deps.logger?.error(`${what} threw; frame dropped`, { error: err instanceof Error ? err.message : String(err) });
  }
}
