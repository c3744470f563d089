/**
 * A pipeline worker thread: takes batches of raw frames from the main thread, parses them
 * (`parseFrame`), and offers the records to its own record `Pipeline` (batching, fan-out to
 * its own outputs, retries with backoff). It reports back when a batch has left that
 * pipeline (so the main thread can release its bound), and sends metric deltas and export
 * outcomes every `metricsIntervalMs` and at shutdown. Started by `ThreadedPipeline`.
 *
 * Direct path: when the only output is OTLP/HTTP protobuf on the fast path (the default), no
 * record objects are built at all: `OtlpDirectEncoder` writes each frame's LogRecord bytes
 * (the same bytes the record path would send) and the pipeline queues those.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Counter } from 'prom-client';
import { parseFrame, validateParseOptions, type ParseOptions } from '../../mapping/parse-frame.js';
import type { FirewallLogRecord, ReceiveContext } from '../../mapping/record.js';
import { Metrics } from '../../ops/metrics.js';
import { forwardingLogger } from '../../ops/logger.js';
import { createOutput } from '../../output/create-output.js';
import { OtlpDirectEncoder, type EncodedLogRecord } from '../../output/otlp-direct.js';
import { directOutput, ENCODED_RECORD_OVERHEAD } from '../in-process-frames.js';
import { Pipeline, type PipelineOutput } from '../pipeline.js';
import { ParseOutcomeCounter } from '../../ops/parse-outcomes.js';
import { lowerThreadPriority, WORKER_NICE_OFFSET } from './worker-priority.js';
import type { FrameBatchMessage, FromWorker, HealthEvent, MetricDelta, ToWorker, WorkerSettings } from './worker-protocol.js';

/**
 * Parsed (encoded) bytes a worker keeps ahead of its exports, besides `parseAhead` records: with
 * 60 KB lines, 2,048 records ahead were ~240 MiB of RSS over two workers; the raw frames behind
 * them wait in the inbox (counted in the main thread's in-flight bound) instead.
 */
const PARSE_AHEAD_BYTES = 8 * 1024 * 1024;

/** Health events kept between two reports; beyond this only the newest per output matter. */
const MAX_HEALTH_EVENTS = 256;

/** The worker's state: parser options, record pipeline and the bookkeeping of batches in flight. */
class PipelineWorker {
  private parseOptions: ParseOptions;
  private readonly metrics = new Metrics();
  private readonly pipeline: Pipeline<FirewallLogRecord> | Pipeline<EncodedLogRecord>;
  /** Set on the direct path (see the file comment). */
  private readonly direct: OtlpDirectEncoder | undefined;
  /** Cumulative count of accepted records at the end of each batch not yet reported done. */
  private readonly batchEnds: number[] = [];
  /** The direct path's chunk of each of those batches, recycled once the batch is done. */
  private readonly batchChunks: (Uint8Array | undefined)[] = [];
  private batchHead = 0;
  private accepted = 0;
  private readonly outcomes = new ParseOutcomeCounter();
  private checkScheduled = false;
  private health: HealthEvent[] = [];
  private readonly lastValues = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private stopping = false;
  /** Set at a spooled shutdown once the delivered batches are reported: nothing more is reported done. */
  private final = false;
  /**
   * Batches received but not parsed yet. They stay raw bytes until the record pipeline has
   * room (`parseAhead` records), so the deep part of the bound never turns into record
   * objects (which is what made GC expensive in the single-thread pipeline).
   */
  private inbox: FrameBatchMessage[] = [];
  private inboxHead = 0;
  private readonly parseAhead: number;

  constructor(
    private readonly settings: WorkerSettings,
    private readonly port: NonNullable<typeof parentPort>,
  ) {
    this.parseOptions = validateParseOptions(settings.parser, 'parser');
    // Outputs that log for themselves (mode: sdk) log through the main thread's logger.
    const logger = forwardingLogger((level, msg, fields) => this.log(level, msg, fields));
    const built = settings.outputs.map((spec) => createOutput(spec, { metrics: this.metrics, logger: logger.child({ component: 'output', output: spec.name }) }));
    const direct = settings.directPath !== false ? directOutput(built, (o) => this.track(o)) : undefined;
    if (direct !== undefined) {
      this.direct = new OtlpDirectEncoder(this.parseOptions);
      this.pipeline = new Pipeline<EncodedLogRecord>(settings.pipeline, {
        outputs: [direct],
        metrics: this.metrics,
        sizeOf: (r) => r.end - r.start + ENCODED_RECORD_OVERHEAD,
        countAbandoned: settings.spooled !== true,
      });
    } else {
      this.direct = undefined;
      this.pipeline = new Pipeline(settings.pipeline, { outputs: built.map((o) => this.track(o)), metrics: this.metrics, countAbandoned: settings.spooled !== true });
    }
    // Enough for every output's in-flight batches: records then live one export round trip and
    // die young (measured: parsing further ahead cost ~1.5 CPU-µs/record more in GC).
    this.parseAhead = settings.pipeline.batchSize * settings.pipeline.maxInFlightPerOutput;
    this.timer = setInterval(() => void this.report(), settings.metricsIntervalMs);
    this.timer.unref();
  }

