import { collectDefaultMetrics } from 'prom-client';
import type { ListenerSpec, OutputSpec, ParserSpec, ServiceConfig } from './config/service-config.js';
import { toInputConfig, toPipelineConfig } from './config/component-configs.js';
import { createInput } from './input/create-input.js';
import { createPartialFrameBudget, resolvePartialFrameBudgetConfig } from './input/partial-frame-budget.js';
import { AckRouter } from './input/ack-router.js';
import { CHECKPOINT_SUBDIRECTORY, CheckpointStore } from './input/checkpoint-store.js';
import { sourceInputKind } from './input/source-kinds.js';
import { RateLimitedLog } from './input/rate-limited-log.js';
import type { SourceInputSpec } from './config/service-config.js';
import { join } from 'node:path';
import type { FrameDecoder, Input } from './input/input.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { InProcessFramePipeline } from './pipeline/in-process-frames.js';
import { resolvePipelineConfig } from './pipeline/pipeline-config.js';
import type { RecordSink } from './pipeline/record-sink.js';
import { ThreadedPipeline, resolveThreadCount } from './pipeline/threads/threaded-pipeline.js';
import { Spool } from './pipeline/spool/spool.js';
import { SwitchableFrameSink, SwitchableSink } from './pipeline/switchable-sink.js';
import { ParseOutcomeCounter } from './ops/parse-outcomes.js';
import type { Output } from './output/output.js';
import { Metrics } from './ops/metrics.js';
import { createLogger, type Logger, type RootLogger } from './ops/logger.js';
import { HealthTracker, trackOutputHealth, type HealthReport } from './ops/health.js';
import { startOpsServer, type OpsServer } from './ops/ops-server.js';
import { startStatusLine } from './ops/status-line.js';
import { parseFrame, validateParseOptions } from './mapping/parse-frame.js';
import { createOutput } from './output/create-output.js';

/** How the service builds its parts; tests replace them with fakes (fakes cannot cross into worker threads, so they imply `threads: 0`). */
export interface ServiceComponents {
  /** Frame -> record with the configured parser options. */
  createDecoder(parser: ParserSpec): FrameDecoder;
  /** One output from its resolved spec. */
  createOutput(spec: OutputSpec, deps: { metrics: Metrics; logger: Logger }): Output;
}

/** Options of `startService()`. */
export interface ServiceOptions {
  /** Default: JSON lines on stderr at `config.logging.level`. */
  logger?: Logger;
  /** Default: a fresh registry with process metrics. */
  metrics?: Metrics;
  /** Stream of the TTY status line (default stderr). */
  statusStream?: NodeJS.WriteStream;
  components?: Partial<ServiceComponents>;
}

/** What `Service.stop()` reports. */
export interface StopResult {
  /** Records lost at the deadline (counted as dropped `shutdown_deadline`): only without the spool. */
  undelivered: number;
  /** Records left in the spool, not yet acknowledged by every output: the next start sends them first. */
  spooled: number;
}

/** What `Service.reload()` did. */
export interface ReloadResult {
  /** Parts that changed: `logging`, `parser`, `ops`, `outputs`, `pipeline`, `pipeline.partialFrames`, `inputs`. */
  changed: string[];
  /** Records the replaced pipeline could not deliver before its deadline. */
  undelivered: number;
}

/** A running iptables-otel service. */
export interface Service {
  readonly metrics: Metrics;
  /** The configuration in force. */
  readonly config: ServiceConfig;
  /** Bound listeners: name, transport and address (port 0 resolved). */
  listeners(): Array<{ name: string; type: ListenerSpec['type']; address: string; port: number }>;
  /** Bound /healthz + /metrics address, when enabled. */
  opsAddress(): { address: string; port: number } | undefined;
  /** Current health verdict (what /healthz answers). */
  health(): HealthReport;
  /**
   * Applies a new configuration without losing records: parser, log level and health thresholds
   * change in place; changed outputs or queue settings get a new pipeline (the old one drains
   * into the old outputs); changed listeners are stopped and rebound. Rejects (and keeps the
   * running configuration for the parts not yet applied) if a new listener cannot bind.
   */
  reload(config: ServiceConfig): Promise<ReloadResult>;
  /** Stop accepting, drain the queue and flush every output within the shutdown deadline. Idempotent. */
  stop(): Promise<StopResult>;
}

