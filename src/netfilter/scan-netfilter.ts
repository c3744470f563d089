/**
 * Single-pass scanner for the Linux nf_log text format (iptables/ip6tables/nft `log`,
 * arp, bridge, ulogd2 LOGEMU). Walks the tokens once with charCodeAt/indexOf; duplicate
 * keys (LEN, ID, SEQ) are resolved by where they stand relative to `PROTO=`; the packet an
 * ICMP error quotes (`[SRC=... ]`) is scanned into its own PacketFields.
 *
 * Never throws on input: anything it cannot interpret is collected in `unparsed`.
 */
import { NetfilterFields, PacketFields } from './packet-fields.js';
import { canonicalIpText, formatIpv4, lastIp, parseIpv4Token } from './ip-address.js';
import { isMacAt, macAt, parseMacHeader } from './mac-address.js';
import { resolveProtocolAt } from './ip-protocols.js';

const SPACE = 0x20;
const EQ = 0x3d;

/**
 * Index of the `IN=` key that starts the netfilter keys in `s` (searching from `from`),
 * or -1. The prefix before it is free text (`--log-prefix` has no separator of its own:
 * `[wan-lan-default-D]IN=eth0`), so an `IN=` counts when the next token is `OUT=`;
 * failing that, the first `IN=` at a token start.
 */
export function findInKey(s: string, from: number, end = s.length): number {
  let fallback = -1;
  let sp = -2; // next space after the current candidate; reused so hostile lines stay linear
  let i = s.indexOf('IN=', from);
  while (i >= 0 && i < end) {
    if (sp !== -1 && sp < i + 3) sp = s.indexOf(' ', i + 3);
    if (sp < 0) sp = -1; // no space left: no candidate can be followed by OUT=
    if (sp >= 0 && sp < end && s.startsWith('OUT=', sp + 1)) return i;
    if (fallback < 0 && (i === from || s.charCodeAt(i - 1) === SPACE)) fallback = i;
    i = s.indexOf('IN=', i + 3);
  }
  return fallback;
}

