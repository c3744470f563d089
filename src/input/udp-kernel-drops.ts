import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { endianness } from 'node:os';

/** One socket line of /proc/net/udp or /proc/net/udp6. */
export interface ProcUdpSocket {
  /** `ADDR:PORT` as the kernel prints it (hex, address in host byte order per 32-bit word). */
  local: string;
  inode: number;
  /** Datagrams the kernel dropped for this socket (receive buffer full, mostly). */
  drops: number;
}

/** Parse the socket lines of /proc/net/udp{,6} (the header line is skipped). */
export function parseProcNetUdp(text: string): ProcUdpSocket[] {
  const out: ProcUdpSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
    if (f.length < 13 || !f[0]!.endsWith(':')) continue;
    out.push({ local: f[1]!, inode: Number(f[9]), drops: Number(f[12]) });
  }
  return out;
}

function ipv6Bytes(address: string): number[] | undefined {
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // IPv4 in the last 32 bits (::ffff:192.0.2.1)
    tail = text.slice(lastColon + 1).split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const h = groups(head);
  const r = groups(rest);
  const words = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) return undefined;
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * The `local_address` column for a bound socket: the address bytes printed as 32-bit words
 * in host byte order, then `:PORT` in hex. Undefined for a text that is not an IP address.
 */
export function procLocalAddress(address: string, port: number, littleEndian = endianness() === 'LE'): string | undefined {
  const family = isIP(address);
  const bytes = family === 4 ? address.split('.').map(Number) : family === 6 ? ipv6Bytes(address) : undefined;
  if (bytes === undefined) return undefined;
  let hex = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = littleEndian ? [bytes[i + 3]!, bytes[i + 2]!, bytes[i + 1]!, bytes[i]!] : bytes.slice(i, i + 4);
    for (const b of word) hex += b.toString(16).padStart(2, '0');
  }
  return `${hex.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Follows the kernel's drop count of one UDP socket (receive buffer full) and adds each
 * increase to a counter: these datagrams never reach us, so only the kernel can count them.
 * Polls every `intervalMs` while running and once more at `stop()`; off where /proc is
 * missing. The socket is found by its local address and port in /proc/net/udp (udp6 for
 * IPv6 sockets).
 */
export class UdpKernelDrops {
  private readonly file: string;
  private readonly local: string | undefined;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** False once /proc could not be read or the socket was not found there. */
  available = true;

  /** Last count per socket inode, when `inodes` is given. */
  private perInode = new Map<number, number>();

  /**
   * @param inodes the sockets to count, by inode, when several share the address (else the
   *   first line with the address is the socket)
   */
  constructor(
    address: { address: string; port: number; family: string },
    private readonly add: (n: number) => void,
    private readonly intervalMs = 1000,
    private readonly inodes?: () => Iterable<number>,
  ) {
    this.file = address.family === 'IPv6' ? '/proc/net/udp6' : '/proc/net/udp';
    this.local = procLocalAddress(address.address, address.port);
    if (this.local === undefined) this.available = false;
  }

  /** Start polling (a new socket's count starts at 0, so nothing before the first poll is missed). */
  start(): void {
    if (!this.available) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** Read the count now and add the increase. Never rejects. */
  poll(): Promise<void> {
    this.polling ??= this.read().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  /** Stop polling after a last read (call before closing the socket: its /proc line goes with it). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.polling !== undefined) await this.polling;
    if (this.available) await this.poll();
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      // systemd's ProcSubset=pid hides /proc/net (a link to self/net); the process's own view stays.
      try {
        text = await readFile(this.file.replace('/proc/net/', '/proc/self/net/'), 'utf8');
      } catch {
        this.available = false;
        return;
      }
    }
    const entries = parseProcNetUdp(text).filter((s) => s.local === this.local);
    const inodes = this.inodes?.();
    if (inodes === undefined) {
      const entry = entries[0];
      if (entry === undefined) return;
      this.addIncrease(this.last, entry.drops);
      this.last = entry.drops;
      return;
    }
    // Several sockets share the address (the listener and its sender sockets): each counts from
    // its own last value; a socket closed since the last read leaves with its entry.
    const wanted = new Set(inodes);
    const seen = new Map<number, number>();
    for (const entry of entries) {
      if (!wanted.has(entry.inode)) continue;
      this.addIncrease(this.perInode.get(entry.inode) ?? 0, entry.drops);
      seen.set(entry.inode, entry.drops);
    }
    this.perInode = seen;
  }

  private addIncrease(last: number, now: number): void {
    const n = increase(last, now);
    if (n > 0) this.add(n);
  }
}

/** The increase of a 32-bit counter the kernel prints (a smaller value means it wrapped). */
function increase(last: number, now: number): number {
  return now >= last ? now - last : now + 2 ** 32 - last;
}
