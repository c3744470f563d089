import type net from 'node:net';

/** The part of a TCP socket's libuv handle that `stopReadingNow` touches. */
interface ReadableHandle {
  reading?: boolean;
  readStop?: () => number;
}

/**
 * Stop a plain TCP socket's handle from reading at once, the way Node itself does for
 * `pauseOnConnect`: set `reading = false` and call `readStop()`; `socket.resume()` restarts it
 * (`Socket._read` calls `readStart` when `reading` is false).
 *
 * Why: `socket.pause()` alone only stops 'data' events; the handle reads on until the stream
 * buffer passes its high-water mark, so a paused connection whose sender keeps sending still
 * pulls one more read (up to 64 KiB) into memory. With thousands of connections paused by
 * the partial-frame budget that would be the very growth the budget is there to stop.
 * Stopping the handle is not enough on its own: the stream restarts it to read ahead up to
 * its high-water mark, which is why the TCP server creates its sockets with `highWaterMark: 0`.
 * Not used for TLS sockets (their handle also serves the TLS engine); does nothing when the
 * handle does not look as expected.
 */
export function stopReadingNow(socket: net.Socket): void {
  const handle = (socket as unknown as { _handle?: ReadableHandle | null })._handle;
  if (handle?.reading === true && typeof handle.readStop === 'function') {
    handle.reading = false;
    handle.readStop();
  }
}
