import type { Metrics } from '../ops/metrics.js';
import type { ConfigIssue } from '../pipeline/pipeline-config.js';

/**
 * One budget for the bytes that framers hold in partial (not yet terminated) frames, across
 * every connection of every TCP/TLS input. The pipeline queue bounds what was framed; this
 * bounds what was read but not framed yet: without it, 9,000 connections that each send
 * 65,000 bytes without a newline hold 585 MB.
 *
 * How it stays bounded and cannot deadlock:
 * - Above `maxBytes`, a connection whose partial frame grows is paused (it stops reading,
 *   TCP pushes back on its sender). Connections holding no partial keep reading: a
 *   sender of complete lines is not slowed by someone else's half line.
 * - Paused connections resume when the total falls to 3/4 of `maxBytes`.
 * - Above twice `maxBytes` (many connections starting a partial at once), or when
 *   connections have been paused for `stallMs` without a single partial byte released (the
 *   holders' senders went quiet: nothing would ever release memory), the oldest partial
 *   frames are cut: a delimited framer emits what it holds as a frame, an octet-counted one
 *   drops it; each cut is a framing error `partial_budget`. The oldest are chosen because a
 *   frame that has been incomplete the longest is the likeliest to be stuck, while the
 *   newest are lines split across two reads that complete on the next one.
 * So the total never exceeds 2 × `maxBytes` + one frame, and a paused connection waits at
 * most about `stallMs`.
 */
export interface PartialFrameBudgetConfig {
  /** Bytes all stream connections together may hold in partial frames. Default 8 MiB (so at most 16 MiB: see above); 0 = no budget. */
  maxBytes: number;
  /** Paused connections with no partial byte released for this long: cut the oldest partials, ms. Default 1000. */
  stallMs: number;
}

/** Defaults of the partial-frame budget. */
export const PARTIAL_FRAME_BUDGET_DEFAULTS: Readonly<PartialFrameBudgetConfig> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  stallMs: 1000,
});

/** Fill in the defaults. */
export function resolvePartialFrameBudgetConfig(partial: Partial<PartialFrameBudgetConfig> = {}): PartialFrameBudgetConfig {
  return { ...PARTIAL_FRAME_BUDGET_DEFAULTS, ...partial };
}

/** Check a budget config; one issue per bad key, named with `prefix`. */
export function validatePartialFrameBudgetConfig(config: PartialFrameBudgetConfig, prefix = 'partialFrames'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const k = (name: string): string => (prefix === '' ? name : `${prefix}.${name}`);
  if (!Number.isInteger(config.maxBytes) || config.maxBytes < 0) {
    issues.push({ key: k('maxBytes'), message: `must be an integer >= 0 (got ${JSON.stringify(config.maxBytes)})` });
  }
  if (!Number.isInteger(config.stallMs) || config.stallMs < 1) {
    issues.push({ key: k('stallMs'), message: `must be an integer >= 1 (got ${JSON.stringify(config.stallMs)})` });
  }
  return issues;
}

/** A connection as the budget sees it; implemented by the stream inputs. */
export interface PartialFrameHolder {
  /** Stop reading: the budget is exceeded and this connection's partial frame grew. */
  pauseForBudget(): void;
  /** Read again (the budget has room, or this connection's partial was cut). */
  resumeFromBudget(): void;
  /**
   * Give up the partial frame now: flush the framer (the frame is emitted or reported) and
   * count a `partial_budget` framing error. The budget has already forgotten the bytes.
   */
  cutPartial(): void;
}

/** The budget shared by the stream inputs; see `PartialFrameBudgetConfig`. */
export class PartialFrameBudget {
  /** The limits in force (see `reconfigure`). */
  config: PartialFrameBudgetConfig;
  /** Bytes per holder; Map order is the order partials began in (oldest first). */
  private readonly held = new Map<PartialFrameHolder, number>();
  private readonly paused = new Set<PartialFrameHolder>();
  private heldBytes = 0;
  /** Partial bytes released (frames completed) since the last stall check. */
  private released = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly gauge;

