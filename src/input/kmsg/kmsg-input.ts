import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { hostname } from 'node:os';
import { findInKey } from '../../netfilter/scan-netfilter.js';
import type { ReceiveContext } from '../../mapping/record.js';
import { receiveTime } from '../receive-context.js';
import { AckTracker } from '../ack-tracker.js';
import type { Input } from '../input.js';
import { inputLogger, type InputLogger } from '../input-deps.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import type { SourceInputDeps } from '../source-input.js';
import type { KmsgInputConfig } from './kmsg-config.js';
import { parseKmsgRecord, type KmsgRecord } from './kmsg-record.js';

/** What the checkpoint file of a kmsg input holds. */
export interface KmsgCheckpoint {
  /** `/proc/sys/kernel/random/boot_id` when it was written: sequence numbers restart at each boot. */
  bootId: string;
  /** The last sequence number every output has acknowledged (or that was counted and given up). */
  seq: number;
}

/** Where the kernel publishes the id of the running boot. */
export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

/** One read returns one record; the kernel's records are at most 8 KiB of text plus the dictionary. */
const READ_BUFFER_BYTES = 64 * 1024;
/** Records read per turn of the event loop before yielding to the rest of the service. */
const RECORDS_PER_TURN = 256;

/** A position after one record: its sequence number. */
interface KmsgPosition {
  seq: number;
}

/** The id of the running boot. */
export function readBootId(file = BOOT_ID_FILE): string {
  return readFileSync(file, 'utf8').trim();
}

/**
 * Reads netfilter lines straight from the kernel log ring (`/dev/kmsg`).
 *
 * The device is opened non-blocking and read with `readSync` on the main thread: each read
 * returns one record at once or EAGAIN, and at EAGAIN the input looks again after
 * `pollIntervalMs`. (A blocking read would park a libuv threadpool thread in the kernel until
 * the next record, and could not be cancelled on stop.)
 *
 * Each netfilter record becomes one RFC 5424 frame `<PRI>1 TIMESTAMP HOST kernel - SEQ - MSG`
 * for the ordinary parser: the kernel's priority, its timestamp in wall time with microseconds,
 * MSGID = sequence number (as syslog-ng writes it). The context adds `input.type` and the
 * kernel's monotonic stamp (`iptables.kernel_uptime_us`) and carries the acknowledgement mark.
 *
 * The checkpoint (boot id + last acknowledged sequence number) advances only on the outputs'
 * acknowledgements (`AckTracker`); other kernel lines are counted (`skipped{reason="not_netfilter"}`)
 * and not checkpointed (after a restart they are read and skipped again). Sequence numbers the
 * kernel overwrote before they were read (EPIPE, or a gap after a restart) are counted as
 * `dropped{reason="kmsg_overrun"}` and logged.
 */
