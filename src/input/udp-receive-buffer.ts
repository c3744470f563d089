import { readFileSync } from 'node:fs';
import type { LogFields } from '../ops/logger.js';

/**
 * Kernel memory one small datagram takes in a UDP receive queue on Linux: the queue is
 * charged the buffer's `truesize` (data rounded up to the allocation, plus `sk_buff` and
 * shared info), not the payload. Measured: a 240-byte netfilter line over loopback costs
 * 1,152 bytes on Linux 6.18 (100 bytes: 749; 1,000 bytes: 2,074); NIC drivers that receive
 * into 2 KiB or page-sized buffers cost more, so this is an upper bound on what fits.
 */
export const KERNEL_BYTES_PER_240_BYTE_DATAGRAM = 1152;

/** `net.core.rmem_max`, the cap on what SO_RCVBUF may ask for; undefined where it cannot be read. */
export function readRmemMax(path = '/proc/sys/net/core/rmem_max'): number | undefined {
  try {
    const v = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** What to log about the receive buffer at start-up. */
export interface ReceiveBufferReport {
  level: 'info' | 'warn';
  msg: string;
  fields: LogFields;
}

/**
 * The start-up report on a UDP socket's receive buffer: the size the kernel granted and how
 * many 240-byte datagrams it holds; a warning naming `net.core.rmem_max` and the value to
 * set when that sysctl capped the request.
 * @param asked the configured `recvBufferSize` (0 = the kernel default was kept)
 * @param granted `socket.getRecvBufferSize()` after bind (Linux reports twice the request)
 * @param rmemMax `net.core.rmem_max`, if readable
 */
export function receiveBufferReport(asked: number, granted: number, rmemMax: number | undefined, platform = process.platform): ReceiveBufferReport {
  const datagrams = Math.floor(granted / KERNEL_BYTES_PER_240_BYTE_DATAGRAM);
  const fields: LogFields = { recvBufferSize: asked, granted, datagrams240: datagrams, ...(rmemMax !== undefined ? { rmemMax } : {}) };
  const holds = `the kernel granted ${granted} bytes (about ${datagrams} datagrams of 240 bytes)`;
  const counted = 'bursts beyond that are dropped by the kernel, counted in iptables_otel_dropped_total{reason="udp_receive_buffer"}';
  if (asked > 0 && rmemMax !== undefined && asked > rmemMax) {
    return {
      level: 'warn',
      msg: `UDP receive buffer capped by net.core.rmem_max=${rmemMax}: asked ${asked} bytes, ${holds}; ${counted}. Raise the cap: sysctl -w net.core.rmem_max=${asked} (and in /etc/sysctl.d/ to keep it after a reboot)`,
      fields,
    };
  }
  // Linux doubles the request (bookkeeping overhead); elsewhere the request is what is granted.
  const expected = platform === 'linux' ? asked * 2 : asked;
  if (asked > 0 && granted < expected) {
    return {
      level: 'warn',
      msg: `UDP receive buffer is smaller than configured: asked ${asked} bytes, ${holds}; ${counted}. On Linux, check net.core.rmem_max (sysctl -w net.core.rmem_max=${asked})`,
      fields,
    };
  }
  return { level: 'info', msg: `UDP receive buffer: ${holds}`, fields };
}
