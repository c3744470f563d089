/**
 * Delivery of a batch that the far end may refuse as too large (HTTP 413): the batch is sent
 * whole; a part refused as too large is replaced by its two halves, down to one record; a
 * record refused alone is dropped (`export_too_large`) and the rest still delivered.
 *
 * Why progress is remembered per batch: the pipeline retries a failed batch by calling
 * `export()` again with the same array. When a transient failure (connection refused) hits
 * after some parts were delivered, the retry resumes with the parts still owed instead of
 * sending the delivered ones a second time, so every record arrives once.
 */
import { PartialExportError } from './export-error.js';
import { formatExportFailure, NOT_RETRIED, type ExportFailureParts } from './export-failure.js';

/** Why a part failed, as the splitter needs it. */
export interface PartFailure {
  /** HTTP 413: halve the part (or drop it, when it is one record). */
  tooLarge: boolean;
  /** The error to hand to the pipeline when the failure ends this attempt (retryable or not). */
  error: Error;
  /** True when the pipeline retries `error`; false for a rejection (HTTP 400). */
  retryable: boolean;
  /** Cause, endpoint and response of the failure, for the text of a partial drop. */
  parts: Omit<ExportFailureParts, 'retry'>;
  /** Bytes of the refused request, when known. */
  requestBytes?: number;
}

/** Sends one part; resolves undefined when delivered. */
export type SendPart<T> = (part: T[]) => Promise<PartFailure | undefined>;

/** Dropped-record reason for a record the far end refuses as too large even alone. */
export const TOO_LARGE_REASON = 'export_too_large';
/** Dropped-record reason for a part refused (HTTP 400) after the batch was split. */
export const REJECTED_REASON = 'export_rejected';

interface Progress {
  /** [start, end) ranges of the batch still owed, in order. */
  ranges: Array<[number, number]>;
  drops: Record<string, number>;
  /** The failure that dropped records last, for the text. */
  last: PartFailure | undefined;
  /** Largest single-record request refused as too large. */
  largestRefused: number | undefined;
}

/** Sends batches through `sendPart`, splitting on "too large" (see the file comment). */
export class SplittingSender<T> {
  private readonly progress = new WeakMap<readonly T[], Progress>();

  constructor(private readonly sendPart: SendPart<T>) {}

  /**
   * Deliver `batch`. Resolves when every record was delivered; rejects with `PartialExportError`
   * (not retryable) when some were dropped and the rest delivered, with the part's own error
   * when a part failed otherwise (retryable: the next call with the same array resumes).
   */
  async deliver(batch: T[]): Promise<void> {
    const p = this.progress.get(batch) ?? { ranges: [[0, batch.length]], drops: {}, last: undefined, largestRefused: undefined };
    this.progress.delete(batch);
    while (p.ranges.length > 0) {
      const [start, end] = p.ranges[0] as [number, number];
      const whole = start === 0 && end === batch.length;
      const failure = await this.sendPart(whole ? batch : batch.slice(start, end));
      if (failure === undefined) {
        p.ranges.shift();
        continue;
      }
      if (failure.tooLarge && end - start > 1) {
        const mid = start + Math.floor((end - start) / 2);
        p.ranges.splice(0, 1, [start, mid], [mid, end]);
        continue;
      }
      if (failure.tooLarge || (!failure.retryable && !whole)) {
        const reason = failure.tooLarge ? TOO_LARGE_REASON : REJECTED_REASON;
        p.drops[reason] = (p.drops[reason] ?? 0) + (end - start);
        p.last = failure;
        if (failure.tooLarge && failure.requestBytes !== undefined) p.largestRefused = Math.max(p.largestRefused ?? 0, failure.requestBytes);
        p.ranges.shift();
        continue;
      }
      // Retryable: keep what is still owed for the pipeline's next attempt. A rejection of the
      // whole batch: the pipeline drops and counts all of it.
      if (failure.retryable) this.progress.set(batch, p);
      else if (Object.keys(p.drops).length > 0) throw partial(p, batch.length);
      throw failure.error;
    }
    if (p.last !== undefined) throw partial(p, batch.length);
  }
}

function partial(p: Progress, total: number): PartialExportError {
  const last = p.last as PartFailure;
  const dropped = Object.values(p.drops).reduce((a, b) => a + b, 0);
  const reasons = Object.entries(p.drops)
    .map(([r, n]) => `${r}: ${n}`)
    .join(', ');
  const size = p.largestRefused !== undefined ? `, refused alone at ${p.largestRefused} bytes` : '';
  const retry = `${NOT_RETRIED}, ${dropped} of ${total} records dropped (${reasons}${size}), the rest delivered`;
  return new PartialExportError(formatExportFailure({ ...last.parts, retry }), { ...p.drops }, { cause: last.error });
}
