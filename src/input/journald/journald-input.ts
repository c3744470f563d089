import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ReceiveContext } from '../../mapping/record.js';
import type { FrameSink } from '../../pipeline/frame-sink.js';
import { AckTracker } from '../ack-tracker.js';
import type { Input } from '../input.js';
import { inputLogger, type InputLogger } from '../input-deps.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { receiveTime } from '../receive-context.js';
import type { SourceInputDeps } from '../source-input.js';
import { CheckpointThrottle } from '../file/checkpoint-throttle.js';
import { ExportFormatParser, type JournalEntry } from './export-format.js';
import type { JournaldInputConfig } from './journald-input-config.js';
import { journalEntryToFrame } from './journal-entry.js';

/** The checkpoint of a `journald` input. */
export interface JournaldCheckpoint {
  version: 1;
  /** `__CURSOR` of the last entry every output acknowledged. */
  cursor: string;
}

/** `input.type` of journald records (Elastic's value). */
const INPUT_TYPE = 'journald';
/** stderr kept from journalctl for the log line when it exits, bytes. */
const STDERR_KEEP = 2048;
/** A journalctl that ran this long before exiting starts again after the first delay, not a longer one. */
const STABLE_RUN_MS = 30_000;

/** The journalctl arguments for `config`, resuming after `cursor` when there is one. */
export function journalctlArgs(config: JournaldInputConfig, cursor: string | undefined): string[] {
  const args = ['--follow', '--output=export', '--no-pager', '--quiet'];
  for (const d of config.directories) args.push(`--directory=${d}`);
  for (const f of config.files) args.push(`--file=${f}`);
  for (const u of config.units) args.push(`--unit=${u}`);
  // --follow implies --lines=10, which also applies after a cursor (only the last 10 entries after it
  // would be shown): --no-tail lifts it.
  if (cursor !== undefined) args.push('--no-tail', `--after-cursor=${cursor}`);
  else if (config.startAt === 'beginning') args.push('--no-tail');
  else args.push('--lines=0');
  // Matches last: journalctl takes them as positional arguments.
  args.push(...config.matches);
  return args;
}

/**
 * The `journald` input: runs `journalctl --follow --output=export` (the export format keeps binary
 * fields exact and has no size cap per field, unlike `--output=json`, which turns fields over 4 KiB
 * into null and binary ones into arrays of numbers) and hands each entry on as an RFC 5424 frame.
 *
 * - Checkpoint: the `__CURSOR` of the last entry every output acknowledged, written atomically on
 *   each advance; after a restart journalctl starts `--after-cursor` it.
 * - journalctl missing, failing or exiting: logged with its stderr and the restart count, started
 *   again after a delay that doubles from `restartDelayMs` to `maxRestartDelayMs`, resuming after the
 *   last entry handed over (not re-reading what is in flight).
 * - Backpressure: journalctl's stdout is paused while the sink refuses or `maxInFlight` entries
 *   wait for acknowledgement; the pipe then fills and journalctl blocks. Memory: one entry being
 *   parsed (at most `maxEntrySize`) and the marks of unacknowledged entries.
 */
export class JournaldInput implements Input {
  readonly name: string;
  readonly config: JournaldInputConfig;
  private readonly deps: SourceInputDeps;
  private readonly frameSink: FrameSink;
  private readonly log: InputLogger;
  private readonly errorLog: RateLimitedLog;
  private readonly tracker: AckTracker<string>;
  private readonly received;
  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private started = false;
  /** Cursor of the last entry handed over (where a restarted journalctl resumes). */
  private offeredCursor: string | undefined;
  /** Cursor of the last acknowledged entry (the checkpoint). */
  private ackedCursor: string | undefined;
  private waitingDrain = false;
  private pausedInFlight = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private startedAtMs = 0;
  private stderrTail = '';
  private readonly one: Buffer[] = [];
  private readonly throttle: CheckpointThrottle;
  /** journalctl starts after the first (tests, status). */
  restarts = 0;
  /** Entries dropped (no MESSAGE, oversize, malformed). */
  droppedEntries = 0;
  /** Why journalctl last stopped or failed to start. */
  private lastError: string | undefined;

