/**
 * MAC text helpers. The kernel prints `MAC=` as the raw link-layer header in lowercase
 * colon-separated hex (destination, source, ethertype, sometimes more) and `MACSRC=` etc.
 * as one address; ECS/Elastic want RFC 7042 form `90-10-20-76-8D-20`.
 */

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** True when `s[from, from+17)` is `xx:xx:xx:xx:xx:xx` (also accepts `-` separators). */
export function isMacAt(s: string, from: number): boolean {
  if (from + 17 > s.length) return false;
  for (let k = 0; k < 6; k++) {
    const p = from + 3 * k;
    if (!isHex(s.charCodeAt(p)) || !isHex(s.charCodeAt(p + 1))) return false;
    if (k < 5) {
      const sep = s.charCodeAt(p + 2);
      if (sep !== 0x3a && sep !== 0x2d) return false;
    }
  }
  return true;
}

/** RFC 7042 text (`90-10-20-76-8D-20`) of the MAC at `s[from, from+17)`; call `isMacAt` first. */
export function macAt(s: string, from: number): string {
  return s.slice(from, from + 17).toUpperCase().replaceAll(':', '-');
}

/** Value of two hex digits at `s[i]`, or -1. */
export function hexByteAt(s: string, i: number): number {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  if (!isHex(a) || !isHex(b)) return -1;
  const hi = a <= 0x39 ? a - 0x30 : (a | 0x20) - 0x57;
  const lo = b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x57;
  return (hi << 4) | lo;
}

/** Decoded `MAC=` link header: destination (octets 1-6), source (7-12), ethertype (13-14). */
export interface MacHeader {
  destination: string;
  source: string | undefined;
  etherType: number | undefined;
}

// A firewall sees a handful of distinct link headers (its own MAC, its gateway's), so
// decoding each once and reusing the strings saves six allocations per record.
const headerCache = new Map<string, MacHeader>();
let lastRaw = '';
let lastHeader: MacHeader | undefined;

/**
 * Decodes the `MAC=` value in `s[from, to)`; longer headers (VLAN, extra bytes) keep the
 * first 14 octets. Returns undefined when it does not start with a MAC address.
 */
export function parseMacHeader(s: string, from: number, to: number): MacHeader | undefined {
  // Consecutive lines usually carry the same header. A slice (no copy for this length) and a
  // native string compare: measured 3x faster than startsWith at an offset, which V8 runs char
  // by char.
  const raw = s.slice(from, to);
  if (raw === lastRaw) return lastHeader;
  let h = headerCache.get(raw);
  if (h !== undefined) {
    lastRaw = raw;
    lastHeader = h;
    return h;
  }
  if (to - from < 17 || !isMacAt(s, from)) return undefined;
  h = { destination: macAt(s, from), source: undefined, etherType: undefined };
  if (to - from >= 35 && s.charCodeAt(from + 17) === 0x3a && isMacAt(s, from + 18)) {
    h.source = macAt(s, from + 18);
    if (to - from >= 41 && s.charCodeAt(from + 35) === 0x3a && s.charCodeAt(from + 38) === 0x3a) {
      const hi = hexByteAt(s, from + 36);
      const lo = hexByteAt(s, from + 39);
      if (hi >= 0 && lo >= 0) h.etherType = (hi << 8) | lo;
    }
  }
  // Bounded: MAC headers come from the network.
  if (headerCache.size >= 1024) headerCache.clear();
  headerCache.set(raw, h);
  lastRaw = raw;
  lastHeader = h;
  return h;
}
