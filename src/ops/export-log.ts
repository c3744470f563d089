/**
 * The log lines about export outcomes, per output, rate-limited: the first failure at once,
 * then at most one line per `intervalMs` with the count of failures since the last line, and
 * one info line when the output recovers (first success after failures) with how long it was
 * down and how many exports failed.
 *
 * Why here, on the main thread: with worker threads every worker has its own outputs, so a
 * collector that is down fails in every worker at once. The workers report each outcome as a
 * health event, the `HealthTracker` passes them here, and one limiter per output covers all of
 * them. What a line says comes from the failure's text (src/output/export-failure.ts), which
 * the outputs build without credentials.
 *
 * Two kinds of failure are limited apart, so one cannot hide the other:
 * - retried ones (the batch is kept): the outage. `warn`, or `error` for an HTTP 4xx, which is
 *   a configuration problem (credentials, path) that will not go away by itself.
 * - given-up ones (records were dropped: HTTP 400, a record too large): `error`. They do not
 *   make the output "down" (the next batch may well pass).
 */
import { describeExportFailure, type ExportFailureInfo } from '../output/export-failure.js';
import type { LogFields, Logger } from './logger.js';

/** Default: one line per output and kind per minute. */
export const EXPORT_LOG_INTERVAL_MS = 60_000;

/** Options of `ExportLog`. */
export interface ExportLogOptions {
  /** Most one line per output and kind per this many ms (default `EXPORT_LOG_INTERVAL_MS`). */
  intervalMs?: number;
  now?: () => number;
}

interface Limiter {
  /** When the last line was written. */
  lastLineAt: number | undefined;
  /** Failures since then. */
  pending: number;
  /** The newest of them. */
  last: ExportFailureInfo | undefined;
}

interface OutputLogState {
  outage: Limiter;
  drops: Limiter;
  /** Set while retried failures have not been followed by a success. */
  downSince: number | undefined;
  failuresInOutage: number;
  /** A warn/error line was written during this outage, so its end is worth a line too. */
  outageLogged: boolean;
}

function limiter(): Limiter {
  return { lastLineAt: undefined, pending: 0, last: undefined };
}

/** Rate-limited log of export failures and recoveries (see the file comment). */
export class ExportLog {
  private readonly outputs = new Map<string, OutputLogState>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: Logger,
    options: ExportLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? EXPORT_LOG_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  /** An export of `output` failed with `error` (an Error, or the text a worker sent). */
  failed(output: string, error: unknown): void {
    const info = describeExportFailure(error);
    const s = this.state(output);
    const now = this.now();
    if (!info.retrying) {
      this.count(s.drops, info);
      if (this.due(s.drops, now)) this.writeDrops(output, s.drops, now);
      return;
    }
    if (s.downSince === undefined) {
      s.downSince = now;
      s.failuresInOutage = 0;
      s.outageLogged = false;
    }
    s.failuresInOutage++;
    this.count(s.outage, info);
    if (this.due(s.outage, now)) this.writeOutage(output, s, now);
  }

  /** An export of `output` succeeded: ends an outage (one info line if the outage was logged). */
  succeeded(output: string): void {
    const s = this.outputs.get(output);
    if (s === undefined || s.downSince === undefined) return;
    const now = this.now();
    const downForMs = now - s.downSince;
    if (s.outageLogged) {
      // Every failure of a logged outage is in this line's total: none is left to report.
      s.outage.pending = 0;
      this.logger.info(`output ${output}: exports succeed again`, {
        output,
        downForMs,
        downFor: `${(downForMs / 1000).toFixed(1)} s`,
        failures: s.failuresInOutage,
        lastError: s.outage.last?.summary,
      });
    }
    s.downSince = undefined;
    s.failuresInOutage = 0;
    s.outageLogged = false;
  }

  /**
   * Writes the lines held back by the rate limit once their interval is over, so a count is
   * reported even when no further failure comes (called periodically, with `HealthTracker.sample`).
   */
  flush(): void {
    const now = this.now();
    for (const [output, s] of this.outputs) {
      if (s.outage.pending > 0 && s.downSince !== undefined && this.due(s.outage, now)) this.writeOutage(output, s, now);
      if (s.drops.pending > 0 && this.due(s.drops, now)) this.writeDrops(output, s.drops, now);
    }
  }

  /** Forgets an output (removed on reload). */
  forget(output: string): void {
    this.outputs.delete(output);
  }

  private state(output: string): OutputLogState {
    let s = this.outputs.get(output);
    if (s === undefined) {
      s = { outage: limiter(), drops: limiter(), downSince: undefined, failuresInOutage: 0, outageLogged: false };
      this.outputs.set(output, s);
    }
    return s;
  }

  private count(l: Limiter, info: ExportFailureInfo): void {
    l.pending++;
    l.last = info;
  }

  private due(l: Limiter, now: number): boolean {
    return l.lastLineAt === undefined || now - l.lastLineAt >= this.intervalMs;
  }

  private writeOutage(output: string, s: OutputLogState, now: number): void {
    const l = s.outage;
    const info = l.last as ExportFailureInfo;
    const first = !s.outageLogged && s.failuresInOutage === l.pending;
    const fields: LogFields = {
      output,
      ...failureFields(info),
      failures: l.pending,
      ...(first ? {} : { failuresInOutage: s.failuresInOutage, downForMs: now - (s.downSince ?? now) }),
    };
    const msg = first ? `output ${output}: export failed; retrying with backoff` : `output ${output}: exports still failing; retrying with backoff`;
    if (info.status !== undefined && info.status >= 400 && info.status < 500) this.logger.error(msg, fields);
    else this.logger.warn(msg, fields);
    l.lastLineAt = now;
    l.pending = 0;
    s.outageLogged = true;
  }

  private writeDrops(output: string, l: Limiter, now: number): void {
    const info = l.last as ExportFailureInfo;
    this.logger.error(`output ${output}: export refused, records dropped`, { output, ...failureFields(info), failures: l.pending });
    l.lastLineAt = now;
    l.pending = 0;
  }
}

/** The fields every failure line has: where, what (status or code), the retry state, the body. */
function failureFields(info: ExportFailureInfo): LogFields {
  return {
    ...(info.endpoint !== undefined ? { endpoint: info.endpoint } : {}),
    ...(info.status !== undefined ? { status: info.status } : {}),
    ...(info.code !== undefined ? { code: info.code } : {}),
    retrying: info.retrying,
    error: info.summary,
    ...(info.response !== undefined ? { response: info.response } : {}),
  };
}