  constructor(config: JournaldInputConfig, deps: SourceInputDeps) {
    if (deps.frameSink === undefined) throw new Error(`${config.name}: the journald input needs the threaded pipeline (pipeline.threads >= 1)`);
    this.name = config.name;
    this.config = config;
    this.deps = deps;
    this.frameSink = deps.frameSink;
    this.log = inputLogger(deps);
    this.errorLog = new RateLimitedLog((m, f) => this.log.warn(m, f));
    this.tracker = new AckTracker<string>(config.name, (cursor) => this.advanced(cursor));
    this.received = deps.metrics.received.labels(config.name);
    this.delayMs = config.restartDelayMs;
    this.throttle = new CheckpointThrottle(() => this.saveCheckpoint(), config.checkpointIntervalMs);
  }

  /**
   * Read the checkpoint and start journalctl. Resolves once it is running; when it cannot be
   * started (not installed) that is logged and retried with backoff, and start() still resolves:
   * the service runs its other inputs meanwhile.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.deps.acks.register(this.tracker as AckTracker<unknown>);
    const saved = this.deps.checkpoints.read<JournaldCheckpoint>(this.name);
    if (saved?.version === 1 && typeof saved.cursor === 'string' && saved.cursor !== '') {
      this.ackedCursor = saved.cursor;
      this.offeredCursor = saved.cursor;
    }
    await this.spawnJournalctl();
  }

  /** Stop journalctl. Entries in flight stay tracked: later acknowledgements still move the checkpoint. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.stopping = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.stdout.resume();
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.kill('SIGTERM');
      await this.exited;
      clearTimeout(kill);
    }
    this.throttle.flush();
    this.saveCheckpoint();
    await this.deps.checkpoints.idle();
  }

  /** Not a listener. */
  address(): undefined {
    return undefined;
  }

  /** What `/healthz` shows: the checkpoint cursor, journalctl's state, restarts, unacknowledged entries. */
  health(): Record<string, unknown> {
    return {
      type: 'journald',
      journalctl: this.child !== undefined ? 'running' : 'not running',
      ...(this.ackedCursor !== undefined ? { checkpointCursor: this.ackedCursor } : {}),
      restarts: this.restarts,
      unacknowledged: this.tracker.outstanding,
      paused: this.waitingDrain ? 'pipeline' : this.pausedInFlight ? 'acks' : false,
      droppedEntries: this.droppedEntries,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Entries handed over and not yet acknowledged. */
  get outstanding(): number {
    return this.tracker.outstanding;
  }

  /** The cursor of the last acknowledged entry. */
  get checkpointCursor(): string | undefined {
    return this.ackedCursor;
  }

  private spawnJournalctl(): Promise<void> {
    const args = journalctlArgs(this.config, this.offeredCursor);
    this.stderrTail = '';
    this.startedAtMs = Date.now();
    const parser = new ExportFormatParser({
      maxEntrySize: this.config.maxEntrySize,
      onEntry: (e) => this.entry(e),
      onError: (e) => {
        this.droppedEntries++;
        this.deps.metrics.dropped.inc({ reason: e.reason === 'oversize' ? 'journal_entry_too_large' : 'journal_entry_malformed' });
        this.errorLog.write(`journal entry skipped: ${e.message}`, { input: this.name, reason: e.reason });
        if (e.cursor !== undefined) this.skipTo(e.cursor);
      },
    });
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(this.config.journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.failed(`cannot run ${this.config.journalctl}: ${(err as Error).message}`);
      return Promise.resolve();
    }
    this.child = child;
    let resolveExit!: () => void;
    this.exited = new Promise((r) => (resolveExit = r));
    child.stdout.on('data', (chunk: Buffer) => parser.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    let spawnFailed = false;
    return new Promise<void>((resolve) => {
      let settled = false;
      child.once('spawn', () => {
        settled = true;
        this.log.info('journalctl started', { input: this.name, args: args.join(' ') });
        resolve();
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'ENOENT'
            ? `${this.config.journalctl} not found: the journald input needs journalctl (Debian package systemd) on PATH or its path in "journalctl"`
            : `cannot run ${this.config.journalctl}: ${err.message}`;
        if (child.pid === undefined) {
          // It never ran: this is the failure; the 'close' that follows (code -2) must not be a second one.
          spawnFailed = true;
          resolveExit();
          this.child = undefined;
          this.failed(why);
        } else this.log.error(why, { input: this.name });
        if (!settled) resolve();
      });
      child.once('close', (code, signal) => {
        parser.end();
        resolveExit();
        if (this.child === child) this.child = undefined;
        if (this.stopping || spawnFailed) return;
        const stderr = this.stderrTail.trim();
        const hint = /insufficient permissions|Permission denied|No journal files were opened/i.test(stderr)
          ? ' (reading the journal needs membership of group systemd-journal, or root)'
          : '';
        this.failed(`journalctl exited with ${code ?? signal}${hint}${stderr ? `: ${stderr}` : ''}`);
      });
    });
  }

  /** journalctl is not running: log it, then start it again after the current delay. */
  private failed(why: string): void {
    if (this.stopping) return;
    this.lastError = why;
    if (Date.now() - this.startedAtMs > STABLE_RUN_MS) this.delayMs = this.config.restartDelayMs;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.config.maxRestartDelayMs);
    this.log.error(`${why}; restarting it in ${delay} ms`, { input: this.name, restarts: this.restarts });
    this.deps.metrics.inputRestarts.inc({ input: this.name });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      void this.spawnJournalctl();
    }, delay);
    this.restartTimer.unref();
  }

