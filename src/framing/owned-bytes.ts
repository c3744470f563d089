import { MessageChannel, type MessagePort } from 'node:worker_threads';

/**
 * Memory of byte buffers whose owner knows when they are done with. V8 frees an ArrayBuffer's
 * memory only when a collection finds the ArrayBuffer dead, and one that lived long enough to be
 * promoted waits for a full (mark-compact) collection, which V8 starts only once external
 * memory has grown by about 64 MiB since the last one. Under a flood of large frames that lag,
 * per thread, was most of the peak RSS above the live data (docs/reliability.md, "Memory
 * under overload"). These helpers avoid the copy that makes such garbage, or hand the memory
 * back as soon as its owner is done.
 */

/**
 * The piece of a partial frame to hold until the next chunk: `tail` itself when the caller
 * owns its chunks (`FramerOptions.ownsChunks`) and `tail` is at least 3/4 of the memory it keeps
 * alive (a half-sent 65,000-byte frame read in one piece: a copy would hold the bytes twice
 * until the read buffer is collected), else a copy (a short line end must not pin a 64 KiB read
 * buffer for an idle connection). So a held reference pins at most 4/3 of the bytes it holds.
 */
export function keepOrCopy(tail: Buffer, ownsChunks: boolean): Buffer {
  if (ownsChunks && coversMostOf(tail)) return tail;
  return Buffer.from(tail);
}

/** True when `bytes` is at least 3/4 of its ArrayBuffer (so not a slice of Buffer's shared pool). */
export function coversMostOf(bytes: Uint8Array): boolean {
  return bytes.length * 4 >= bytes.buffer.byteLength * 3;
}

/** ArrayBuffers up to Buffer's pool size are left alone: a pool slab is shared by unrelated Buffers. */
const MIN_RELEASE_BYTES = 8 * 1024;

/** `ArrayBuffer.prototype.transfer` (ES2024; Node 22, not 20 by default). */
type Transferring = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };

/**
 * Where released buffers go on Node 20: a port whose peer is closed. A message posted there
 * takes its transferred buffers along and is dropped at once, and with it their memory (a
 * detach alone would only move the memory to a new ArrayBuffer, again left to the collector).
 * Only used once its `close` event has been seen: before that, messages would still be queued.
 */
let sink: { port: MessagePort; closed: boolean; ready: Promise<void> } | undefined;

function releasePort(): NonNullable<typeof sink> {
  if (sink === undefined) {
    const { port1, port2 } = new MessageChannel();
    let resolve!: () => void;
    const s = { port: port1, closed: false, ready: new Promise<void>((r) => (resolve = r)) };
    port1.once('close', () => {
      s.closed = true;
      resolve();
    });
    port1.unref();
    port2.close();
    sink = s;
  }
  return sink;
}

function closedPort(): MessagePort | undefined {
  const s = releasePort();
  return s.closed ? s.port : undefined;
}

/** Resolves once `releaseNow` frees memory on Node 20 too (its port's close has been seen); for tests. */
export function releaseReady(): Promise<void> {
  return releasePort().ready;
}

/**
 * Free the memory of `bytes`' ArrayBuffer now rather than at a later collection: the
 * ArrayBuffer is detached (every view on it becomes empty) and its memory released. Only for a
 * buffer the caller owns entirely: nothing reads any view on it again. Buffers of Buffer's pool
 * size or less and shared memory are left as they are; so is every buffer in the moment before
 * the release port is ready (the collector frees those as usual). Costs ~10 µs: for large
 * buffers on rare paths.
 */
export function releaseNow(bytes: Uint8Array): void {
  const ab = bytes.buffer as Transferring;
  if (!(ab instanceof ArrayBuffer) || ab.byteLength <= MIN_RELEASE_BYTES) return;
  try {
    if (typeof ab.transfer === 'function') {
      ab.transfer(0);
      return;
    }
    closedPort()?.postMessage(null, [ab]);
  } catch {
    // Not transferable (marked so by its creator): the collector frees it as usual.
  }
}
