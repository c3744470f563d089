import { canonicalPeerAddress } from './receive-context.js';

/**
 * Canonical peer address text (see `canonicalPeerAddress`) per raw address text, so a
 * sender's address is canonicalised once, not once per datagram. Bounded: when it holds
 * `maxEntries` senders it starts over (a flood from many spoofed sources costs one
 * canonicalisation per datagram again, never memory).
 */
export class PeerAddressCache {
  private readonly map = new Map<string, string>();

  constructor(private readonly maxEntries = 1024) {}

  /** The canonical text of `address`. */
  get(address: string): string {
    let canonical = this.map.get(address);
    if (canonical === undefined) {
      canonical = canonicalPeerAddress(address) ?? address;
      if (this.map.size >= this.maxEntries) this.map.clear();
      this.map.set(address, canonical);
    }
    return canonical;
  }

  /** Senders held now. */
  get size(): number {
    return this.map.size;
  }
}

/**
 * The datagrams read in one turn of the event loop, in arrival order, with their senders:
 * three parallel arrays reused from turn to turn, so collecting a datagram allocates
 * nothing beyond the Buffer (and `rinfo`) Node already made for it.
 */
export class DatagramRun {
  private frames: Buffer[] = [];
  private addresses: string[] = [];
  private ports: number[] = [];
  /** The arrays of the previous turn, emptied, to swap in at the next `drain`. */
  private spare: { frames: Buffer[]; addresses: string[]; ports: number[] } = { frames: [], addresses: [], ports: [] };
  /** Frames of one sender when the run has several (reused). */
  private scratch: Buffer[] = [];
  private bytesHeld = 0;

  /** Datagrams held. */
  get length(): number {
    return this.frames.length;
  }

  /** Bytes held (the sum of the datagrams' lengths). */
  get bytes(): number {
    return this.bytesHeld;
  }

  /** Add one datagram from `address`:`port`. */
  push(frame: Buffer, address: string, port: number): void {
    this.frames.push(frame);
    this.addresses.push(address);
    this.ports.push(port);
    this.bytesHeld += frame.length;
  }

  /**
   * Hand every datagram over, once and in arrival order, as runs of consecutive datagrams
   * from one sender (one call per run), and empty the run. `fn` must not keep the array it
   * is given (it is reused); the Buffers are its own.
   */
  drain(fn: (frames: Buffer[], address: string, port: number) => void): void {
    const frames = this.frames;
    const addresses = this.addresses;
    const ports = this.ports;
    const n = frames.length;
    // Swap in the spare arrays first: a datagram pushed while `fn` runs (re-entrantly) goes
    // to the next drain, neither lost nor handed over twice.
    const spare = this.spare;
    this.frames = spare.frames;
    this.addresses = spare.addresses;
    this.ports = spare.ports;
    this.bytesHeld = 0;
    try {
      this.handOver(frames, addresses, ports, n, fn);
    } finally {
      // Emptied (the Buffers are released) and kept for the next turn.
      frames.length = 0;
      addresses.length = 0;
      ports.length = 0;
      this.spare = { frames, addresses, ports };
    }
  }

  private handOver(frames: Buffer[], addresses: string[], ports: number[], n: number, fn: (frames: Buffer[], address: string, port: number) => void): void {
    let start = 0;
    while (start < n) {
      const address = addresses[start] as string;
      const port = ports[start] as number;
      let end = start + 1;
      while (end < n && ports[end] === port && addresses[end] === address) end++;
      if (start === 0 && end === n) {
        fn(frames, address, port);
      } else {
        const scratch = this.scratch;
        scratch.length = 0;
        for (let i = start; i < end; i++) scratch.push(frames[i] as Buffer);
        fn(scratch, address, port);
        scratch.length = 0;
      }
      start = end;
    }
  }
}
