import type { LogFields } from '../ops/logger.js';

/** One log level of an `InputLogger`. */
export type LogFn = (msg: string, fields?: LogFields) => void;

/**
 * Logs at most `burst` messages per `intervalMs`, for events a peer can cause at any rate
 * (refused connections, failed TLS handshakes, framing errors): the metric counts every
 * event, the log shows examples with their peer. Messages left out are counted and
 * reported (`suppressed`) with the next message logged.
 */
export class RateLimitedLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: LogFn,
    private readonly burst = 5,
    private readonly intervalMs = 10_000,
  ) {}

  /** Log `msg` unless this interval's burst is used up (then it is only counted). */
  write(msg: string, fields: LogFields): void {
    const now = Date.now();
    if (now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.burst) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    if (this.suppressed > 0) {
      this.log(msg, { ...fields, suppressed: this.suppressed, note: 'similar messages left out since the last one (counted in the metrics)' });
      this.suppressed = 0;
      return;
    }
    this.log(msg, fields);
  }
}
