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

/**
 * Give the memory of `bytes`' ArrayBuffer back now rather than at the next full collection.
 * The ArrayBuffer is detached (every view on it becomes empty) and its memory moves to a new
 * ArrayBuffer that nothing references, which the next minor collection (every few hundred ms
 * under load) frees. Only for a buffer the caller owns entirely: nothing reads any view on it
 * again. Buffers of the shared pool size or less, shared memory and buffers that cannot be
 * transferred are left as they are. Costs ~15 µs, so it suits large buffers on rare paths.
 */
export function releaseNow(bytes: Uint8Array): void {
  const ab = bytes.buffer;
  if (!(ab instanceof ArrayBuffer) || ab.byteLength <= MIN_RELEASE_BYTES) return;
  try {
    structuredClone(ab, { transfer: [ab] });
  } catch {
    // Not transferable (marked so by its creator): the collector frees it as usual.
  }
}