export class KmsgInput implements Input {
  readonly name: string;
  private fd: number | undefined;
  private readonly buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly tracker: AckTracker<KmsgPosition>;
  private readonly log: InputLogger;
  private readonly overrunLog: RateLimitedLog;
  private readonly readErrorLog: RateLimitedLog;
  private readonly host: string;
  private bootId = '';
  /** Records with a sequence number up to this one were delivered by an earlier run of this boot. */
  private resumeAfter = -1;
  /** The sequence number the next record should have; undefined before the first. */
  private expectedSeq: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Why reading is paused: the pipeline is full, or too many records are unacknowledged. */
  private paused: 'sink' | 'acks' | undefined;
  private stopped = false;
  /** Microseconds to add to the kernel's monotonic stamp for wall time; re-derived every turn. */
  private wallOffsetUs = 0;
  private readonly filter: (message: string) => boolean;
  /** For /healthz: the last checkpoint saved, sequence numbers lost to overruns, the last fault. */
  private savedSeq: number | undefined;
  private overrunTotal = 0;
  private lastOverrunAt: number | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly config: KmsgInputConfig,
    private readonly deps: SourceInputDeps,
  ) {
    this.name = config.name;
    this.log = inputLogger(deps);
    this.overrunLog = new RateLimitedLog((m, f) => this.log.warn(m, f), 3, 60_000);
    this.readErrorLog = new RateLimitedLog((m, f) => this.log.error(m, f), 1, 60_000);
    this.host = hostname() || '-';
    this.tracker = new AckTracker<KmsgPosition>(this.name, (p) => this.advanced(p));
    const prefixes = config.prefixes;
    this.filter = (message) => {
      const at = findInKey(message, 0);
      if (at < 0) return false;
      if (prefixes === undefined) return true;
      // The log prefix is the text before IN= (`--log-prefix "FW-DROP "`), leading spaces aside.
      let from = 0;
      while (message.charCodeAt(from) === 0x20) from++;
      for (const p of prefixes) if (message.startsWith(p, from) && from + p.length <= at) return true;
      return false;
    };
  }

  /** Opens the device (an error names the privilege it needs), reads the checkpoint and starts reading. */
  async start(): Promise<void> {
    if (this.deps.frameSink === undefined) throw new Error(`${this.name}: the kmsg input needs pipeline.threads >= 1`);
    this.bootId = readBootId();
    let saved: KmsgCheckpoint | undefined;
    try {
      saved = this.deps.checkpoints.read<KmsgCheckpoint>(this.name);
    } catch (err) {
      // Atomic writes never leave a torn file; this one was edited or damaged by hand. Reading the
      // whole ring again repeats lines, but loses none.
      this.log.error('the kmsg checkpoint is unreadable; reading the kernel ring from its beginning', { input: this.name, error: (err as Error).message });
    }
    const resumeSeq = saved !== undefined && saved.bootId === this.bootId && Number.isInteger(saved.seq) ? saved.seq : undefined;
    const sameBoot = resumeSeq !== undefined;
    try {
      this.fd = openSync(this.config.device, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPERM' || code === 'EACCES') {
        throw new Error(
          `${this.name}: reading ${this.config.device} needs CAP_SYSLOG (or root) while kernel.dmesg_restrict=1: run as root, or give the service AmbientCapabilities=CAP_SYSLOG (systemd) / --cap-add SYSLOG (containers) (${code})`,
          { cause: err },
        );
      }
      if (code === 'ENOENT') {
        throw new Error(`${this.name}: ${this.config.device} does not exist (in a container: pass the device, e.g. --device /dev/kmsg)`, { cause: err });
      }
      throw new Error(`${this.name}: cannot open ${this.config.device}: ${(err as Error).message}`, { cause: err });
    }
    this.deps.acks.register(this.tracker as AckTracker<unknown>);
    if (resumeSeq !== undefined) {
      this.savedSeq = resumeSeq;
      this.resumeAfter = resumeSeq;
      this.expectedSeq = resumeSeq + 1;
    } else if (saved === undefined && this.config.startAt === 'end') {
      // startAt applies to a first start only; after a reboot the ring holds this boot's lines from its start.
      this.skipToEnd();
    }
    this.log.info('reading the kernel log', {
      input: this.name,
      device: this.config.device,
      resumeAfterSeq: resumeSeq,
      from: sameBoot ? 'checkpoint' : saved !== undefined ? 'beginning' : this.config.startAt,
      ...(saved !== undefined && !sameBoot ? { note: 'checkpoint of another boot: starting over' } : {}),
    });
    this.turn();
  }

  /** Stops reading and closes the device. Acknowledgements that arrive later still advance the checkpoint. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** No address: not a listener. */
  address(): undefined {
    return undefined;
  }

  /** `/healthz`: where the input is and what went wrong lately. */
  health(): Record<string, unknown> {
    return {
      type: 'kmsg',
      device: this.config.device,
      bootId: this.bootId,
      ...(this.savedSeq !== undefined ? { checkpointSeq: this.savedSeq } : {}),
      ...(this.expectedSeq !== undefined ? { nextSeq: this.expectedSeq } : {}),
      unacknowledged: this.tracker.outstanding,
      paused: this.paused ?? false,
      overrunRecords: this.overrunTotal,
      ...(this.lastOverrunAt !== undefined ? { lastOverrunAt: new Date(this.lastOverrunAt).toISOString() } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Records handed over and not yet acknowledged (tests and metrics). */
  get outstanding(): number {
    return this.tracker.outstanding;
  }

  /** `startAt: end`: read past what the ring holds now, without exporting it. */
  private skipToEnd(): void {
    for (;;) {
      const r = this.readOne();
      if (r === 'again' || r === 'closed') return;
      if (r !== 'overrun' && r !== 'bad') this.expectedSeq = r.seq + 1;
    }
  }

  /** One read: a record, or what happened instead. */
  private readOne(): KmsgRecord | 'again' | 'overrun' | 'bad' | 'closed' {
    if (this.fd === undefined) return 'closed';
    let n: number;
    try {
      n = readSync(this.fd, this.buf, 0, this.buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 'again';
      // The record at our position was overwritten; the next read returns the oldest one left,
      // and the gap in sequence numbers says how many were lost.
      if (code === 'EPIPE') return 'overrun';
      if (code === 'EINTR') return 'again';
      // Retried every pollInterval: counted each time, logged once a minute.
      this.deps.metrics.framingErrors.inc({ input: this.name, reason: 'kmsg_read_error' });
      this.lastError = `${new Date().toISOString()} read: ${(err as Error).message}`;
      this.readErrorLog.write('reading the kernel log failed; retrying', { input: this.name, error: (err as Error).message });
      return 'again';
    }
    if (n === 0) return 'again';
    const rec = parseKmsgRecord(this.buf, n);
    if (rec === undefined) {
      this.deps.metrics.framingErrors.inc({ input: this.name, reason: 'kmsg_record' });
      return 'bad';
    }
    return rec;
  }

  /** Read up to a turn's worth of records, then yield (or wait for the kernel / the pipeline). */
  private turn(): void {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped || this.paused !== undefined) return;
    this.wallOffsetUs = Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);
    const sink = this.deps.frameSink!;
    for (let i = 0; i < RECORDS_PER_TURN; i++) {
      const r = this.readOne();
      if (r === 'closed') return;
      if (r === 'again') {
        this.timer = setTimeout(() => this.turn(), this.config.pollIntervalMs);
        return;
      }
      if (r === 'overrun' || r === 'bad') continue;
      if (r.seq <= this.resumeAfter) continue;
      if (this.expectedSeq !== undefined && r.seq > this.expectedSeq) this.overrun(this.expectedSeq, r.seq);
      this.expectedSeq = r.seq + 1;
      if (!this.filter(r.message)) {
        this.deps.metrics.skipped.inc({ input: this.name, reason: 'not_netfilter' });
        continue;
      }
      const ctx: ReceiveContext = {
        receivedAt: receiveTime(),
        source: this.tracker.track(1, { seq: r.seq }),
        attributes: { 'input.type': 'kmsg', 'iptables.kernel_uptime_us': r.usec },
      };
      this.deps.metrics.received.inc({ input: this.name });
      const more = sink.offerFrames([kmsgSyslogFrame(r, this.wallOffsetUs + r.usec, this.host)], ctx);
      if (!more) {
        this.paused = 'sink';
        sink.onDrain(() => this.resume('sink'));
        return;
      }
      if (this.tracker.outstanding >= this.config.maxInFlight) {
        this.paused = 'acks';
        return;
      }
    }
    this.immediate = setImmediate(() => this.turn());
  }

  private resume(from: 'sink' | 'acks'): void {
    if (this.paused !== from) return;
    this.paused = undefined;
    if (!this.stopped && this.timer === undefined && this.immediate === undefined) this.immediate = setImmediate(() => this.turn());
  }


  private overrun(expected: number, got: number): void {
    const lost = got - expected;
    this.deps.metrics.dropped.inc({ reason: 'kmsg_overrun' }, lost);
    this.overrunTotal += lost;
    this.lastOverrunAt = Date.now();
    this.overrunLog.write('kernel log records were overwritten before they were read (dropped{reason="kmsg_overrun"}); a larger ring (log_buf_len=) or fewer LOG lines helps', {
      input: this.name,
      lost,
      firstLostSeq: expected,
      lastLostSeq: got - 1,
    });
  }

  /** The acknowledged prefix grew: write the checkpoint; resume when the in-flight bound has room. */
  private advanced(p: KmsgPosition): void {
    this.deps.checkpoints.save(this.name, { bootId: this.bootId, seq: p.seq } satisfies KmsgCheckpoint);
    this.savedSeq = p.seq;
    if (this.paused === 'acks' && this.tracker.outstanding < this.config.maxInFlight / 2) this.resume('acks');
  }
}

/**
 * The frame the parser gets for a kmsg record: RFC 5424 `<PRI>1 TIMESTAMP HOST kernel - SEQ - MSG`,
 * `wallUs` the record's wall-clock time in µs since the epoch.
 */
export function kmsgSyslogFrame(r: KmsgRecord, wallUs: number, host: string): Buffer {
  // User space may write facilities above 23 to /dev/kmsg; syslog has none: keep the level.
  const pri = r.priority <= 191 ? r.priority : r.level;
  return Buffer.from(`<${pri}>1 ${wallTimeText(wallUs)} ${host} kernel - ${r.seq} - ${r.message}`, 'utf8');
}

/** RFC 3339 UTC with microseconds from µs since the epoch. */
export function wallTimeText(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-12-02T02:30:00.123Z
  const micros = Math.floor(us - Math.floor(us / 1e6) * 1e6);
  return `${iso.slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}
