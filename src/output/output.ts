import type { FirewallLogRecord } from '../mapping/record.js';

/**
 * A destination for records (OTLP/HTTP, Fluent forward, console).
 *
 * `export()` resolves only when the far end has accepted the batch (HTTP 2xx, a
 * Fluent ack, a flushed write). It rejects when the batch could not be delivered
 * after the output's own retries; the pipeline then keeps the batch and retries it,
 * so nothing is thrown away while the queue has room.
 */
export interface Output {
  /** Stable name used in logs and metric labels, e.g. `otlp`, `fluent`, `console`. */
  readonly name: string;
  /** Deliver one batch. */
  export(records: FirewallLogRecord[]): Promise<void>;
  /** Flush and release resources. */
  shutdown(): Promise<void>;
}
