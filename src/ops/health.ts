import type { FirewallLogRecord } from '../mapping/record.js';
import type { PipelineOutput } from '../pipeline/pipeline.js';

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
}

/**
 * Tracks what `/healthz` reports. The service is healthy once every listener is bound, and
 * stays healthy unless an output fails `unhealthyAfterFailures` exports in a row, or records
 * have been queued for `unhealthyAfterStallMs` while some output delivered nothing in that
 * time (a hung endpoint that never errors). One success clears both conditions.
 */
export class HealthTracker {
  private state: 'starting' | 'running' | 'stopping' = 'starting';
  private readonly outputs = new Map<string, OutputHealth>();
  /** Last time the queue was seen empty: the stall clock starts when records start waiting. */
  private lastQueueEmptyAt: number;

  constructor(
    private policy: HealthPolicy,
    private readonly queueDepth: () => number = () => 0,
    private readonly now: () => number = Date.now,
  ) {
    this.lastQueueEmptyAt = now();
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
  }

  /** An export of `name` succeeded. */
  exportSucceeded(name: string): void {
    this.addOutput(name);
    const o = this.outputs.get(name)!;
    o.consecutiveFailures = 0;
    o.lastSuccessAt = this.now();
  }

  /** An export of `name` failed. */
  exportFailed(name: string, error: unknown): void {
    this.addOutput(name);
    const o = this.outputs.get(name)!;
    o.consecutiveFailures++;
    o.lastFailureAt = this.now();
    o.lastError = error instanceof Error ? error.message : String(error);
  }

  /** Samples the queue depth; call it periodically (the ops server does, once a second). */
  sample(): void {
    if (this.queueDepth() === 0) this.lastQueueEmptyAt = this.now();
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
    if (this.state === 'starting') reasons.unshift('listeners are not bound yet');
    if (this.state === 'stopping') reasons.unshift('shutting down');
    const healthy = this.state === 'running' && reasons.length === 0;
    const status = this.state === 'starting' ? 'starting' : this.state === 'stopping' ? 'stopping' : healthy ? 'ok' : 'unhealthy';
    return { healthy, status, reasons, outputs };
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
