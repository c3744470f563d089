import type { FirewallLogRecord } from '../mapping/record.js';
import type { PipelineOutput } from '../pipeline/pipeline.js';
import { ExportLog, type ExportLogOptions } from './export-log.js';
import type { Logger } from './logger.js';

/** When `/healthz` turns 503. */
export interface HealthPolicy {
  /** An output with this many consecutive failed exports makes the service unhealthy. */
  unhealthyAfterFailures: number;
  /** Records have been waiting this long (ms) while an output had no successful export: unhealthy. */
  unhealthyAfterStallMs: number;
}

interface OutputHealth {
  consecutiveFailures: number;
  lastSuccessAt: number | undefined;
  lastFailureAt: number | undefined;
  lastError: string | undefined;
}

/** The `/healthz` answer. */
export interface HealthReport {
  healthy: boolean;
  status: 'starting' | 'ok' | 'unhealthy' | 'stopping';
  reasons: string[];
  outputs: Record<string, { consecutiveFailures: number; lastSuccessAt?: string; lastError?: string }>;
  /** The persistent spool, when it is on: its fill level and how far behind delivery is. */
  spool?: SpoolHealth;
  /** Local sources (kmsg, journald, file), by input name: position, unacknowledged records, faults. Informational. */
  inputs?: Record<string, Record<string, unknown>>;
}

/** What `/healthz` says of the spool. */
export interface SpoolHealth {
  directory: string;
  bytes: number;
  maxBytes: number;
  /** bytes / maxBytes, 0..1: at 1 senders are paused. */
  fill: number;
  /** Records not yet acknowledged by every output. */
  records: number;
  /** Age of the oldest of them, in seconds (0 when there is none). */
  oldestAgeSeconds: number;
}

/** Options of `HealthTracker` beyond its policy. */
export interface HealthTrackerOptions extends ExportLogOptions {
  /**
   * Where export failures and recoveries are logged, rate-limited per output across all
   * workers (see src/ops/export-log.ts). Without it, nothing is logged (library use, tests).
   */
  logger?: Logger;
}

/**
 * Tracks what `/healthz` reports. The service is healthy once every listener is bound, and
 * stays healthy unless an output fails `unhealthyAfterFailures` exports in a row, or records
 * have been queued for `unhealthyAfterStallMs` while some output delivered nothing in that
 * time (a hung endpoint that never errors). One success clears both conditions. Every outcome
 * also goes to the export log (`options.logger`): export failures are logged there, not by
 * the outputs, so that one collector outage gives one line per minute, not one per worker.
 */
export class HealthTracker {
  private state: 'starting' | 'running' | 'stopping' = 'starting';
  private readonly outputs = new Map<string, OutputHealth>();
  /** Last time the queue was seen empty: the stall clock starts when records start waiting. */
  private lastQueueEmptyAt: number;
  private log: ExportLog | undefined;

  private spool: Parameters<HealthTracker['setSpool']>[0];
  private inputs: (() => Record<string, Record<string, unknown>>) | undefined;

  constructor(
    private policy: HealthPolicy,
    private readonly queueDepth: () => number = () => 0,
    private readonly now: () => number = Date.now,
    options: HealthTrackerOptions = {},
  ) {
    this.lastQueueEmptyAt = now();
    if (options.logger !== undefined) this.log = new ExportLog(options.logger, { now, ...options });
  }

  /** Log export failures and recoveries to `logger` from now on (see `HealthTrackerOptions.logger`). */
  setLogger(logger: Logger, options: ExportLogOptions = {}): void {
    this.log = new ExportLog(logger, { now: this.now, ...options });
  }

  /** Report the spool's state in `report()` from now on; a full spool makes the service unhealthy. */
  setSpool(spool: (() => Omit<SpoolHealth, 'fill' | 'oldestAgeSeconds'> & { oldestReceivedAtMs: number | undefined }) | undefined): void {
    this.spool = spool;
  }

  /** Report the local sources' state (`HealthReport.inputs`) from now on. */
  setInputs(inputs: (() => Record<string, Record<string, unknown>>) | undefined): void {
    this.inputs = inputs;
  }

  /** Replace the thresholds (config reload). */
  setPolicy(policy: HealthPolicy): void {
    this.policy = policy;
  }

  /** Listeners are bound: start reporting 200. */
  markRunning(): void {
    this.state = 'running';
  }

  /** Shutting down: report 503 so a load balancer stops sending. */
  markStopping(): void {
    this.state = 'stopping';
  }

