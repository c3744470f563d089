import { readdirSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { ReceiveContext } from '../../mapping/record.js';
import type { FrameSink } from '../../pipeline/frame-sink.js';
import { AckTracker } from '../ack-tracker.js';
import type { Input } from '../input.js';
import { inputLogger, type InputLogger } from '../input-deps.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { receiveTime } from '../receive-context.js';
import type { SourceInputDeps } from '../source-input.js';
import { CheckpointThrottle } from './checkpoint-throttle.js';
import { classifyChange, sameStart, type FileCheckpoint, type FileInputCheckpoint } from './file-identity.js';
import type { FileInputConfig } from './file-input-config.js';
import type { FileLine } from './line-splitter.js';
import { expandPathGlob, watchDirectoryOf } from './path-glob.js';
import { TailedFile } from './tailed-file.js';

/** One line handed over: which file (and generation of it) and where reading resumes after it. */
interface Mark {
  seq: number;
  file: TailedFile;
  generation: number;
  offset: number;
}

/** `input.type` of file records: Elastic's value for its log/filestream inputs. */
const INPUT_TYPE = 'log';

/**
 * The `file` input: tails log files (`paths`, with wildcards) line by line.
 *
 * - Discovery and checks run on `fs.watch` events of the files' directories and every
 *   `pollIntervalMs` (the fallback where watching is unavailable or misses events).
 * - Each line is one frame with its own context (`log.file.path`, `log.offset`), tracked by an
 *   `AckTracker`; the checkpoint (device, inode, fingerprint, offset per file) moves only over
 *   lines every output acknowledged, and is written atomically on each advance.
 * - Rotation: a path that names another inode (rename-and-create) or none (deleted) leaves the open
 *   file to be read to its end until it has been quiet `rotateWaitMs`; the new file is read from its
 *   beginning. The same inode getting shorter, or no longer starting with its fingerprinted bytes,
 *   is a copytruncate: reading starts over at 0.
 * - After a restart, a checkpointed file that is no longer at its path (rotated while stopped) is
 *   looked up by device, inode and fingerprint in its directory and read to its end first.
 * - Memory: one read buffer, a partial line per file (at most `maxFrameSize`), and at most
 *   `maxInFlight` unacknowledged marks; reading pauses while the sink refuses or above that bound.
 */
export class FileInput implements Input {
  readonly name: string;
  readonly config: FileInputConfig;
  private readonly deps: SourceInputDeps;
  private readonly frameSink: FrameSink;
  private readonly log: InputLogger;
  private readonly tracker: AckTracker<number>;
  /** Files being read (or closed and waiting for their last acknowledgements), by `dev:ino`. */
  private readonly files = new Map<string, TailedFile>();
  /** Paths matched but not openable (permissions): logged once each. */
  private readonly unreadable = new Set<string>();
  /** Marks in the order handed over (seq ascending). */
  private marks: Mark[] = [];
  private marksHead = 0;
  private nextSeq = 1;
  private readonly buf: Buffer;
  private readonly one: Buffer[] = [];
  private watchers: FSWatcher[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private waitingDrain = false;
  private pausedInFlight = false;
  private stopping = false;
  private started = false;
  private lastCheckMs = 0;
  private readonly cutLog: RateLimitedLog;
  private readonly received;
  private loop: Promise<void> = Promise.resolve();
  private readonly throttle: CheckpointThrottle;

  constructor(config: FileInputConfig, deps: SourceInputDeps) {
    if (deps.frameSink === undefined) throw new Error(`${config.name}: the file input needs the threaded pipeline (pipeline.threads >= 1)`);
    this.name = config.name;
    this.config = config;
    this.deps = deps;
    this.frameSink = deps.frameSink;
    this.log = inputLogger(deps);
    this.buf = Buffer.allocUnsafe(config.readBufferSize);
    this.tracker = new AckTracker<number>(config.name, (seq) => this.advanced(seq));
    this.cutLog = new RateLimitedLog((m, f) => this.log.warn(m, f));
    this.received = deps.metrics.received.labels(config.name);
    this.throttle = new CheckpointThrottle(() => this.saveCheckpoint(), config.checkpointIntervalMs);
  }

  /** Open the files, resume from the checkpoint, start watching. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.deps.acks.register(this.tracker as AckTracker<unknown>);
    this.files.clear();
    const saved = this.deps.checkpoints.read<FileInputCheckpoint>(this.name);
    const entries = saved?.version === 1 && Array.isArray(saved.files) ? saved.files : [];
    this.resume(entries);
    this.saveCheckpoint();
    for (const dir of new Set(this.config.paths.map(watchDirectoryOf))) this.watchDirectory(dir);
    this.pollTimer = setInterval(() => this.schedule(true), this.config.pollIntervalMs);
    this.pollTimer.unref();
    this.log.info('file input started', { input: this.name, paths: this.config.paths, files: [...this.files.values()].map((f) => f.path) });
    this.schedule(false);
    await this.loop;
  }

  /**
   * Stop reading and close the files. Lines already handed over stay tracked: acknowledgements
   * that arrive later still advance (and write) the checkpoint; unacknowledged ones are read
   * again after the next start. A partial last line is not emitted (it is re-read).
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    this.started = false;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    await this.loop;
    this.throttle.flush();
    this.saveCheckpoint();
    await this.deps.checkpoints.idle();
    for (const f of this.files.values()) f.release();
  }

  /** Not a listener. */
  address(): undefined {
    return undefined;
  }

  /** What `/healthz` shows: each file's read and acknowledged offsets, unacknowledged lines, pause state. */
  health(): Record<string, unknown> {
    return {
      type: 'file',
      files: [...this.files.values()].map((f) => ({
        path: f.path,
        readOffset: f.readOffset,
        checkpointOffset: f.ackedOffset,
        ...(f.moved ? { rotated: true } : {}),
        ...(f.closed ? { closed: true } : {}),
      })),
      unacknowledged: this.tracker.outstanding,
      paused: this.waitingDrain ? 'pipeline' : this.pausedInFlight ? 'acks' : false,
      ...(this.unreadable.size > 0 ? { unreadable: [...this.unreadable] } : {}),
    };
  }

  /** Paths of the files open now (tests, status). */
  get openFiles(): string[] {
    return [...this.files.values()].filter((f) => !f.closed).map((f) => f.path);
  }

  /** Lines handed over and not yet acknowledged. */
  get outstanding(): number {
    return this.tracker.outstanding;
  }

  // --- start-up -------------------------------------------------------------------------------

  /** Open the matched files at their checkpointed offsets, and rotated-away files still unread. */
  private resume(entries: FileCheckpoint[]): void {
    const byKey = new Map(entries.map((e) => [`${e.dev}:${e.ino}`, e]));
    const used = new Set<FileCheckpoint>();
    for (const p of this.matchedPaths()) {
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      const entry = byKey.get(`${st.dev}:${st.ino}`);
      if (entry !== undefined && this.openAt(p, entry)) {
        used.add(entry);
        continue;
      }
      // A path with a checkpoint for another file: rotated while we were stopped, so this file is new.
      const rotated = entries.some((e) => e.path === p);
      if (rotated || this.config.startAt === 'beginning') this.open(p, 0);
      else this.open(p, this.endOffset(p));
    }
    for (const e of entries) {
      if (used.has(e) || this.files.has(`${e.dev}:${e.ino}`)) continue;
      this.findRotated(e);
    }
  }

  /** Open `p` at a checkpoint entry when the file still starts with its fingerprinted bytes. */
  private openAt(p: string, e: FileCheckpoint): boolean {
    const f = this.tryOpen(p, 0);
    if (f === undefined) return false;
    const size = f.size();
    if (!sameStart(f.fd, e) || size < e.offset) {
      // Same inode, other content: truncated while stopped (copytruncate), or the inode was reused.
      this.log.info('file truncated or replaced while stopped: reading it from its beginning', { input: this.name, path: p });
      this.files.set(f.key, f);
      this.findCopy(p, f.key, e, e.offset);
      return true;
    }
    f.release();
    const g = this.tryOpen(p, e.offset);
    if (g === undefined) return false;
    g.fingerprint = e.fingerprint;
    g.fingerprintLength = e.fingerprintLength;
    this.files.set(g.key, g);
    return true;
  }

  /**
   * After a copytruncate: the copy (`kern.log.1`) starts with the fingerprinted bytes of the
   * truncated file and holds what was not read yet. Found in the same directory, it is read from
   * `offset` to its end, like a renamed file.
   */
  private findCopy(p: string, exceptKey: string, fp: { fingerprint: string; fingerprintLength: number }, offset: number): void {
    if (fp.fingerprintLength === 0) return;
    const dir = path.dirname(p);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const q = path.join(dir, name);
      let st;
      try {
        st = statSync(q);
      } catch {
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (!st.isFile() || key === exceptKey || this.files.has(key) || st.size <= offset) continue;
      const c = this.tryOpen(q, offset);
      if (c === undefined) continue;
      if (!sameStart(c.fd, fp)) {
        c.release();
        continue;
      }
      c.fingerprint = fp.fingerprint;
      c.fingerprintLength = fp.fingerprintLength;
      c.moved = true;
      this.files.set(c.key, c);
      this.log.info('copy of the truncated file found: reading the rest of it', { input: this.name, path: p, copy: q, offset });
      return;
    }
  }

  /**
   * A checkpointed file not found at any matched path: look for it (same device, inode and first
   * bytes) in its directory, e.g. `kern.log` renamed to `kern.log.1`, and read it to its end.
   */
  private findRotated(e: FileCheckpoint): void {
    const dir = path.dirname(e.path);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // The directory is gone: so is the file.
    }
    for (const name of names) {
      const p = path.join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.dev !== e.dev || st.ino !== e.ino || !st.isFile()) continue;
      const f = this.tryOpen(p, e.offset <= st.size ? e.offset : 0);
      if (f === undefined) return;
      if (!sameStart(f.fd, e)) {
        f.release();
        break;
      }
      // Records now carry the name it has (kern.log.1): where the rest of it is read from.
      f.fingerprint = e.fingerprint;
      f.fingerprintLength = e.fingerprintLength;
      f.moved = true;
      this.files.set(f.key, f);
      this.log.info('file rotated while stopped: reading the rest of it', { input: this.name, path: e.path, now: p, offset: f.readOffset });
      return;
    }
    this.log.warn('file rotated while stopped and not found again: lines written to it after the checkpoint are lost', {
      input: this.name,
      path: e.path,
      offset: e.offset,
    });
    this.deps.metrics.dropped.inc({ reason: 'file_rotated_away' });
  }

  /** Where `startAt: end` begins: after the last complete line (a partial one is read when it completes). */
  private endOffset(p: string): number {
    const f = this.tryOpen(p, 0);
    if (f === undefined) return 0;
    try {
      const size = f.size();
      const look = Math.min(size, this.config.maxFrameSize);
      if (look === 0) return size;
      const tail = Buffer.allocUnsafe(look);
      const n = readSync(f.fd, tail, 0, look, size - look);
      const lf = tail.subarray(0, n).lastIndexOf(0x0a);
      return lf < 0 ? size : size - look + lf + 1;
    } finally {
      f.release();
    }
  }

  // --- discovery and checks -------------------------------------------------------------------

  private matchedPaths(): string[] {
    const all = new Set<string>();
    for (const pattern of this.config.paths) for (const p of expandPathGlob(pattern)) all.add(p);
    return [...all];
  }

  private tryOpen(p: string, offset: number): TailedFile | undefined {
    try {
      const f = TailedFile.open(p, offset, this.config.maxFrameSize, (at) => this.lineCut(p, at));
      this.unreadable.delete(p);
      return f;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (!this.unreadable.has(p)) {
        this.unreadable.add(p);
        const hint = code === 'EACCES' || code === 'EPERM' ? ' (reading it needs read permission: e.g. group adm on Debian for /var/log)' : '';
        this.log.error(`cannot open ${p}${hint}`, { input: this.name, path: p, error: (err as Error).message });
      }
      return undefined;
    }
  }

  private open(p: string, offset: number): void {
    if (this.openCount() >= this.config.maxFiles) {
      if (!this.unreadable.has(p)) {
        this.unreadable.add(p);
        this.log.warn('maxFiles reached: file not read', { input: this.name, path: p, maxFiles: this.config.maxFiles });
      }
      return;
    }
    const f = this.tryOpen(p, offset);
    if (f === undefined) return;
    if (this.files.has(f.key)) {
      f.release();
      return;
    }
    this.files.set(f.key, f);
    this.log.info('reading file', { input: this.name, path: p, offset });
  }

  private openCount(): number {
    let n = 0;
    for (const f of this.files.values()) if (!f.closed) n++;
    return n;
  }

  /** New matches of the patterns are opened from their beginning (and checkpointed at once). */
  private discover(): void {
    this.lastCheckMs = Date.now();
    let opened = false;
    for (const p of this.matchedPaths()) {
      try {
        const st = statSync(p);
        if (!this.files.has(`${st.dev}:${st.ino}`)) {
          // Created since the last look (a rotation's new file, a new match): all of it is new.
          const before = this.files.size;
          this.open(p, 0);
          opened ||= this.files.size > before;
        }
      } catch {
        // Vanished between readdir and stat: the next look sees it as it is then.
      }
    }
    // Without this, a crash before the first acknowledgement would apply startAt: end to the new file.
    if (opened) this.saveCheckpoint();
  }

  /**
   * Has `f` been renamed, deleted or truncated? Run before each burst of reads: a truncated file
   * must not be read on at its old offset (that would emit the middle of a new line).
   */
  private checkFile(f: TailedFile): void {
    if (f.closed || f.moved) return;
    let now: { dev: number; ino: number } | undefined;
    try {
      const st = statSync(f.path);
      now = { dev: st.dev, ino: st.ino };
    } catch {
      now = undefined;
    }
    const size = f.size();
    const change = classifyChange({ open: f, size, readOffset: f.readOffset, startMatches: size < f.readOffset || f.startMatches(), atPath: now });
    if (change === 'moved') {
      f.moved = true;
      f.lastGrowthMs = Date.now();
      this.log.info('file renamed or deleted: reading it to its end', { input: this.name, path: f.path });
    } else if (change === 'truncated') {
      this.log.info('file truncated (copytruncate): reading it from its beginning', { input: this.name, path: f.path, readOffset: f.readOffset, size });
      const unread = f.splitter.partialStart;
      const before = this.files.size;
      this.findCopy(f.path, f.key, f, unread);
      // With the copy found, its reading includes the held partial line; without, emit the fragment.
      f.truncated(this.files.size > before ? () => {} : (line) => this.offer(f, line));
      this.saveCheckpoint();
    }
  }

  // --- reading --------------------------------------------------------------------------------

  /** Run the read loop soon (coalesced); `poll` also forces a check. */
  private schedule(poll: boolean): void {
    if (poll) this.lastCheckMs = 0;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.loop = this.pump().finally(() => {
      this.running = false;
    });
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      if (this.stopping) return;
      try {
        if (Date.now() - this.lastCheckMs >= Math.min(this.config.pollIntervalMs, 100) || this.lastCheckMs === 0) this.discover();
        for (const f of [...this.files.values()]) this.checkFile(f);
        await this.readAll();
        this.closeQuiet();
      } catch (err) {
        this.log.error('file input error; retrying at the next poll', { input: this.name, error: (err as Error).message });
      }
    } while (this.again && !this.stopping);
  }

  private blocked(): boolean {
    if (this.waitingDrain) return true;
    if (this.tracker.outstanding >= this.config.maxInFlight) {
      this.pausedInFlight = true;
      return true;
    }
    return false;
  }

  /** Read every open file to its current end, round-robin by chunk, while the sink takes lines. */
  private async readAll(): Promise<void> {
    let progress = true;
    while (progress && !this.stopping) {
      progress = false;
      for (const f of [...this.files.values()]) {
        if (f.closed || this.stopping) continue;
        if (this.blocked()) return;
        const n = await f.readChunk(this.buf, (line) => this.offer(f, line));
        if (n > 0) {
          progress = true;
          f.refreshFingerprint(this.config.fingerprintBytes);
        }
      }
    }
  }

  /** Moved files quiet for `rotateWaitMs`: emit the partial last line, close. */
  private closeQuiet(): void {
    const now = Date.now();
    for (const f of this.files.values()) {
      if (f.closed || !f.moved || now - f.lastGrowthMs < this.config.rotateWaitMs || this.blocked()) continue;
      f.close((line) => this.offer(f, line));
      this.log.info('finished rotated file', { input: this.name, path: f.path, bytes: f.finalOffset });
      this.forgetIfDone(f);
    }
  }

  /** A closed file whose every line is acknowledged leaves the checkpoint. */
  private forgetIfDone(f: TailedFile): void {
    if (f.closed && f.ackedOffset >= f.finalOffset && this.files.get(f.key) === f) {
      this.files.delete(f.key);
      this.saveCheckpoint();
    }
  }

  /** Hand one line to the pipeline, with its own context and mark. */
  private offer(f: TailedFile, line: FileLine): void {
    const seq = this.nextSeq++;
    this.marks.push({ seq, file: f, generation: f.generation, offset: line.resumeOffset });
    const ctx: ReceiveContext = {
      receivedAt: receiveTime(),
      source: this.tracker.track(1, seq),
      attributes: { 'input.type': INPUT_TYPE, 'log.file.path': f.path, 'log.offset': line.offset },
    };
    this.one[0] = line.text;
    this.received.inc();
    const more = this.frameSink.offerFrames(this.one, ctx);
    this.one.length = 0;
    if (!more && !this.waitingDrain) {
      this.waitingDrain = true;
      this.frameSink.onDrain(() => {
        this.waitingDrain = false;
        this.schedule(false);
      });
    }
  }

  private lineCut(p: string, offset: number): void {
    this.deps.metrics.framingErrors.inc({ input: this.name, reason: 'oversize' });
    this.cutLog.write(`line longer than maxFrameSize (${this.config.maxFrameSize} bytes): cut to that length, the rest skipped`, {
      input: this.name,
      path: p,
      offset,
    });
  }

  // --- acknowledgements -----------------------------------------------------------------------

  /** Every line up to `seq` is acknowledged: move each file's offset, write the checkpoint. */
  private advanced(seq: number): void {
    const marks = this.marks;
    const touched = new Set<TailedFile>();
    while (this.marksHead < marks.length && marks[this.marksHead]!.seq <= seq) {
      const m = marks[this.marksHead++]!;
      if (m.generation === m.file.generation && m.offset > m.file.ackedOffset) {
        m.file.ackedOffset = m.offset;
        touched.add(m.file);
      }
    }
    if (this.marksHead > 1024 && this.marksHead * 2 > marks.length) {
      this.marks = marks.slice(this.marksHead);
      this.marksHead = 0;
    }
    for (const f of touched) if (f.closed) this.forgetIfDone(f);
    if (touched.size > 0) this.throttle.request();
    if (this.pausedInFlight && this.tracker.outstanding < this.config.maxInFlight) {
      this.pausedInFlight = false;
      this.schedule(false);
    }
  }

  private saveCheckpoint(): void {
    const value: FileInputCheckpoint = { version: 1, files: [...this.files.values()].map((f) => f.checkpoint()) };
    // Written off the event loop, one write at a time, the newest value winning (CheckpointStore.save).
    this.deps.checkpoints.save(this.name, value);
  }

  private watchDirectory(dir: string): void {
    try {
      const w = watch(dir, { persistent: false }, () => this.schedule(false));
      w.on('error', (err) => {
        this.log.warn('fs.watch failed; polling only', { input: this.name, directory: dir, error: err.message });
        w.close();
      });
      this.watchers.push(w);
    } catch (err) {
      this.log.warn('fs.watch unavailable; polling only', { input: this.name, directory: dir, error: (err as Error).message });
    }
  }
}