  constructor(config: PartialFrameBudgetConfig, metrics: Metrics) {
    this.config = config;
    this.gauge = metrics.partialFrameBytes;
    this.gauge.set(0);
  }

  /** New limits (a config reload): they apply from the next read on; what is held stays. */
  reconfigure(config: PartialFrameBudgetConfig): void {
    this.config = config;
    if (this.stallTimer !== undefined) {
      clearInterval(this.stallTimer);
      this.stallTimer = setInterval(() => this.checkStall(), config.stallMs).unref();
    }
  }

  /** Bytes held in partial frames now. */
  get total(): number {
    return this.heldBytes;
  }

  /** Connections paused by the budget now. */
  get pausedCount(): number {
    return this.paused.size;
  }

  /** Report how many bytes `holder`'s framer holds after a read (call only when it changed). */
  update(holder: PartialFrameHolder, bytes: number): void {
    const prev = this.held.get(holder) ?? 0;
    if (bytes === prev) return;
    if (bytes === 0) this.held.delete(holder);
    else this.held.set(holder, bytes); // an existing key keeps its place: age is when the partial began
    this.heldBytes += bytes - prev;
    this.gauge.set(this.heldBytes);
    const max = this.config.maxBytes;
    if (max === 0) return;
    if (bytes < prev) {
      this.released += prev - bytes;
      if (this.paused.size > 0 && this.heldBytes <= this.resumeMark) this.resumeAll();
      return;
    }
    if (this.heldBytes > 2 * max) {
      this.cutOldest(max);
      return;
    }
    if (this.heldBytes > max && !this.paused.has(holder)) {
      this.paused.add(holder);
      holder.pauseForBudget();
      this.stallTimer ??= setInterval(() => this.checkStall(), this.config.stallMs).unref();
    }
  }

  /** Forget `holder` (its connection closed). */
  release(holder: PartialFrameHolder): void {
    this.paused.delete(holder);
    this.update(holder, 0);
  }

  /** Stop the stall timer (the inputs are gone). */
  stop(): void {
    if (this.stallTimer !== undefined) clearInterval(this.stallTimer);
    this.stallTimer = undefined;
  }

  private get resumeMark(): number {
    return Math.floor((this.config.maxBytes * 3) / 4);
  }

  private checkStall(): void {
    if (this.paused.size === 0) {
      this.stop();
      return;
    }
    // Some partial completed since the last check: memory is being released, keep waiting.
    if (this.released === 0) this.cutOldest(this.resumeMark);
    this.released = 0;
    if (this.heldBytes <= this.resumeMark) this.resumeAll();
  }

  /** Cut the oldest partials until at most `target` bytes are held. */
  private cutOldest(target: number): void {
    const victims: PartialFrameHolder[] = [];
    for (const [holder, bytes] of this.held) {
      if (this.heldBytes <= target) break;
      this.held.delete(holder);
      this.heldBytes -= bytes;
      victims.push(holder);
    }
    this.gauge.set(this.heldBytes);
    for (const holder of victims) {
      holder.cutPartial();
      if (this.paused.delete(holder)) holder.resumeFromBudget();
    }
    if (this.paused.size > 0 && this.heldBytes <= this.resumeMark) this.resumeAll();
  }

  private resumeAll(): void {
    const resumed = [...this.paused];
    this.paused.clear();
    for (const holder of resumed) holder.resumeFromBudget();
  }
}

/** Create a budget from a validated config. */
export function createPartialFrameBudget(config: Partial<PartialFrameBudgetConfig>, metrics: Metrics): PartialFrameBudget {
  return new PartialFrameBudget(resolvePartialFrameBudgetConfig(config), metrics);
}

const shared = new WeakMap<Metrics, PartialFrameBudget>();

/**
 * The default budget of every input that reports to `metrics`: the inputs of one service
 * share one registry, hence one budget, when the service passes none of its own.
 */
export function sharedPartialFrameBudget(metrics: Metrics): PartialFrameBudget {
  let budget = shared.get(metrics);
  if (budget === undefined) {
    budget = createPartialFrameBudget({}, metrics);
    shared.set(metrics, budget);
  }
  return budget;
}