/** Decimal digits in s[from,to) as a number; -1 when empty, not all digits, or too long. */
function dec(s: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Hex digits in s[from,to), with or without `0x`; -1 when invalid. */
function hex(s: string, from: number, to: number): number {
  if (to - from > 2 && s.charCodeAt(from) === 0x30 && (s.charCodeAt(from + 1) | 0x20) === 0x78) from += 2;
  if (to <= from || to - from > 13) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x57;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * End of the token's value starting at `from`: the next space, or `end`. Also stored in
 * tokEnd, where the value readers below leave it (module-level: scanning is synchronous).
 */
function valueEnd(s: string, from: number, end: number): number {
  const sp = s.indexOf(' ', from);
  return (tokEnd = sp < 0 || sp > end ? end : sp);
}
let tokEnd = -1;

/**
 * `dec` of the token value starting at `from` (up to a space or `end`), read in the same pass
 * that finds its end (left in tokEnd). -1 when empty, not all digits, or longer than 15.
 */
function decTok(s: string, from: number, end: number): number {
  let v = 0;
  let i = from;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (i < end && s.charCodeAt(i) !== SPACE) {
    valueEnd(s, i, end);
    return -1;
  }
  tokEnd = i;
  return i === from || i - from > 15 ? -1 : v;
}

/** `hex` of the token value starting at `from`, like decTok (end left in tokEnd). */
function hexTok(s: string, from: number, end: number): number {
  let i = from;
  // `0x` is a prefix only when more follows it (as in hex(): token longer than 2).
  if (s.charCodeAt(i) === 0x30 && (s.charCodeAt(i + 1) | 0x20) === 0x78 && i + 2 < end && s.charCodeAt(i + 2) !== SPACE) i += 2;
  const start = i;
  let v = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x57;
    else break;
    v = v * 16 + d;
  }
  if (i < end && s.charCodeAt(i) !== SPACE) {
    valueEnd(s, i, end);
    return -1;
  }
  tokEnd = i;
  return i === start || i - start > 13 ? -1 : v;
}

/**
 * `canonicalIpText` of the token value starting at `from` (end left in tokEnd). A dotted quad
 * is parsed in the pass that finds its end; anything else goes through canonicalIpText.
 */
function canonicalIpToken(s: string, from: number, end: number): string | undefined {
  const v4 = parseIpv4Token(s, from, end);
  if (v4 === -2) return canonicalIpText(s, from, valueEnd(s, from, end));
  tokEnd = lastIp.end;
  lastIp.v4 = v4;
  if (v4 < 0) {
    lastIp.family = 0;
    return undefined;
  }
  lastIp.family = 4;
  return lastIp.leadingZero ? formatIpv4(v4) : s.slice(from, tokEnd);
}

// Key ids for keyIdAt().
const K_IN = 1;
const K_OUT = 2;
const K_PHYSIN = 3;
const K_PHYSOUT = 4;
const K_MAC = 5;
const K_MACSRC = 6;
const K_MACDST = 7;
const K_MACPROTO = 8;
const K_VPROTO = 9;
const K_VID = 10;
const K_SRC = 11;
const K_IPSRC = 12;
const K_DST = 13;
const K_IPDST = 14;
const K_LEN = 15;
const K_TOS = 16;
const K_TC = 17;
const K_PREC = 18;
const K_TTL = 19;
const K_HOPLIMIT = 20;
const K_TL = 21;
const K_L = 22;
const K_FLOWLBL = 23;
const K_ID = 24;
const K_PROTO = 25;
const K_SPT = 26;
const K_DPT = 27;
const K_SEQ = 28;
const K_ACK = 29;
const K_WINDOW = 30;
const K_RES = 31;
const K_URGP = 32;
const K_TYPE = 33;
const K_CODE = 34;
const K_PARAMETER = 35;
const K_POINTER = 36;
const K_GATEWAY = 37;
const K_MTU = 38;
const K_SPI = 39;
const K_UID = 40;
const K_GID = 41;
const K_MARK = 42;
const K_HTYPE = 43;
const K_PTYPE = 44;
const K_OPCODE = 45;

/**
 * Numeric id of the key `s[i, i+len)` (0 when unknown): a generated character trie, so a
 * token costs a few charCodeAt calls and no substring.
 */
function keyIdAt(s: string, i: number, len: number): number {
  switch (len) {
    case 1:
      return s.charCodeAt(i + 0) === 76 ? K_L : 0;
    case 2:
      switch (s.charCodeAt(i + 0)) {
        case 73: // I
          switch (s.charCodeAt(i + 1)) {
            case 78: // N
              return K_IN;
            case 68: // D
              return K_ID;
          }
          return 0;
        case 84: // T
          switch (s.charCodeAt(i + 1)) {
            case 67: // C
              return K_TC;
            case 76: // L
              return K_TL;
          }
          return 0;
      }
      return 0;
    case 3:
      switch (s.charCodeAt(i + 0)) {
        case 79: // O
          return s.charCodeAt(i + 1) === 85 && s.charCodeAt(i + 2) === 84 ? K_OUT : 0;
        case 77: // M
          switch (s.charCodeAt(i + 1)) {
            case 65: // A
              return s.charCodeAt(i + 2) === 67 ? K_MAC : 0;
            case 84: // T
              return s.charCodeAt(i + 2) === 85 ? K_MTU : 0;
          }
          return 0;
        case 86: // V
          return s.charCodeAt(i + 1) === 73 && s.charCodeAt(i + 2) === 68 ? K_VID : 0;
        case 83: // S
          switch (s.charCodeAt(i + 1)) {
            case 82: // R
              return s.charCodeAt(i + 2) === 67 ? K_SRC : 0;
            case 80: // P
              switch (s.charCodeAt(i + 2)) {
                case 84: // T
                  return K_SPT;
                case 73: // I
                  return K_SPI;
              }
              return 0;
            case 69: // E
              return s.charCodeAt(i + 2) === 81 ? K_SEQ : 0;
          }
          return 0;
        case 68: // D
          switch (s.charCodeAt(i + 1)) {
            case 83: // S
              return s.charCodeAt(i + 2) === 84 ? K_DST : 0;
            case 80: // P
              return s.charCodeAt(i + 2) === 84 ? K_DPT : 0;
          }
          return 0;
        case 76: // L
          return s.charCodeAt(i + 1) === 69 && s.charCodeAt(i + 2) === 78 ? K_LEN : 0;
        case 84: // T
          switch (s.charCodeAt(i + 1)) {
            case 79: // O
              return s.charCodeAt(i + 2) === 83 ? K_TOS : 0;
            case 84: // T
              return s.charCodeAt(i + 2) === 76 ? K_TTL : 0;
          }
          return 0;
        case 65: // A
          return s.charCodeAt(i + 1) === 67 && s.charCodeAt(i + 2) === 75 ? K_ACK : 0;
        case 82: // R
          return s.charCodeAt(i + 1) === 69 && s.charCodeAt(i + 2) === 83 ? K_RES : 0;
        case 85: // U
          return s.charCodeAt(i + 1) === 73 && s.charCodeAt(i + 2) === 68 ? K_UID : 0;
        case 71: // G
          return s.charCodeAt(i + 1) === 73 && s.charCodeAt(i + 2) === 68 ? K_GID : 0;
      }
      return 0;
    case 4:
      switch (s.charCodeAt(i + 0)) {
        case 80: // P
          return s.charCodeAt(i + 1) === 82 && s.charCodeAt(i + 2) === 69 && s.charCodeAt(i + 3) === 67 ? K_PREC : 0;
        case 85: // U
          return s.charCodeAt(i + 1) === 82 && s.charCodeAt(i + 2) === 71 && s.charCodeAt(i + 3) === 80 ? K_URGP : 0;
        case 84: // T
          return s.charCodeAt(i + 1) === 89 && s.charCodeAt(i + 2) === 80 && s.charCodeAt(i + 3) === 69 ? K_TYPE : 0;
        case 67: // C
          return s.charCodeAt(i + 1) === 79 && s.charCodeAt(i + 2) === 68 && s.charCodeAt(i + 3) === 69 ? K_CODE : 0;
        case 77: // M
          return s.charCodeAt(i + 1) === 65 && s.charCodeAt(i + 2) === 82 && s.charCodeAt(i + 3) === 75 ? K_MARK : 0;
      }
      return 0;
    case 5:
      switch (s.charCodeAt(i + 0)) {
        case 73: // I
          switch (s.charCodeAt(i + 1)) {
            case 80: // P
              switch (s.charCodeAt(i + 2)) {
                case 83: // S
                  return s.charCodeAt(i + 3) === 82 && s.charCodeAt(i + 4) === 67 ? K_IPSRC : 0;
                case 68: // D
                  return s.charCodeAt(i + 3) === 83 && s.charCodeAt(i + 4) === 84 ? K_IPDST : 0;
              }
              return 0;
          }
          return 0;
        case 80: // P
          switch (s.charCodeAt(i + 1)) {
            case 82: // R
              return s.charCodeAt(i + 2) === 79 && s.charCodeAt(i + 3) === 84 && s.charCodeAt(i + 4) === 79 ? K_PROTO : 0;
            case 84: // T
              return s.charCodeAt(i + 2) === 89 && s.charCodeAt(i + 3) === 80 && s.charCodeAt(i + 4) === 69 ? K_PTYPE : 0;
          }
          return 0;
        case 72: // H
          return s.charCodeAt(i + 1) === 84 && s.charCodeAt(i + 2) === 89 && s.charCodeAt(i + 3) === 80 && s.charCodeAt(i + 4) === 69 ? K_HTYPE : 0;
      }
      return 0;
    case 6:
      switch (s.charCodeAt(i + 0)) {
        case 80: // P
          return s.charCodeAt(i + 1) === 72 && s.charCodeAt(i + 2) === 89 && s.charCodeAt(i + 3) === 83 && s.charCodeAt(i + 4) === 73 && s.charCodeAt(i + 5) === 78 ? K_PHYSIN : 0;
        case 77: // M
          switch (s.charCodeAt(i + 1)) {
            case 65: // A
              switch (s.charCodeAt(i + 2)) {
                case 67: // C
                  switch (s.charCodeAt(i + 3)) {
                    case 83: // S
                      return s.charCodeAt(i + 4) === 82 && s.charCodeAt(i + 5) === 67 ? K_MACSRC : 0;
                    case 68: // D
                      return s.charCodeAt(i + 4) === 83 && s.charCodeAt(i + 5) === 84 ? K_MACDST : 0;
                  }
                  return 0;
              }
              return 0;
          }
          return 0;
        case 86: // V
          return s.charCodeAt(i + 1) === 80 && s.charCodeAt(i + 2) === 82 && s.charCodeAt(i + 3) === 79 && s.charCodeAt(i + 4) === 84 && s.charCodeAt(i + 5) === 79 ? K_VPROTO : 0;
        case 87: // W
          return s.charCodeAt(i + 1) === 73 && s.charCodeAt(i + 2) === 78 && s.charCodeAt(i + 3) === 68 && s.charCodeAt(i + 4) === 79 && s.charCodeAt(i + 5) === 87 ? K_WINDOW : 0;
        case 79: // O
          return s.charCodeAt(i + 1) === 80 && s.charCodeAt(i + 2) === 67 && s.charCodeAt(i + 3) === 79 && s.charCodeAt(i + 4) === 68 && s.charCodeAt(i + 5) === 69 ? K_OPCODE : 0;
      }
      return 0;
    case 7:
      switch (s.charCodeAt(i + 0)) {
        case 80: // P
          switch (s.charCodeAt(i + 1)) {
            case 72: // H
              return s.charCodeAt(i + 2) === 89 && s.charCodeAt(i + 3) === 83 && s.charCodeAt(i + 4) === 79 && s.charCodeAt(i + 5) === 85 && s.charCodeAt(i + 6) === 84 ? K_PHYSOUT : 0;
            case 79: // O
              return s.charCodeAt(i + 2) === 73 && s.charCodeAt(i + 3) === 78 && s.charCodeAt(i + 4) === 84 && s.charCodeAt(i + 5) === 69 && s.charCodeAt(i + 6) === 82 ? K_POINTER : 0;
          }
          return 0;
        case 70: // F
          return s.charCodeAt(i + 1) === 76 && s.charCodeAt(i + 2) === 79 && s.charCodeAt(i + 3) === 87 && s.charCodeAt(i + 4) === 76 && s.charCodeAt(i + 5) === 66 && s.charCodeAt(i + 6) === 76 ? K_FLOWLBL : 0;
        case 71: // G
          return s.charCodeAt(i + 1) === 65 && s.charCodeAt(i + 2) === 84 && s.charCodeAt(i + 3) === 69 && s.charCodeAt(i + 4) === 87 && s.charCodeAt(i + 5) === 65 && s.charCodeAt(i + 6) === 89 ? K_GATEWAY : 0;
      }
      return 0;
    case 8:
      switch (s.charCodeAt(i + 0)) {
        case 77: // M
          return s.charCodeAt(i + 1) === 65 && s.charCodeAt(i + 2) === 67 && s.charCodeAt(i + 3) === 80 && s.charCodeAt(i + 4) === 82 && s.charCodeAt(i + 5) === 79 && s.charCodeAt(i + 6) === 84 && s.charCodeAt(i + 7) === 79 ? K_MACPROTO : 0;
        case 72: // H
          return s.charCodeAt(i + 1) === 79 && s.charCodeAt(i + 2) === 80 && s.charCodeAt(i + 3) === 76 && s.charCodeAt(i + 4) === 73 && s.charCodeAt(i + 5) === 77 && s.charCodeAt(i + 6) === 73 && s.charCodeAt(i + 7) === 84 ? K_HOPLIMIT : 0;
      }
      return 0;
    case 9:
      return s.charCodeAt(i + 0) === 80 && s.charCodeAt(i + 1) === 65 && s.charCodeAt(i + 2) === 82 && s.charCodeAt(i + 3) === 65 && s.charCodeAt(i + 4) === 77 && s.charCodeAt(i + 5) === 69 && s.charCodeAt(i + 6) === 84 && s.charCodeAt(i + 7) === 69 && s.charCodeAt(i + 8) === 82 ? K_PARAMETER : 0;
  }
  return 0;
}

function addUnparsed(nf: NetfilterFields, text: string): void {
  if (text.length === 0) return;
  if (nf.unparsed === undefined) nf.unparsed = [text];
  else if (nf.unparsed.length < 32) nf.unparsed.push(text); // bounded: hostile lines
}

/** True for a token that starts the truncated UDM form: `TTL=n`, `TL=n` or `L=n`. */
function isTruncatedStart(s: string, i: number, end: number): boolean {
  let k = i;
  if (s.startsWith('TTL=', k)) k += 4;
  else if (s.startsWith('TL=', k)) k += 3;
  else if (s.startsWith('L=', k)) k += 2;
  else return false;
  const c = s.charCodeAt(k);
  return k < end && c >= 0x30 && c <= 0x39;
}

/**
 * Scans the netfilter text in `s[start, end)`: `start` is where the content begins (after a
 * printk stamp). `s` may be the whole frame (scanning a flat string is faster than scanning
 * the MSG substring). Returns the fields; `found` is false when the text has no netfilter keys.
 */
export function scanNetfilter(s: string, start = 0, end = s.length): NetfilterFields {
  const nf = new NetfilterFields();
  const at = findInKey(s, start, end);
  if (at >= 0) {
    nf.found = true;
    nf.prefix = s.slice(start, at).trim();
    scanPacket(s, at, end, nf, nf.packet, false);
    return nf;
  }
  // UniFi UDM sends lines whose start (prefix, IN, OUT, MAC, SRC, DST, LEN, TOS, PREC)
  // was cut off: `kernel: TTL=126 ID=...`, `kernel:  TTL=`, `kernel: 0 TTL=`, `L=126`, `TL=126`.
  // Look for that start among the first few tokens.
  let i = start;
  for (let t = 0; t < 4 && i < end; t++) {
    while (i < end && s.charCodeAt(i) === SPACE) i++;
    if (isTruncatedStart(s, i, end)) {
      nf.found = true;
      nf.truncated = true;
      scanPacket(s, i, end, nf, nf.packet, false);
      return nf;
    }
    const sp = s.indexOf(' ', i);
    if (sp < 0) break;
    i = sp + 1;
  }
  return nf;
}

/**
 * Scans tokens of one packet from `i` to `end`. For a quoted packet (`nested`), stops after
 * the closing `]` and returns the index after it. Returns the index where it stopped.
 */
function scanPacket(
  s: string,
  i: number,
  end: number,
  nf: NetfilterFields,
  pkt: PacketFields,
  nested: boolean,
  inOptions = false,
): number {
  let afterProto = false;
  while (i < end) {
    const c0 = s.charCodeAt(i);
    if (c0 === SPACE) {
      i++;
      continue;
    }
    if (nested && c0 === 0x5d) return i + 1; // ']' closes the quoted packet
    if (c0 === 0x5b /* [ */ && afterProto && !nested && !inOptions && pkt.quoted === undefined) {
      // ICMP / ICMPv6 error: the quoted packet starts right after '['.
      const q = new PacketFields();
      pkt.quoted = q;
      i = scanPacket(s, i + 1, end, nf, q, true);
      continue;
    }
    // The key: up to the first '=' within the first 10 chars (longest key: 9), unless the
    // token ends first. Values are read by the case that knows their type, which also finds
    // where the token ends: one pass over the value instead of indexOf + parse.
    let eq = -1;
    let j = i + 1;
    const keyLimit = end < i + 10 ? end : i + 10;
    for (; j < keyLimit; j++) {
      const c = s.charCodeAt(j);
      if (c === EQ) {
        eq = j;
        break;
      }
      if (c === SPACE) break;
    }
    if (eq > 0) {
      const vs = eq + 1; // value start
      let ok = true;
      let n: number;
      // Each case reads its value and leaves the token end in tokEnd (-1: not read).
      tokEnd = -1;
      switch (keyIdAt(s, i, eq - i)) {
        case K_IN:
          nf.inputDevice = s.slice(vs, valueEnd(s, vs, end));
          break;
        case K_OUT:
          nf.outputDevice = s.slice(vs, valueEnd(s, vs, end));
          break;
        case K_PHYSIN:
          nf.physicalInputDevice = s.slice(vs, valueEnd(s, vs, end));
          break;
        case K_PHYSOUT:
          nf.physicalOutputDevice = s.slice(vs, valueEnd(s, vs, end));
          break;
        case K_MAC:
          if ((j = valueEnd(s, vs, end)) > vs) {
            const h = parseMacHeader(s, vs, j);
            if ((ok = h !== undefined)) {
              nf.destinationMac = h!.destination;
              nf.sourceMac = h!.source;
              nf.etherType = h!.etherType;
            }
          }
          break;
        case K_MACSRC:
          if ((ok = valueEnd(s, vs, end) - vs === 17 && isMacAt(s, vs))) nf.sourceMac = macAt(s, vs);
          break;
        case K_MACDST:
          if ((ok = valueEnd(s, vs, end) - vs === 17 && isMacAt(s, vs))) nf.destinationMac = macAt(s, vs);
          break;
        case K_MACPROTO:
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) nf.etherType = n;
          break;
        case K_VPROTO:
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) nf.vlanProtocol = n;
          break;
        case K_VID:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) nf.vlanId = n;
          break;
        case K_SRC:
        case K_IPSRC: {
          const ip = canonicalIpToken(s, vs, end);
          if ((ok = ip !== undefined)) {
            pkt.source = ip;
            pkt.sourceV4 = lastIp.v4;
            if (pkt.family === 0) pkt.family = lastIp.family;
          }
          break;
        }
        case K_DST:
        case K_IPDST: {
          const ip = canonicalIpToken(s, vs, end);
          if ((ok = ip !== undefined)) {
            pkt.destination = ip;
            pkt.destinationV4 = lastIp.v4;
            if (pkt.family === 0) pkt.family = lastIp.family;
          }
          break;
        }
        case K_LEN:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) {
            if (!afterProto) pkt.length = n;
            else if (pkt.ianaNumber === 17 || pkt.ianaNumber === 136) pkt.udpLength = n;
            else ok = false;
          }
          break;
        case K_TOS:
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) pkt.tos = n;
          break;
        case K_TC: // IPv6 traffic class, printed in decimal
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.tos = n;
          break;
        case K_PREC:
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) pkt.precedence = n;
          break;
        case K_TTL:
        case K_HOPLIMIT:
        case K_TL: // UDM truncations of TTL=
        case K_L:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.ttl = n;
          break;
        case K_FLOWLBL:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.flowLabel = n;
          break;
        case K_ID:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) {
            if (!afterProto) pkt.id = n;
            else if (pkt.ianaNumber === 1 || pkt.ianaNumber === 58) pkt.icmpId = n;
            else ok = false;
          }
          break;
        case K_PROTO: {
          const p = resolveProtocolAt(s, vs, valueEnd(s, vs, end));
          pkt.transport = p.keyword;
          pkt.ianaNumber = p.number;
          ok = p.keyword !== undefined || p.number !== undefined;
          afterProto = true;
          break;
        }
        case K_SPT:
          if ((ok = (n = decTok(s, vs, end)) >= 0 && n <= 65535)) pkt.sourcePort = n;
          break;
        case K_DPT:
          if ((ok = (n = decTok(s, vs, end)) >= 0 && n <= 65535)) pkt.destinationPort = n;
          break;
        case K_SEQ:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) {
            if (pkt.ianaNumber === 1 || pkt.ianaNumber === 58) pkt.icmpSeq = n;
            else pkt.tcpSeq = n;
          }
          break;
        case K_ACK:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.tcpAck = n;
          break;
        case K_WINDOW:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.tcpWindow = n;
          break;
        case K_RES:
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) pkt.tcpReservedBits = n;
          break;
        case K_URGP:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.tcpUrgentPointer = n;
          break;
        case K_TYPE:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.icmpType = n;
          break;
        case K_CODE:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.icmpCode = n;
          break;
        case K_PARAMETER:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.icmpParameter = n;
          break;
        case K_POINTER: // ICMPv6 parameter problem, printed %08x
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) pkt.icmpPointer = n;
          break;
        case K_GATEWAY: {
          const ip = canonicalIpToken(s, vs, end);
          if ((ok = ip !== undefined)) pkt.icmpRedirect = ip;
          break;
        }
        case K_MTU:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) pkt.icmpMtu = n;
          break;
        case K_SPI:
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) pkt.spi = n;
          break;
        case K_UID:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) nf.uid = n;
          break;
        case K_GID:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) nf.gid = n;
          break;
        case K_MARK: // printed 0x%x; ulogd2 prints MARK=0
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) nf.mark = n;
          break;
        case K_HTYPE:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) nf.arpHardwareType = n;
          break;
        case K_PTYPE:
          if ((ok = (n = hexTok(s, vs, end)) >= 0)) nf.arpProtocolType = n;
          break;
        case K_OPCODE:
          if ((ok = (n = decTok(s, vs, end)) >= 0)) nf.arpOpcode = n;
          break;
        default:
          ok = false;
      }
      j = tokEnd >= 0 ? tokEnd : valueEnd(s, vs, end);
      if (!ok) addUnparsed(nf, s.slice(i, j));
      i = j;
      continue;
    }
    // Bare tokens: flags, FRAG:n, ID:hex, INCOMPLETE, OPT (...), a quoted packet.
    if (j < end && s.charCodeAt(j) !== SPACE) j = valueEnd(s, j, end);
    const len = j - i;
    if (afterProto && pkt.ianaNumber === 6 && len === 3) {
      const flag = tcpFlagAt(s, i);
      if (flag !== undefined) {
        pkt.tcpFlags = pkt.tcpFlags === undefined ? [flag] : (pkt.tcpFlags.push(flag), pkt.tcpFlags);
        i = j;
        continue;
      }
    }
    if (!afterProto && len === 2) {
      const flag = ipFlagAt(s, i);
      if (flag !== undefined) {
        pkt.fragmentFlags = pkt.fragmentFlags === undefined ? [flag] : (pkt.fragmentFlags.push(flag), pkt.fragmentFlags);
        i = j;
        continue;
      }
    }
    if (len > 5 && s.startsWith('FRAG:', i)) {
      const n = dec(s, i + 5, j);
      if (n >= 0) {
        pkt.fragmentOffset = n;
        if (pkt.family === 6) (pkt.extensionHeaders ??= []).push('FRAG');
      } else addUnparsed(nf, s.slice(i, j));
      i = j;
      continue;
    }
    if (len > 3 && s.startsWith('ID:', i)) {
      const n = hex(s, i + 3, j);
      if (n >= 0) pkt.id = n;
      else addUnparsed(nf, s.slice(i, j));
      i = j;
      continue;
    }
    if (len === 10 && s.startsWith('INCOMPLETE', i)) {
      if (s.charCodeAt(j + 1) === 0x5b) {
        // INCOMPLETE [N bytes]
        const close = s.indexOf(']', j + 2);
        const sp = s.indexOf(' ', j + 2);
        const n = sp > 0 && (close < 0 || sp < close) ? dec(s, j + 2, sp) : -1;
        if (n >= 0) pkt.incompleteBytes = n;
        else addUnparsed(nf, 'INCOMPLETE');
        i = close < 0 ? end : close + 1;
      } else {
        // IPv6 fragment header with the M (more fragments) bit.
        (pkt.fragmentFlags ??= []).push('MF');
        i = j;
      }
      continue;
    }
    if (len === 3 && !inOptions && s.startsWith('OPT', i) && s.charCodeAt(j + 1) === 0x28 /* ( */) {
      const close = s.indexOf(')', j + 2);
      const stop = close < 0 ? end : close;
      if (afterProto && pkt.ianaNumber === 6) {
        pkt.tcpOptions = s.slice(j + 2, stop).trim();
      } else if (pkt.family === 6) {
        // IPv6 extension headers (--log-ip-options): `OPT ( FRAG:0 INCOMPLETE ID:00000abc )`.
        scanPacket(s, j + 2, stop, nf, pkt, false, true);
        pkt.extensionHeaders ??= [];
      } else {
        pkt.ipOptions = s.slice(j + 2, stop).trim();
      }
      i = close < 0 ? end : close + 1;
      continue;
    }
    if ((len === 2 && s.startsWith('AH', i)) || (len === 3 && s.startsWith('ESP', i))) {
      if (pkt.family === 6 && !afterProto) {
        (pkt.extensionHeaders ??= []).push(s.slice(i, j));
        i = j;
        continue;
      }
    }
    if (len === 7 && s.startsWith('Unknown', i) && s.startsWith(' Ext Hdr ', j)) {
      // `Unknown Ext Hdr N` (IPv6 extension header the kernel does not decode).
      let k = j + 9;
      while (k < end && s.charCodeAt(k) !== SPACE) k++;
      (pkt.extensionHeaders ??= []).push(`unknown-${s.slice(j + 9, k)}`);
      i = k;
      continue;
    }
    if (len === 3 && s.startsWith('ARP', i) && !afterProto) {
      i = j; // nf_log_arp: `ARP HTYPE=... PTYPE=... OPCODE=...`; the keys follow
      continue;
    }
    addUnparsed(nf, s.slice(i, j));
    i = j;
  }
  return i;
}

