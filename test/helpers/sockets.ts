/**
 * Socket state from /proc/net/{tcp,tcp6,udp,udp6}: "is the daemon's UDP port bound yet", "how many
 * bytes sit in this connection's kernel queues". Conditions to wait on instead of sleeping.
 */
import { readFileSync } from 'node:fs';

export interface ProcSocket {
  localPort: number;
  remotePort: number;
  /** /proc state code: TCP 01 ESTABLISHED, 0A LISTEN; UDP 07 (unconnected). */
  state: number;
  /** Bytes in the send queue (TCP: not yet acknowledged by the peer). */
  txQueue: number;
  /** Bytes in the receive queue (not yet read by the process). */
  rxQueue: number;
}

/** The sockets the kernel lists in /proc/net/<proto> and <proto>6 (this network namespace). */
export function procSockets(proto: 'tcp' | 'udp'): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const file of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5) continue;
      const [tx, rx] = f[4]!.split(':');
      out.push({
        localPort: parseInt(f[1]!.split(':')[1]!, 16),
        remotePort: parseInt(f[2]!.split(':')[1]!, 16),
        state: parseInt(f[3]!, 16),
        txQueue: parseInt(tx!, 16),
        rxQueue: parseInt(rx!, 16),
      });
    }
  }
  return out;
}

/** True when some process has a UDP socket bound to `port`. */
export function udpPortBound(port: number): boolean {
  return procSockets('udp').some((s) => s.localPort === port);
}

/** The kernel's view of the TCP connection from local port `from` to `to` (undefined if gone). */
export function tcpConnection(from: number, to: number): ProcSocket | undefined {
  return procSockets('tcp').find((s) => s.localPort === from && s.remotePort === to);
}
