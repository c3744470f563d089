import type { MessagePort } from 'node:worker_threads';

/**
 * Messages between a UDP input and its reader thread (udp-reader-worker.ts). The main thread
 * sends commands on `control` and bumps `wake[0]` (the worker sleeps on it when its sockets are
 * empty); the worker posts batches on its parent port.
 */

/** `workerData` of the reader thread. */
export interface ReaderWorkerData {
  /** Commands from the main thread, read synchronously between reads. */
  control: MessagePort;
  /** Int32 cell the worker sleeps on; the main thread bumps it and notifies after each command. */
  wake: SharedArrayBuffer;
  /** Largest datagram accepted; a longer one is reported as oversize, not delivered. */
  maxFrameSize: number;
  /** Size of each batch buffer, bytes. */
  bufferBytes: number;
  /** Batch buffers; when all are with the main thread the worker stops reading (memory bound). */
  buffers: number;
  /** Sleep when every socket is empty, ms (how long a burst waits in the kernel before the first read). */
  sleepMs: number;
}

/** Main thread -> reader thread. */
export type ReaderCommand =
  | { op: 'add'; id: number; fd: number }
  | { op: 'remove'; id: number }
  /** A batch buffer handed back once its datagrams are copied out. */
  | { op: 'return'; buf: ArrayBuffer }
  /** Read what the sockets hold, post it, then `stopped` and exit. */
  | { op: 'stop' };

/**
 * Marks an oversize datagram in a batch's `meta` (in place of its length): counted, not delivered.
 */
export const OVERSIZE = 0xffffffff;

/** Reader thread -> main thread. */
export type ReaderEvent =
  /**
   * Datagrams in arrival order per socket: `meta` holds (socket id, length) pairs, the bytes lie
   * back to back in `buf` (oversize ones take no bytes). `buf` is the main thread's until returned.
   */
  | { op: 'batch'; buf: ArrayBuffer; meta: Uint32Array; n: number }
  /** The thread runs; `tid` is its Linux thread id (for `top -H`, /proc/PID/task/TID). */
  | { op: 'ready'; tid: number | undefined }
  /** The thread reads the socket now: the event loop may stop reading it. */
  | { op: 'added'; id: number }
  /** The socket is no longer read: the main thread may close it. */
  | { op: 'removed'; id: number }
  /**
   * Reads of the socket returned `count` errors it held for its sender (an ICMP message), the
   * last one `code`; each read cleared its error and the socket is still read. At most once a
   * second per socket.
   */
  | { op: 'error'; id: number; code: string; count: number }
  /** Reading the socket failed on the descriptor itself (or kept failing); it was removed. */
  | { op: 'failed'; id: number; code: string; message: string }
  | { op: 'stopped' };