  private entry(entry: JournalEntry): void {
    const mapped = journalEntryToFrame(entry);
    if (mapped === undefined) {
      this.droppedEntries++;
      this.deps.metrics.dropped.inc({ reason: 'journal_entry_without_message' });
      const c = entry.get('__CURSOR');
      if (c !== undefined) this.skipTo(c.toString('utf8'));
      return;
    }
    const cursor = mapped.cursor;
    if (cursor !== undefined) this.offeredCursor = cursor;
    const attributes: Record<string, string> = { 'input.type': INPUT_TYPE };
    if (mapped.bootId !== undefined) attributes['journald.host.boot_id'] = mapped.bootId;
    if (mapped.transport !== undefined) attributes['systemd.transport'] = mapped.transport;
    if (mapped.machineId !== undefined) attributes['host.id'] = mapped.machineId;
    const ctx: ReceiveContext = {
      receivedAt: receiveTime(),
      source: this.tracker.track(1, cursor ?? this.offeredCursor ?? ''),
      attributes,
    };
    this.one[0] = mapped.frame;
    this.received.inc();
    const more = this.frameSink.offerFrames(this.one, ctx);
    this.one.length = 0;
    if (!more && !this.waitingDrain) {
      this.waitingDrain = true;
      this.pause();
      this.frameSink.onDrain(() => {
        this.waitingDrain = false;
        this.maybeResume();
      });
    }
    if (this.tracker.outstanding >= this.config.maxInFlight && !this.pausedInFlight) {
      this.pausedInFlight = true;
      this.pause();
    }
  }

  /** An entry that became no record still moves the cursor, once the entries before it are acknowledged. */
  private skipTo(cursor: string): void {
    this.offeredCursor = cursor;
    // A mark of 0 frames: the tracker passes over it with the next advance.
    this.tracker.track(0, cursor);
  }

  private pause(): void {
    this.child?.stdout.pause();
  }

  private maybeResume(): void {
    if (this.waitingDrain || this.pausedInFlight) return;
    this.child?.stdout.resume();
  }

  private advanced(cursor: string): void {
    if (cursor === '' || cursor === this.ackedCursor) return;
    this.ackedCursor = cursor;
    this.throttle.request();
    if (this.pausedInFlight && this.tracker.outstanding < this.config.maxInFlight) {
      this.pausedInFlight = false;
      this.maybeResume();
    }
  }

  private saveCheckpoint(): void {
    if (this.ackedCursor === undefined) return;
    // Written off the event loop, one write at a time, the newest value winning (CheckpointStore.save).
    this.deps.checkpoints.save(this.name, { version: 1, cursor: this.ackedCursor } satisfies JournaldCheckpoint);
  }
}
