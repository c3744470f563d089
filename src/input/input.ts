import type { FirewallLogRecord, ReceiveContext } from '../mapping/record.js';

/**
 * Turns one frame into one record. Always returns a record: a frame that cannot be
 * parsed becomes a record with the original text and `error.*` attributes.
 * The service passes the configured parser (`parseFrame` bound to its options).
 */
export type FrameDecoder = (frame: Buffer, ctx: ReceiveContext) => FirewallLogRecord;

/** A listener (UDP, TCP or TLS). Created by `createInput()` from its config. */
export interface Input {
  /** Stable name used in logs and metric labels, e.g. `tcp://127.0.0.1:9001`. */
  readonly name: string;
  /** Bind the socket. Resolves once the listener accepts traffic; rejects on bind errors. */
  start(): Promise<void>;
  /**
   * Stop accepting, then drain: keep reading what senders already sent (and the kernel
   * holds) until each goes quiet or the input's `drainTimeoutMs` passes, flush the framers
   * (a final unterminated frame is emitted), close every socket. Resolves when closed.
   */
  stop(): Promise<void>;
  /** The bound address (useful with port 0 in tests). */
  address(): { address: string; port: number } | undefined;
  /** What `/healthz` shows of this input (local sources: position, unacknowledged records, faults); optional. */
  health?(): Record<string, unknown>;
}