const PARSED_FLUSH_MS = 1000;

/** The record sink inputs get in threaded mode, where they hand frames to `frameSink` and never call it. */
const unusedRecordSink: RecordSink = { writable: false, offer: () => false, onDrain: () => {} };

/** The real decoder: `parseFrame` bound to the validated parser options. */
function createDecoder(parser: ParserSpec): FrameDecoder {
  const options = validateParseOptions(parser, 'parser');
  return (frame, ctx) => parseFrame(frame, ctx, options);
}

/** The real output factory. */
function createOutputFromSpec(spec: OutputSpec, deps: { metrics: Metrics; logger: Logger }): Output {
  return createOutput(spec, deps);
}

interface RunningInput {
  /** The listener's spec; undefined for a source input (kmsg, journald, file). */
  spec: ListenerSpec | undefined;
  key: string;
  input: Input;
}

function specKey(x: unknown): string {
  return JSON.stringify(x);
}

/** Open the spool, wired to the metrics and the logs; errors name the directory. */
function openSpool(config: ServiceConfig, metrics: Metrics, logger: Logger): Spool {
  const log = logger.child({ component: 'spool' });
  let lastWriteErrorLog = 0;
  let suppressed = 0;
  const spool = Spool.open(config.spool, {
    logger: log,
    observer: {
      corrupt: (bytes) => metrics.spoolCorruptBytes.inc(bytes),
      writeFailed: (err) => {
        metrics.spoolWriteErrors.inc();
        // Once a minute at most, with the count in between: a failing disk must not flood the log.
        const now = Date.now();
        if (now - lastWriteErrorLog < 60_000) {
          suppressed++;
          return;
        }
        lastWriteErrorLog = now;
        log.error('spool write failed', { directory: config.spool.directory, error: err instanceof Error ? err.message : String(err), failuresSinceLastLog: suppressed });
        suppressed = 0;
      },
    },
  });
  metrics.spoolSource = () => ({ bytes: spool.bytes, records: spool.frames, oldestReceivedAtMs: spool.oldestReceivedAtMs() });
  return spool;
}

/**
 * Wires inputs -> parseFrame -> bounded queue -> outputs from a resolved configuration
 * (`loadConfig()`), binds every listener and the ops endpoint, and resolves once traffic is
 * accepted. Rejects (after releasing what it bound) if a listener or the ops address cannot bind.
 */
