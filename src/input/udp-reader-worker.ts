/**
 * The UDP reader thread: reads connected UDP sockets (one sender each, see udp-sender-sockets.ts)
 * with plain `read(2)` into a few reused batch buffers and posts them to the main thread.
 *
 * Why a thread and `read(2)`: a `node:dgram` socket costs about 5 µs of main-thread CPU per
 * datagram here (a 64 KiB allocation, a Buffer, the `rinfo` object and a call into JavaScript
 * per datagram), which is what let the kernel drop datagrams under bursts. `fs.readSync` on the
 * socket's descriptor copies the datagram straight into a batch buffer, about 2 µs, on a
 * thread that parsing and GC on the main thread cannot stall. It does not return the sender's
 * address, so each socket here is connected to one sender: the address is the socket's.
 *
 * The descriptors are non-blocking (libuv made them): an empty socket throws EAGAIN, and when
 * every socket is empty the thread sleeps on `wake` for `sleepMs`.
 */
import { readSync } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { currentThreadId } from '../ops/thread-id.js';
import { OVERSIZE, type ReaderCommand, type ReaderEvent, type ReaderWorkerData } from './udp-reader-protocol.js';

const data = workerData as ReaderWorkerData;
// An empty socket throws EAGAIN on every round: without a stack to capture, that error is cheap.
Error.stackTraceLimit = 0;

/** Reads from one socket before moving to the next (fairness between senders). */
const READS_PER_TURN = 64;
/**
 * How long the thread sleeps when every socket is empty, ms: `sleepMs`, a quarter of what the
 * granted buffer holds at 200k/s, so a burst that starts meanwhile still fits. Each wake-up costs
 * a failed read per socket and a futex round trip, and reads datagrams that have gone cold in
 * cache (about 235 µs a wake-up on the bench VM): at 20k/s a 0.05 ms sleep cost 18 µs of thread CPU
 * per datagram, 1 ms 7.6, 4 ms 3.8 and this (8 ms with the default buffer, 20 with 64 MiB) 2.5-3.45
 * (docs/performance.md, "UDP").
 */
const SLEEP_MS = data.sleepMs;
/** A batch that is not full goes on the first empty round this long after its first datagram, ms. */
const FLUSH_MS = 5;
/**
 * Read errors about the descriptor itself: the socket is removed. Any other error is one the
 * socket holds for its sender, set by an ICMP message (ECONNREFUSED, EHOSTUNREACH, ENOPROTOOPT,
 * EPROTO...): the read that returns it clears it, and the datagrams behind it are still there.
 */
const DESCRIPTOR_ERRORS = new Set(['EBADF', 'EFAULT', 'EINVAL', 'EISDIR', 'ENOTSOCK']);
/** Errors in a row without a datagram, a whole turn of them, after which a socket counts as broken. */
const MAX_ERRORS_IN_A_ROW = READS_PER_TURN;
/** A socket's errors are reported at most this often, ms (an ICMP flood costs no more messages). */
const ERROR_REPORT_MS = 1000;

const control = data.control;
const wake = new Int32Array(data.wake);
const port = parentPort!;
const readLength = Math.min(data.maxFrameSize + 1, 65536);
const maxEntries = Math.max(1, Math.floor(data.bufferBytes / 64));

interface ReadSocket {
  id: number;
  fd: number;
  /** Errors not reported yet, the last one's code, and when they were last reported. */
  errors: number;
  lastCode: string;
  reportedAt: number;
}

const sockets: ReadSocket[] = [];
const free: ArrayBuffer[] = [];
for (let i = 0; i < data.buffers; i++) free.push(new ArrayBuffer(data.bufferBytes));

let buf: ArrayBuffer | undefined;
let view: Uint8Array | undefined;
let used = 0;
let n = 0;
let meta = new Uint32Array(maxEntries * 2);
let stopping = false;
/** When the batch's first datagram was read (performance.now()). */
let firstReadAt = 0;

function post(event: ReaderEvent, transfer?: ArrayBuffer[]): void {
  port.postMessage(event, transfer);
}

function flush(): void {
  if (buf === undefined || n === 0) return;
  post({ op: 'batch', buf, meta: meta.slice(0, n * 2), n }, [buf]);
  buf = view = undefined;
  used = n = 0;
}