  private send(msg: FromWorker): void {
    this.port.postMessage(msg);
  }

  /** Wraps an output: records each outcome for health and checks which batches are done. */
  private track<T>(output: PipelineOutput<T>): PipelineOutput<T> {
    const health = (ok: boolean, error?: unknown): void => {
      if (this.health.length >= MAX_HEALTH_EVENTS) this.health.shift();
      this.health.push(ok ? { output: output.name, ok } : { output: output.name, ok, error: error instanceof Error ? error.message : String(error) });
      this.scheduleCheck();
    };
    return {
      name: output.name,
      export: async (records: T[]): Promise<void> => {
        try {
          await output.export(records);
        } catch (err) {
          health(false, err);
          throw err;
        }
        health(true);
      },
      shutdown: () => output.shutdown(),
    };
  }

  /** The pipeline retires a batch right after the export promise settles: look once that has happened. */
  private scheduleCheck(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      this.checkDone();
    });
  }

  /** Records leave the pipeline's queue in order, so a batch is done once the queue is past its last record. */
  private checkDone(): void {
    if (this.final) return;
    const left = this.accepted - this.pipeline.queuedRecords;
    let n = 0;
    while (this.batchHead < this.batchEnds.length && (this.batchEnds[this.batchHead] as number) <= left) {
      const chunk = this.batchChunks[this.batchHead];
      if (chunk !== undefined) {
        this.batchChunks[this.batchHead] = undefined;
        this.direct?.recycle(chunk);
      }
      this.batchHead++;
      n++;
    }
    if (this.batchHead > 1024 && this.batchHead * 2 > this.batchEnds.length) {
      this.batchEnds.splice(0, this.batchHead);
      this.batchChunks.splice(0, this.batchHead);
      this.batchHead = 0;
    }
    if (n > 0) this.send({ t: 'done', count: n });
    this.pump();
  }

  /** A batch arrived: queue it raw, parse when the pipeline has room. */
  onBatch(msg: FrameBatchMessage): void {
    this.inbox.push(msg);
    this.pump();
  }

  /** Parse queued batches while the record pipeline is below `parseAhead` (all of them when `all`). */
  private pump(all = false): void {
    while (this.inboxHead < this.inbox.length && (all || (this.pipeline.queuedRecords < this.parseAhead && this.pipeline.queuedBytes < PARSE_AHEAD_BYTES))) {
      const msg = this.inbox[this.inboxHead] as FrameBatchMessage;
      this.inbox[this.inboxHead++] = undefined as unknown as FrameBatchMessage;
      this.process(msg);
      // Parsing copied what it needed out of the frames: hand the buffers back for reuse.
      this.port.postMessage({ t: 'free', bytes: msg.bytes, ends: msg.ends } satisfies FromWorker, [msg.bytes, msg.ends]);
    }
    if (this.inboxHead === this.inbox.length) {
      this.inbox = [];
      this.inboxHead = 0;
    } else if (this.inboxHead > 256) {
      this.inbox = this.inbox.slice(this.inboxHead);
      this.inboxHead = 0;
    }
  }

  /** Parse every frame of a batch and offer the records. */
  private process(msg: FrameBatchMessage): void {
    if (this.direct !== undefined) {
      this.processDirect(msg, this.direct);
      return;
    }
    const bytes = Buffer.from(msg.bytes);
    const ends = new Uint32Array(msg.ends, 0, msg.count);
    const records: FirewallLogRecord[] = new Array<FirewallLogRecord>(msg.count);
    const options = this.parseOptions;
    let n = 0;
    let start = 0;
    for (let k = 0; k < msg.ctxs.length; k++) {
      const ctx: ReceiveContext = msg.ctxs[k] as ReceiveContext;
      const last = k + 1 < msg.ctxFirst.length ? (msg.ctxFirst[k + 1] as number) : msg.count;
      for (let i = msg.ctxFirst[k] as number; i < last; i++) {
        const end = ends[i] as number;
        let record: FirewallLogRecord;
        try {
          record = parseFrame(bytes.subarray(start, end), ctx, options);
        } catch (err) {
          // parseFrame's contract is never to throw; if it does anyway, one frame is lost and counted.
          this.metrics.dropped.inc({ reason: 'decode_error' });
          this.log('error', 'parser threw; frame dropped', { error: err instanceof Error ? err.message : String(err) });
          start = end;
          continue;
        }
        start = end;
        this.outcomes.count(record);
        records[n++] = record;
      }
    }
    records.length = n;
    this.offer(records, n, msg.urgent);
  }

  /** The direct path: every frame of the batch encoded straight into one chunk of LogRecords. */
  private processDirect(msg: FrameBatchMessage, direct: OtlpDirectEncoder): void {
    const bytes = Buffer.from(msg.bytes);
    const ends = new Uint32Array(msg.ends, 0, msg.count);
    const outcomes = this.outcomes;
    let start = 0;
    for (let k = 0; k < msg.ctxs.length; k++) {
      const ctx: ReceiveContext = msg.ctxs[k] as ReceiveContext;
      const last = k + 1 < msg.ctxFirst.length ? (msg.ctxFirst[k + 1] as number) : msg.count;
      for (let i = msg.ctxFirst[k] as number; i < last; i++) {
        const end = ends[i] as number;
        try {
          outcomes.countOutcome(direct.appendBytes(bytes, start, end, ctx));
        } catch (err) {
          // append's contract is never to throw (parseFrame is its fallback); if it does, one frame is lost and counted.
          this.metrics.dropped.inc({ reason: 'decode_error' });
          this.log('error', 'encoder threw; frame dropped', { error: err instanceof Error ? err.message : String(err) });
        }
        start = end;
      }
    }
    const items = direct.takeChunk();
    this.offer(items, items.length, msg.urgent, items.length > 0 ? (items[0] as EncodedLogRecord).chunk : undefined);
  }

  private offer(items: FirewallLogRecord[] | EncodedLogRecord[], n: number, urgent: boolean, chunk?: Uint8Array): void {
    const before = this.pipeline.queuedRecords;
    if (n > 0) (this.pipeline as Pipeline<unknown>).offer(items);
    // Nothing is retired synchronously inside offer(), so the growth is what was accepted.
    this.accepted += this.pipeline.queuedRecords - before;
    this.batchEnds.push(this.accepted);
    this.batchChunks.push(chunk);
    // The main thread already waited for company; do not linger a second time.
    if (urgent) void this.pipeline.flush(0);
    // A batch whose frames were all dropped is done at once.
    if (n === 0) this.scheduleCheck();
  }

  /** Apply new parser options (config reload). */
  setParser(parser: WorkerSettings['parser']): void {
    try {
      this.parseOptions = validateParseOptions(parser, 'parser');
      this.direct?.setOptions(this.parseOptions);
    } catch (err) {
      this.log('error', 'new parser options rejected; keeping the old ones', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    this.send({ t: 'log', level, msg, fields: { thread: this.settings.index, ...fields } });
  }

  /** Counter increments since the last report, plus the export outcomes seen since then. */
  private async report(): Promise<void> {
    this.outcomes.flushTo(this.metrics);
    const deltas: MetricDelta[] = [];
    for (const [field, value] of Object.entries(this.metrics)) {
      if (!(value instanceof Counter)) continue;
      const got = await (value as Counter<string>).get();
      for (const v of got.values) {
        const labels = v.labels as Record<string, string>;
        const key = `${field}\u0000${JSON.stringify(labels)}`;
        const prev = this.lastValues.get(key) ?? 0;
        if (v.value > prev) deltas.push({ metric: field, labels, value: v.value - prev });
        this.lastValues.set(key, v.value);
      }
    }
    const health = this.health;
    this.health = [];
    if (deltas.length > 0 || health.length > 0) this.send({ t: 'metrics', deltas, health });
  }

  /** Drain the pipeline within the deadline, send the last deltas and the result. */
  async shutdown(deadlineMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.timer);
    // Everything received is parsed and offered; the pipeline then drains within the deadline.
    this.pump(true);
    let r;
    if (this.settings.spooled === true) {
      // Only what was delivered is reported done (acknowledged in the spool); the rest stays there.
      const started = Date.now();
      await this.pipeline.flush(deadlineMs);
      this.checkDone();
      this.final = true;
      r = await this.pipeline.shutdown(Math.max(0, deadlineMs - (Date.now() - started)));
    } else {
      r = await this.pipeline.shutdown(deadlineMs);
      this.checkDone();
    }
    await this.report();
    this.send({ t: 'stopped', delivered: r.delivered, undelivered: r.undelivered });
    this.port.close();
  }
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('pipeline-worker.ts runs as a worker thread (started by ThreadedPipeline)');
  // Below the main thread, which reads the sockets (see worker-priority.ts).
  const offset = process.env.IPTABLES_OTEL_WORKER_NICE;
  lowerThreadPriority(offset !== undefined ? Number(offset) : WORKER_NICE_OFFSET);
  const worker = new PipelineWorker(workerData as WorkerSettings, port);
  port.on('message', (msg: ToWorker) => {
    switch (msg.t) {
      case 'batch':
        worker.onBatch(msg);
        break;
      case 'parser':
        worker.setParser(msg.parser);
        break;
      case 'shutdown':
        void worker.shutdown(msg.deadlineMs);
        break;
    }
  });
  port.postMessage({ t: 'ready' } satisfies FromWorker);
}

main();
