import type { ReceiveContext } from '../mapping/record.js';
import type { AckTracker } from './ack-tracker.js';

/**
 * Routes the pipeline's acknowledgements (`ThreadedPipeline.onAcknowledged`) to the source
 * input that owns each context, by the input name on `ctx.source`.
 */
export class AckRouter {
  private readonly trackers = new Map<string, AckTracker<unknown>>();

  /** Acknowledgements for contexts marked with `tracker.input` go to `tracker` from now on. */
  register(tracker: AckTracker<unknown>): void {
    this.trackers.set(tracker.input, tracker);
  }

  /** Stop routing to `tracker` (its input stopped); only if it is still the one registered. */
  unregister(tracker: AckTracker<unknown>): void {
    if (this.trackers.get(tracker.input) === tracker) this.trackers.delete(tracker.input);
  }

  /** One batch acknowledged: `frames[i]` frames of it were received with `ctxs[i]`. */
  acknowledged(ctxs: readonly ReceiveContext[], frames: readonly number[]): void {
    if (this.trackers.size === 0) return;
    // One report per tracker and batch: a checkpoint per batch, not per line.
    let last: AckTracker<unknown> | undefined;
    let touched: Set<AckTracker<unknown>> | undefined;
    for (let i = 0; i < ctxs.length; i++) {
      const s = ctxs[i]!.source;
      if (s === undefined) continue;
      const t = last?.input === s.input ? last : this.trackers.get(s.input);
      if (t === undefined) continue;
      t.acknowledged(s.id, frames[i] ?? 0, false);
      if (t !== last) {
        if (last !== undefined) (touched ??= new Set()).add(last);
        last = t;
      }
    }
    touched?.forEach((t) => t !== last && t.reportAdvance());
    last?.reportAdvance();
  }
}