function commands(): void {
  for (let m = receiveMessageOnPort(control); m !== undefined; m = receiveMessageOnPort(control)) {
    const c = m.message as ReaderCommand;
    if (c.op === 'add') {
      sockets.push({ id: c.id, fd: c.fd, errors: 0, lastCode: '', reportedAt: Number.NEGATIVE_INFINITY });
      post({ op: 'added', id: c.id });
    }
    else if (c.op === 'return') free.push(c.buf);
    else if (c.op === 'stop') stopping = true;
    else if (c.op === 'remove') {
      const i = sockets.findIndex((s) => s.id === c.id);
      if (i >= 0) reportErrors(sockets.splice(i, 1)[0]!);
      // Its datagrams read so far go first: the main thread closes the socket after `removed`.
      flush();
      post({ op: 'removed', id: c.id });
    }
  }
}

/** Post the socket's errors not reported yet. */
function reportErrors(s: ReadSocket, now = performance.now()): void {
  if (s.errors === 0) return;
  post({ op: 'error', id: s.id, code: s.lastCode, count: s.errors });
  s.errors = 0;
  s.reportedAt = now;
}

/**
 * A read of `sockets[index]` failed with `code` (not "nothing to read"), the `inRow`th time since
 * its last datagram. Returns true when the socket goes on (the error was its sender's, counted),
 * false when it was removed. Apart from readSocket, whose loop stays small for the optimiser.
 */
function readFailed(s: ReadSocket, index: number, code: string, message: string, inRow: number): boolean {
  if (!DESCRIPTOR_ERRORS.has(code) && inRow < MAX_ERRORS_IN_A_ROW) {
    s.errors++;
    s.lastCode = code;
    const now = performance.now();
    if (now - s.reportedAt >= ERROR_REPORT_MS) reportErrors(s, now);
    return true;
  }
  reportErrors(s);
  sockets.splice(index, 1);
  post({ op: 'failed', id: s.id, code, message });
  return false;
}

/** Read up to READS_PER_TURN datagrams from one socket; returns how many, or -1 when out of buffers. */
function readSocket(s: ReadSocket, index: number): number {
  let reads = 0;
  let errorsInRow = 0;
  while (reads < READS_PER_TURN) {
    if (buf === undefined) {
      buf = free.pop();
      if (buf === undefined) return reads > 0 ? reads : -1;
      view = new Uint8Array(buf);
    }
    let got: number;
    try {
      got = readSync(s.fd, view!, used, readLength, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return reads;
      if (!readFailed(s, index, code, (err as Error).message, ++errorsInRow)) return reads;
      reads++; // counted, so that errors alone cannot keep a turn going
      continue;
    }
    reads++;
    errorsInRow = 0;
    if (got === 0) continue; // an empty datagram: nothing to decode
    if (n === 0) firstReadAt = performance.now();
    meta[n * 2] = s.id;
    if (got > data.maxFrameSize) {
      meta[n * 2 + 1] = OVERSIZE;
    } else {
      meta[n * 2 + 1] = got;
      used += got;
    }
    n++;
    if (used + readLength > data.bufferBytes || n === maxEntries) flush();
  }
  return reads;
}

function run(): void {
  for (;;) {
    // Read before the commands: a bump after this is seen by the wait below (no lost wake-up).
    const seen = Atomics.load(wake, 0);
    commands();
    let reads = 0;
    let starved = false;
    for (let i = sockets.length - 1; i >= 0; i--) {
      const r = readSocket(sockets[i]!, i);
      if (r < 0) {
        starved = true;
        break;
      }
      reads += r;
    }
    if (reads > 0) continue;
    // Errors held back by ERROR_REPORT_MS go once it has passed (an empty round comes every sleep).
    for (const s of sockets) {
      if (s.errors > 0 && performance.now() - s.reportedAt >= ERROR_REPORT_MS) reportErrors(s);
    }
    // Every socket is empty. A batch goes when full (readSocket) or, for a thin stream, on the
    // first empty round FLUSH_MS after its first datagram (so at most one sleep later): one
    // message per datagram would cost the main thread more than reading it did.
    const age = n > 0 ? performance.now() - firstReadAt : 0;
    if (stopping || age >= FLUSH_MS) flush();
    if (stopping && !starved) {
      for (const s of sockets) reportErrors(s);
      break;
    }
    if (sockets.length === 0 && n === 0 && !stopping) {
      Atomics.wait(wake, 0, seen); // nothing to read until a command comes
      continue;
    }
    // Out of buffers (starved), look again within 1 ms: the main thread hands them back as the
    // pipeline takes them, without waking this thread.
    Atomics.wait(wake, 0, seen, starved ? Math.min(1, SLEEP_MS) : SLEEP_MS);
  }
  post({ op: 'stopped' });
  control.close();
}

post({ op: 'ready', tid: currentThreadId() });
run();