export async function startService(config: ServiceConfig, options: ServiceOptions = {}): Promise<Service> {
  const logger: Logger = options.logger ?? createLogger({ level: config.logging.level });
  const metrics = options.metrics ?? new Metrics();
  if (!options.metrics) collectDefaultMetrics({ register: metrics.registry, prefix: 'iptables_otel_process_' });
  const components: ServiceComponents = {
    createDecoder: options.components?.createDecoder ?? createDecoder,
    createOutput: options.components?.createOutput ?? createOutputFromSpec,
  };

  let current = config;
  // One of the three modes: worker threads; this thread, fed frames (`threads: 0`); or this
  // thread, fed records by the inputs (`threads: 0` with components faked by tests).
  let pipeline: Pipeline | InProcessFramePipeline | undefined;
  let threaded: ThreadedPipeline | undefined;
  const health = new HealthTracker(
    { unhealthyAfterFailures: config.ops.unhealthyAfterFailures, unhealthyAfterStallMs: config.ops.unhealthyAfterStallMs },
    // Records waiting: in memory, or on disk in the spool.
    () => Math.max(threaded?.queuedRecords ?? pipeline?.queuedRecords ?? 0, spool?.frames ?? 0),
    Date.now,
    { logger: logger.child({ component: 'output' }) },
  );
  const queued = (): number => threaded?.queuedRecords ?? pipeline?.queuedRecords ?? 0;
  // Fakes given by tests live in this thread: they cannot run in a worker.
  const faked = options.components?.createDecoder !== undefined || options.components?.createOutput !== undefined;
  const threadCount = faked ? 0 : resolveThreadCount(config.threads ?? 0);

  // Parse outcomes are counted in plain numbers on the hot path and moved to prom-client once a second.
  const outcomes = new ParseOutcomeCounter();
  const flushParsed = (): void => outcomes.flushTo(metrics);
  const parsedTimer = setInterval(flushParsed, PARSED_FLUSH_MS);
  parsedTimer.unref();

  let parse: FrameDecoder = components.createDecoder(config.parser);
  const decode: FrameDecoder = (frame, ctx) => {
    const record = parse(frame, ctx);
    outcomes.count(record);
    return record;
  };

  const buildOutputs = (cfg: ServiceConfig) =>
    cfg.outputs.map((spec) => components.createOutput(spec, { metrics, logger: logger.child({ component: 'output', output: spec.name }) }));

  /** `threads: 0`: this thread parses what the inputs receive (frames, or records from faked components). */
  const buildPipeline = (cfg: ServiceConfig): Pipeline | InProcessFramePipeline => {
    if (faked) return createPipeline(toPipelineConfig(cfg.pipeline), { outputs: buildOutputs(cfg).map((o) => trackOutputHealth(o, health)), metrics });
    return new InProcessFramePipeline(resolvePipelineConfig(toPipelineConfig(cfg.pipeline)), buildOutputs(cfg), validateParseOptions(cfg.parser, 'parser'), {
      metrics,
      outcomes,
      track: (o) => trackOutputHealth(o, health),
      logger: logger.child({ component: 'pipeline' }),
    });
  };

  // The spool belongs to the service, not to one pipeline: a reload hands what the old
  // pipeline left over to the new one, and stop() closes it last.
  const spool = threadCount > 0 && config.spool.enabled ? openSpool(config, metrics, logger) : undefined;
  if (spool !== undefined) {
    health.setSpool(() => ({ directory: spool.config.directory, bytes: spool.bytes, maxBytes: spool.config.maxBytes, records: spool.frames, oldestReceivedAtMs: spool.oldestReceivedAtMs() }));
  }
  if (spool === undefined && config.spool.enabled) {
    logger.warn('the spool needs worker threads (pipeline.threads >= 1); with threads: 0 queued records are kept in memory only');
  }

  /** Threaded mode: worker threads parse, encode and export; this thread reads and frames. */
  const buildThreaded = (cfg: ServiceConfig, threads: number): ThreadedPipeline => {
    return new ThreadedPipeline({
      threads,
      onAcknowledged: (ctxs, frames) => acks.acknowledged(ctxs, frames),
      parser: cfg.parser,
      outputs: cfg.outputs,
      pipeline: resolvePipelineConfig(toPipelineConfig(cfg.pipeline)),
      metrics,
      logger: logger.child({ component: 'pipeline' }),
      health,
      ...(spool !== undefined ? { spool } : {}),
    });
  };

  // Source inputs' checkpoints: advanced by the outputs' acknowledgements, routed by input name.
  const acks = new AckRouter();
  const checkpoints = new CheckpointStore(join(config.stateDirectory, CHECKPOINT_SUBDIRECTORY));
  const checkpointLog = new RateLimitedLog((m, f) => logger.error(m, f), 3, 60_000);
  checkpoints.onError((name, err) =>
    checkpointLog.write('a checkpoint could not be written; after a restart that input sends again what was read since its last checkpoint', {
      input: name,
      directory: checkpoints.directory,
      error: err.message,
    }),
  );

  let sink: SwitchableSink | undefined;
  let frameSink: SwitchableFrameSink | undefined;
  if (threadCount > 0) {
    for (const spec of config.outputs) health.addOutput(spec.name);
    threaded = buildThreaded(config, threadCount);
    frameSink = new SwitchableFrameSink(threaded);
    try {
      await threaded.ready();
    } catch (err) {
      await threaded.shutdown(0);
      spool?.close();
      clearInterval(parsedTimer);
      throw new Error(`the pipeline worker threads could not start: ${(err as Error).message}`, { cause: err });
    }
    // What an earlier run left in the spool goes first.
    if (spool !== undefined) threaded.adopt(spool.recovery.refs);
  } else {
    pipeline = buildPipeline(config);
    if (pipeline instanceof InProcessFramePipeline) frameSink = new SwitchableFrameSink(pipeline);
    else sink = new SwitchableSink(pipeline);
  }
  let inputs: RunningInput[] = [];
  // One budget for the unterminated frames of every stream connection, across reloads.
  const partialFrames = createPartialFrameBudget(config.partialFrames ?? {}, metrics);
  health.setInputs(() => {
    const out: Record<string, Record<string, unknown>> = {};
    for (const i of inputs) if (i.input.health !== undefined) out[i.input.name] = i.input.health();
    return out;
  });
  let ops: OpsServer | undefined;
  let stopStatus: () => void = () => {};

  const makeInput = (spec: ListenerSpec): RunningInput => {
    const inputConfig = toInputConfig(spec);
    const input = createInput(inputConfig, {
      decode,
      sink: sink ?? unusedRecordSink,
      ...(frameSink !== undefined ? { frameSink } : {}),
      partialFrames,
      metrics,
      logger: logger.child({ component: 'input' }),
    });
    return { spec, key: specKey(spec), input };
  };

  /** A kmsg / journald / file input (validated by its kind when the config was loaded). */
  const makeSource = (spec: SourceInputSpec): RunningInput => {
    const kind = sourceInputKind(spec.type);
    if (kind === undefined) throw new Error(`no input kind "${spec.type}" is registered`);
    const input = kind.create(spec.config, {
      decode,
      sink: sink ?? unusedRecordSink,
      ...(frameSink !== undefined ? { frameSink } : {}),
      metrics,
      logger: logger.child({ component: 'input' }),
      checkpoints,
      acks,
    });
    return { spec: undefined, key: specKey(spec), input };
  };

  const startOps = async (cfg: ServiceConfig): Promise<OpsServer | undefined> => {
    if (!cfg.ops.enabled) return undefined;
    return startOpsServer({ host: cfg.ops.host, port: cfg.ops.port, metrics, health, logger: logger.child({ component: 'ops' }), beforeScrape: flushParsed });
  };

  try {
    for (const spec of config.inputs) {
      const ri = makeInput(spec);
      inputs.push(ri);
      await ri.input.start();
    }
    for (const spec of config.sources) {
      const ri = makeSource(spec);
      inputs.push(ri);
      await ri.input.start();
    }
    ops = await startOps(config);
  } catch (err) {
    await Promise.allSettled(inputs.map((i) => i.input.stop()));
    await (threaded ?? pipeline)!.shutdown(0);
    spool?.close();
    clearInterval(parsedTimer);
    throw err;
  }
  health.markRunning();
  stopStatus = startStatusLine(metrics, config.ops.statusIntervalMs, options.statusStream);

  // Start-up notices come before 'started', so that line is the last of the start-up.
  for (const n of config.notices) logger.warn(n);
  logger.info('started', {
    listeners: inputs.filter((i) => i.spec !== undefined).map((i) => ({ name: i.input.name, type: i.spec!.type, address: i.input.address()?.address, port: i.input.address()?.port })),
    sources: inputs.filter((i) => i.spec === undefined).map((i) => i.input.name),
    stateDirectory: config.sources.length > 0 ? config.stateDirectory : undefined,
    ops: ops ? { address: ops.address().address, port: ops.address().port, paths: ['/healthz', '/metrics'] } : 'off',
    outputs: config.outputs,
    threads: threadCount,
    spool: spool !== undefined ? { directory: spool.config.directory, maxBytes: spool.config.maxBytes, fsync: spool.config.fsync } : 'off',
  });
  if (faked && config.threads !== undefined && config.threads !== 0) logger.info('custom components: parsing on the main thread (threads: 0)');

  let stopping: Promise<StopResult> | undefined;
  let reloading: Promise<unknown> = Promise.resolve();

  const service: Service = {
    metrics,
    get config() {
      return current;
    },
    listeners() {
      return inputs.flatMap((i) => {
        if (i.spec === undefined) return [];
        const a = i.input.address();
        return [{ name: i.input.name, type: i.spec.type, address: a?.address ?? i.spec.host, port: a?.port ?? i.spec.port }];
      });
    },
    opsAddress() {
      return ops?.address();
    },
    health() {
      return health.report();
    },
    reload(next: ServiceConfig): Promise<ReloadResult> {
      const run = reloading.then(() => doReload(next));
      reloading = run.catch(() => {});
      return run;
    },
    stop(): Promise<StopResult> {
      stopping ??= doStop();
      return stopping;
    },
  };

  async function doReload(next: ServiceConfig): Promise<ReloadResult> {
    if (stopping) throw new Error('the service is stopping');
    const changed: string[] = [];
    let undelivered = 0;
    const prev = current;

    if (next.logging.level !== prev.logging.level) {
      (logger as Partial<RootLogger>).setLevel?.(next.logging.level);
      changed.push('logging');
    }
    if (specKey(next.parser) !== specKey(prev.parser)) {
      // Build first: a parser that rejects the options leaves the old one in force.
      parse = components.createDecoder(next.parser);
      threaded?.setParser(next.parser);
      if (pipeline instanceof InProcessFramePipeline) pipeline.setParser(validateParseOptions(next.parser, 'parser'));
      changed.push('parser');
    }
    health.setPolicy({ unhealthyAfterFailures: next.ops.unhealthyAfterFailures, unhealthyAfterStallMs: next.ops.unhealthyAfterStallMs });
    const nextPartial = resolvePartialFrameBudgetConfig(next.partialFrames ?? {});
    if (specKey(nextPartial) !== specKey(partialFrames.config)) {
      partialFrames.reconfigure(nextPartial);
      changed.push('pipeline.partialFrames');
    }

    const nextThreads = faked ? 0 : resolveThreadCount(next.threads ?? 0);
    if ((nextThreads > 0) !== (threadCount > 0)) {
      logger.warn('pipeline.threads changed between 0 and a thread count: restart the service to apply it; the running mode stays', {
        running: threadCount,
        configured: next.threads,
      });
    }
    const pipelineChanged = specKey(next.outputs) !== specKey(prev.outputs) || specKey(next.pipeline) !== specKey(prev.pipeline);
    if (threaded !== undefined && (pipelineChanged || (nextThreads > 0 && nextThreads !== threaded.threads))) {
      // New worker threads with the new outputs/queue; the old ones drain into the old outputs.
      const old = threaded;
      const fresh = buildThreaded(next, nextThreads > 0 ? nextThreads : threaded.threads);
      try {
        await fresh.ready();
      } catch (err) {
        await fresh.shutdown(0);
        logger.error('the new pipeline worker threads could not start; keeping the running outputs', { err });
        throw err;
      }
      for (const spec of next.outputs) health.addOutput(spec.name);
      threaded = fresh;
      frameSink!.switchTo(fresh);
      for (const o of prev.outputs) if (!next.outputs.some((n) => n.name === o.name)) health.removeOutput(o.name);
      changed.push(specKey(next.outputs) !== specKey(prev.outputs) ? 'outputs' : 'pipeline');
      const r = await old.shutdown(prev.pipeline.shutdownDeadlineMs);
      undelivered = r.undelivered;
      if (undelivered > 0) logger.error('records not delivered by the replaced outputs before the deadline', { undelivered });
      // What the old workers did not deliver is still in the spool: the new ones send it first.
      fresh.adopt(r.spooled);
    } else if (threaded === undefined && pipelineChanged) {
      const old = pipeline!;
      const fresh = buildPipeline(next);
      pipeline = fresh;
      if (fresh instanceof InProcessFramePipeline) frameSink!.switchTo(fresh);
      else sink!.switchTo(fresh as Pipeline);
      for (const o of prev.outputs) if (!next.outputs.some((n) => n.name === o.name)) health.removeOutput(o.name);
      changed.push(specKey(next.outputs) !== specKey(prev.outputs) ? 'outputs' : 'pipeline');
      // The old queue drains into the old outputs while new records already flow to the new ones.
      const r = await old.shutdown(prev.pipeline.shutdownDeadlineMs);
      undelivered = r.undelivered;
      if (undelivered > 0) logger.error('records not delivered by the replaced outputs before the deadline', { undelivered });
    }

    const wanted = new Map<string, ListenerSpec | SourceInputSpec>([...next.inputs.map((s) => [specKey(s), s] as const), ...next.sources.map((s) => [specKey(s), s] as const)]);
    const keep = inputs.filter((i) => wanted.has(i.key));
    const remove = inputs.filter((i) => !wanted.has(i.key));
    const add = [...wanted.entries()].filter(([k]) => !keep.some((i) => i.key === k)).map(([, s]) => s);
    if (remove.length > 0 || add.length > 0) {
      changed.push('inputs');
      await Promise.allSettled(remove.map((i) => i.input.stop()));
      inputs = keep;
      for (const spec of add) {
        const ri = 'config' in spec ? makeSource(spec) : makeInput(spec);
        try {
          await ri.input.start();
        } catch (err) {
          logger.error('a new listener could not bind; the others keep running; fix the config and send SIGHUP again, or restart', {
            input: ri.input.name,
            err,
          });
          throw err;
        }
        inputs.push(ri);
      }
    }

    if (specKey(next.ops) !== specKey(prev.ops)) {
      changed.push('ops');
      stopStatus();
      if (next.ops.enabled !== prev.ops.enabled || next.ops.host !== prev.ops.host || next.ops.port !== prev.ops.port) {
        await ops?.close();
        ops = undefined;
        ops = await startOps(next);
      }
      stopStatus = startStatusLine(metrics, next.ops.statusIntervalMs, options.statusStream);
    }
    current = next;
    logger.info('configuration reloaded', { changed });
    return { changed, undelivered };
  }

  async function doStop(): Promise<StopResult> {
    const started = Date.now();
    const deadline = current.pipeline.shutdownDeadlineMs;
    health.markStopping();
    logger.info('stopping: no new connections; draining the queue', { queued: queued(), deadlineMs: deadline });
    await reloading;
    await Promise.allSettled(inputs.map((i) => i.input.stop()));
    partialFrames.stop();
    flushParsed();
    const left = Math.max(0, deadline - (Date.now() - started));
    const result = await (threaded ?? pipeline)!.shutdown(left);
    // The last acknowledgements' checkpoints reach the disk before the process exits.
    await checkpoints.idle();
    flushParsed();
    clearInterval(parsedTimer);
    stopStatus();
    await ops?.close();
    const spooled = spool?.frames ?? 0;
    spool?.close();
    if (result.undelivered > 0) {
      logger.error('records lost: not delivered before the shutdown deadline, and the spool is off', { undelivered: result.undelivered, deadlineMs: deadline });
    } else if (spooled > 0) {
      logger.warn('stopped; records not yet delivered stay in the spool and are sent first at the next start', {
        spooled,
        directory: spool!.config.directory,
        deadlineMs: deadline,
      });
    } else {
      logger.info('stopped; every record was delivered');
    }
    return { undelivered: result.undelivered, spooled };
  }

  return service;
}

