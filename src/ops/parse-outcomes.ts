import type { FirewallLogRecord } from '../mapping/record.js';
import type { Metrics } from './metrics.js';

/**
 * Parse outcomes counted in plain numbers on the hot path and moved to prom-client in
 * bulk (a labelled `inc()` per record would cost more than some parse steps).
 * `partial`: the record kept what parsed and lists the rest in `iptables.unparsed`;
 * `failed`: it carries `error.type` (and the original text).
 */
export class ParseOutcomeCounter {
  private ok = 0;
  private partial = 0;
  private failed = 0;

  /** Count one record by its outcome. */
  count(record: FirewallLogRecord): void {
    const a = record.attributes;
    if (a['error.type'] !== undefined) this.failed++;
    else if (a['iptables.unparsed'] !== undefined) this.partial++;
    else this.ok++;
  }

  /** Count outcomes reported by the direct encoder (`ParseOutcome`: 0 ok, 1 partial, 2 failed). */
  countOutcome(outcome: 0 | 1 | 2): void {
    if (outcome === 0) this.ok++;
    else if (outcome === 1) this.partial++;
    else this.failed++;
  }

  /** Add the counts since the last flush to `metrics.parsed` / `parseFailures`, and reset. */
  flushTo(metrics: Metrics): void {
    if (this.ok > 0) metrics.parsed.inc({ outcome: 'ok' }, this.ok);
    if (this.partial > 0) metrics.parsed.inc({ outcome: 'partial' }, this.partial);
    if (this.failed > 0) {
      metrics.parsed.inc({ outcome: 'failed' }, this.failed);
      metrics.parseFailures.inc(this.failed);
    }
    this.ok = this.partial = this.failed = 0;
  }
}