/** The IP flag word at `s[i, i+2)` (`CE`, `DF`, `MF`) as a constant string, or undefined. */
function ipFlagAt(s: string, i: number): string | undefined {
  const a = s.charCodeAt(i);
  if (s.charCodeAt(i + 1) === 0x46 /* F */) {
    if (a === 0x44) return 'DF';
    if (a === 0x4d) return 'MF';
  } else if (a === 0x43 && s.charCodeAt(i + 1) === 0x45) return 'CE';
  return undefined;
}

/** The TCP flag word at `s[i, i+3)` as a constant string (no substring), or undefined. */
function tcpFlagAt(s: string, i: number): string | undefined {
  switch (s.charCodeAt(i)) {
    case 0x41: // A
      return s.startsWith('ACK', i) ? 'ACK' : undefined;
    case 0x53: // S
      return s.startsWith('SYN', i) ? 'SYN' : undefined;
    case 0x46: // F
      return s.startsWith('FIN', i) ? 'FIN' : undefined;
    case 0x52: // R
      return s.startsWith('RST', i) ? 'RST' : undefined;
    case 0x50: // P
      return s.startsWith('PSH', i) ? 'PSH' : undefined;
    case 0x55: // U
      return s.startsWith('URG', i) ? 'URG' : undefined;
    case 0x45: // E
      return s.startsWith('ECE', i) ? 'ECE' : undefined;
    case 0x43: // C
      return s.startsWith('CWR', i) ? 'CWR' : undefined;
  }
  return undefined;
}
