import type dgram from 'node:dgram';
import { fstatSync } from 'node:fs';

/** What the reader thread needs of a bound dgram socket: its descriptor, and a way to stop libuv reading it. */
export interface SocketDescriptor {
  /** The socket's file descriptor. */
  readonly fd: number;
  /** The socket's inode (its line in /proc/net/udp). */
  readonly inode: number;
  /** Stop the event loop reading the socket (the reader thread reads it instead, or the pipeline is full). */
  recvStop(): void;
  /** Have the event loop read the socket again after `recvStop()`. */
  recvStart(): void;
}

interface UdpHandle {
  fd: number;
  recvStop(): number;
  recvStart(): number;
}

function isUdpHandle(v: unknown): v is UdpHandle {
  const h = v as Partial<UdpHandle> | null;
  return typeof h === 'object' && h !== null && typeof h.fd === 'number' && h.fd >= 0 && typeof h.recvStop === 'function' && typeof h.recvStart === 'function';
}

/**
 * The descriptor of a bound dgram socket, or undefined where Node does not expose it.
 *
 * Node has no public API for a dgram socket's fd. Every version since 12 keeps the libuv
 * handle (with `fd`, `recvStop()` and `recvStart()`) in the socket's state object under an internal symbol;
 * it is found by shape rather than through the deprecated `socket._handle` getter (DEP0112),
 * and anything unexpected (another platform, a future Node) returns undefined, so the caller
 * keeps reading in the event loop.
 */
export function socketDescriptor(socket: dgram.Socket): SocketDescriptor | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const key of Object.getOwnPropertySymbols(socket)) {
    const state = (socket as unknown as Record<symbol, unknown>)[key] as { handle?: unknown } | null;
    if (typeof state !== 'object' || state === null || !isUdpHandle(state.handle)) continue;
    const handle = state.handle;
    let inode: number;
    try {
      const st = fstatSync(handle.fd);
      if (!st.isSocket()) return undefined;
      inode = st.ino;
    } catch {
      return undefined;
    }
    return { fd: handle.fd, inode, recvStop: () => void handle.recvStop(), recvStart: () => void handle.recvStart() };
  }
  return undefined;
}