  /** Registers an output so it shows up (and counts) before its first export. */
  addOutput(name: string): void {
    if (!this.outputs.has(name)) this.outputs.set(name, { consecutiveFailures: 0, lastSuccessAt: undefined, lastFailureAt: undefined, lastError: undefined });
  }

  /** Forgets an output (removed on reload). */
  removeOutput(name: string): void {
    this.outputs.delete(name);
    this.log?.forget(name);
  }

  /** An export of `name` succeeded. */
  exportSucceeded(name: string): void {
    this.addOutput(name);
    const o = this.outputs.get(name)!;
    o.consecutiveFailures = 0;
    o.lastSuccessAt = this.now();
    this.log?.succeeded(name);
  }

  /**
   * An export of `name` failed. `error` is the output's error, or (worker threads) its message;
   * either way in the form of src/output/export-failure.ts when the output builds it.
   */
  exportFailed(name: string, error: unknown): void {
    this.addOutput(name);
    const o = this.outputs.get(name)!;
    o.consecutiveFailures++;
    o.lastFailureAt = this.now();
    o.lastError = error instanceof Error ? error.message : String(error);
    this.log?.failed(name, error);
  }

  /**
   * Samples the queue depth and writes export-log lines held back by the rate limit; call it
   * periodically (the ops server does, once a second).
   */
  sample(): void {
    if (this.queueDepth() === 0) this.lastQueueEmptyAt = this.now();
    this.log?.flush();
  }

  /** The current verdict. */
  report(): HealthReport {
    this.sample();
    const now = this.now();
    const reasons: string[] = [];
    const outputs: HealthReport['outputs'] = {};
    for (const [name, o] of this.outputs) {
      outputs[name] = {
        consecutiveFailures: o.consecutiveFailures,
        ...(o.lastSuccessAt !== undefined ? { lastSuccessAt: new Date(o.lastSuccessAt).toISOString() } : {}),
        ...(o.lastError !== undefined && o.consecutiveFailures > 0 ? { lastError: o.lastError } : {}),
      };
      if (o.consecutiveFailures >= this.policy.unhealthyAfterFailures) {
        reasons.push(`output ${name}: ${o.consecutiveFailures} consecutive failed exports`);
      } else {
        const waitingSince = this.lastQueueEmptyAt;
        const progress = Math.max(o.lastSuccessAt ?? 0, waitingSince);
        if (now - progress >= this.policy.unhealthyAfterStallMs) {
          reasons.push(`output ${name}: no successful export for ${Math.round((now - progress) / 1000)} s while records wait`);
        }
      }
    }
    let spool: SpoolHealth | undefined;
    if (this.spool !== undefined) {
      const { oldestReceivedAtMs, ...s } = this.spool();
      spool = { ...s, fill: Math.min(1, s.bytes / s.maxBytes), oldestAgeSeconds: oldestReceivedAtMs === undefined ? 0 : Math.max(0, Math.round((now - oldestReceivedAtMs) / 1000)) };
      if (s.bytes >= s.maxBytes) reasons.push(`spool full (${s.bytes} of ${s.maxBytes} bytes): senders are paused, UDP is dropped`);
    }
    if (this.state === 'starting') reasons.unshift('listeners are not bound yet');
    if (this.state === 'stopping') reasons.unshift('shutting down');
    const healthy = this.state === 'running' && reasons.length === 0;
    const status = this.state === 'starting' ? 'starting' : this.state === 'stopping' ? 'stopping' : healthy ? 'ok' : 'unhealthy';
    const inputs = this.inputs?.();
    return { healthy, status, reasons, outputs, ...(spool !== undefined ? { spool } : {}), ...(inputs !== undefined && Object.keys(inputs).length > 0 ? { inputs } : {}) };
  }
}

/**
 * Wraps an output so every export outcome reaches the health tracker. The wrapper keeps the
 * name and passes errors through untouched, so the pipeline's retry logic is unaffected.
 */
export function trackOutputHealth<T = FirewallLogRecord>(output: PipelineOutput<T>, health: HealthTracker): PipelineOutput<T> {
  health.addOutput(output.name);
  return {
    name: output.name,
    async export(records: T[]): Promise<void> {
      try {
        await output.export(records);
      } catch (err) {
        health.exportFailed(output.name, err);
        throw err;
      }
      health.exportSucceeded(output.name);
    },
    shutdown: () => output.shutdown(),
  };
}
