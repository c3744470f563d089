/**
 * IPv4 / IPv6 address parsing for the nf_log scanner: validates the text the kernel
 * prints and produces the canonical form (RFC 5952 for IPv6; the kernel prints IPv6
 * fully expanded, `2001:0db8:0000:...`). No regexes: this runs twice per record.
 */

/**
 * What the last `canonicalIpText` / `parseIpv4` call read (module-level, so the hot path
 * allocates no result object): the family (4, 6, or 0 when invalid), the IPv4 value as an
 * unsigned 32-bit number (-1 otherwise), and whether an IPv4 octet had a leading zero.
 */
export const lastIp = { family: 0 as 0 | 4 | 6, v4: -1, leadingZero: false };

// Scratch for the 8 IPv6 groups; parsing is synchronous, so one array is enough.
const groups = new Uint16Array(8);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Parses dotted-quad IPv4 in `s[from, to)`. Returns the address as an unsigned 32-bit
 * number, or -1 when the text is not a valid IPv4 address (leading zeros are accepted,
 * as some loggers print them).
 */
export function parseIpv4(s: string, from: number, to: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  lastIp.leadingZero = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      if (digits > 1 && s.charCodeAt(i - digits) === 0x30) lastIp.leadingZero = true;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      const d = c - 0x30;
      if (d < 0 || d > 9 || digits === 3) return -1;
      octet = octet * 10 + d;
      if (octet > 255) return -1;
      digits++;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  if (digits > 1 && s.charCodeAt(to - digits) === 0x30) lastIp.leadingZero = true;
  return value * 256 + octet;
}

/** Dotted-quad text of an unsigned 32-bit IPv4 address. */
export function formatIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * Parses IPv6 text in `s[from, to)` (full, `::`-compressed, or with an embedded IPv4 tail)
 * into `out` (8 groups). Returns false when it is not a valid IPv6 address.
 */
export function parseIpv6Into(s: string, from: number, to: number, out: Uint16Array): boolean {
  // Fast path: the kernel's fully expanded form, 8 groups of 4 hex digits.
  if (to - from === 39) {
    let ok = true;
    for (let g = 0, i = from; g < 8; g++, i += 5) {
      const a = hexValue(s.charCodeAt(i));
      const b = hexValue(s.charCodeAt(i + 1));
      const c = hexValue(s.charCodeAt(i + 2));
      const d = hexValue(s.charCodeAt(i + 3));
      if ((a | b | c | d) < 0 || (g < 7 && s.charCodeAt(i + 4) !== 0x3a)) {
        ok = false;
        break;
      }
      out[g] = (a << 12) | (b << 8) | (c << 4) | d;
    }
    if (ok) return true;
  }
  let n = 0; // groups written
  let gap = -1; // group index where '::' sits
  let i = from;
  if (i >= to) return false;
  if (s.charCodeAt(i) === 0x3a) {
    if (s.charCodeAt(i + 1) !== 0x3a) return false;
    gap = 0;
    i += 2;
    if (i === to) {
      out.fill(0);
      return true;
    }
  }
  while (i < to) {
    if (n === 8) return false;
    const start = i;
    let v = 0;
    while (i < to) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      v = (v << 4) | h;
      i++;
    }
    const len = i - start;
    if (i < to && s.charCodeAt(i) === 0x2e) {
      // Embedded IPv4 tail: takes two groups.
      if (n > 6) return false;
      const v4 = parseIpv4(s, start, to);
      if (v4 < 0) return false;
      out[n++] = v4 >>> 16;
      out[n++] = v4 & 0xffff;
      i = to;
      break;
    }
    if (len === 0 || len > 4) return false;
    out[n++] = v;
    if (i === to) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < to && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === to) {
      return false; // trailing single ':'
    }
  }
  if (gap < 0) return n === 8;
  if (n === 8) return false;
  const move = n - gap;
  for (let k = 1; k <= move; k++) out[8 - k] = out[n - k]!;
  for (let k = gap; k < 8 - move; k++) out[k] = 0;
  return true;
}

/** RFC 5952 text of 8 IPv6 groups: lowercase, no leading zeros, longest zero run as `::`. */
export function formatIpv6(g: Uint16Array): string {
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (g[i] === 0) {
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    } else {
      i++;
    }
  }
  // IPv4-mapped ::ffff:a.b.c.d keeps the dotted tail (RFC 5952 section 5).
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) {
    return `::ffff:${g[6]! >>> 8}.${g[6]! & 255}.${g[7]! >>> 8}.${g[7]! & 255}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && out.charCodeAt(out.length - 1) !== 0x3a) out += ':';
    out += g[i]!.toString(16);
  }
  return out;
}


/**
 * Canonical text of the address in `s[from, to)`: IPv4 as a dotted quad without leading
 * zeros, IPv6 as RFC 5952 text. Returns undefined when it is neither; `lastIp.family`
 * tells which (module-level, so the hot path allocates no result object).
 */
export function canonicalIpText(s: string, from: number, to: number): string | undefined {
  // Most addresses are IPv4: try that first. A valid dotted quad has no ':' so the IPv6 test
  // below would not have claimed it.
  const quad = parseIpv4(s, from, to);
  if (quad >= 0) {
    lastIp.family = 4;
    lastIp.v4 = quad;
    // Common case: the text already is canonical, so reuse it rather than reformatting.
    return lastIp.leadingZero ? formatIpv4(quad) : s.slice(from, to);
  }
  lastIp.v4 = -1;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) {
      if (parseIpv6Into(s, from, to, groups)) {
        lastIp.family = 6;
        return formatIpv6(groups);
      }
      lastIp.family = 0;
      return undefined;
    }
    if (c === 0x2e) break;
  }
  // Not IPv6, and not a valid dotted quad (tried above).
  lastIp.family = 0;
  return undefined;
}

/**
 * Canonical text of the address in `s[from, to)` and its family: `{4, text}` for IPv4,
 * `{6, text}` for IPv6 (RFC 5952), or family 0 with the text unchanged when it is neither.
 */
export function canonicalIp(s: string, from: number, to: number): { family: 0 | 4 | 6; text: string } {
  const text = canonicalIpText(s, from, to);
  return text === undefined ? { family: 0, text: s.slice(from, to) } : { family: lastIp.family, text };
}

/**
 * Writes the network-order bytes of a canonical address into `buf` at `off`.
 * Returns the number of bytes written (4 or 16), or 0 when the text is not an address.
 */
export function writeIpBytes(text: string, buf: Uint8Array, off: number): number {
  const len = text.length;
  let colon = false;
  for (let i = 0; i < len; i++) {
    if (text.charCodeAt(i) === 0x3a) {
      colon = true;
      break;
    }
  }
  if (!colon) {
    const v4 = parseIpv4(text, 0, len);
    if (v4 < 0) return 0;
    buf[off] = v4 >>> 24;
    buf[off + 1] = (v4 >>> 16) & 255;
    buf[off + 2] = (v4 >>> 8) & 255;
    buf[off + 3] = v4 & 255;
    return 4;
  }
  if (!parseIpv6Into(text, 0, len, groups)) return 0;
  for (let g = 0; g < 8; g++) {
    buf[off + 2 * g] = groups[g]! >>> 8;
    buf[off + 2 * g + 1] = groups[g]! & 255;
  }
  return 16;
}
