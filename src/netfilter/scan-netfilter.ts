/**
 * Single-pass scanner for the Linux nf_log text format (iptables/ip6tables/nft `log`,
 * arp, bridge, ulogd2 LOGEMU). Walks the tokens once with charCodeAt/indexOf; duplicate
 * keys (LEN, ID, SEQ) are resolved by where they stand relative to `PROTO=`; the packet an
 * ICMP error quotes (`[SRC=... ]`) is scanned into its own PacketFields.
 *
 * Never throws on input: anything it cannot interpret is collected in `unparsed`.
 */
import { NetfilterFields, PacketFields } from './packet-fields.js';
import { canonicalIpText, lastIp } from './ip-address.js';
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
    if (sp >= 0 && sp < end && isOutKeyAt(s, sp + 1)) return i;
    if (fallback < 0 && (i === from || s.charCodeAt(i - 1) === SPACE)) fallback = i;
    i = s.indexOf('IN=', i + 3);
  }
  return fallback;
}

/** `s.startsWith('OUT=', i)`, without the builtin call (measured 2x cheaper per line). */
function isOutKeyAt(s: string, i: number): boolean {
  return s.charCodeAt(i) === 79 && s.charCodeAt(i + 1) === 85 && s.charCodeAt(i + 2) === 84 && s.charCodeAt(i + 3) === 61;
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
 * Key ids: the key's letters packed 5 bits each (A=1 .. Z=26), computed while the scanner looks
 * for the '=' (so a key is read once, with no substring and no second pass). Packing is
 * injective for up to 6 letters (30 bits, a small integer); longer keys get negative ids from
 * longKeyId().
 */
function pack(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h << 5) | (key.charCodeAt(i) - 64);
  return h;
}

const K_IN = pack('IN');
const K_OUT = pack('OUT');
const K_PHYSIN = pack('PHYSIN');
const K_MAC = pack('MAC');
const K_MACSRC = pack('MACSRC');
const K_MACDST = pack('MACDST');
const K_VPROTO = pack('VPROTO');
const K_VID = pack('VID');
const K_SRC = pack('SRC');
const K_IPSRC = pack('IPSRC');
const K_DST = pack('DST');
const K_IPDST = pack('IPDST');
const K_LEN = pack('LEN');
const K_TOS = pack('TOS');
const K_TC = pack('TC');
const K_PREC = pack('PREC');
const K_TTL = pack('TTL');
const K_TL = pack('TL');
const K_L = pack('L');
const K_ID = pack('ID');
const K_PROTO = pack('PROTO');
const K_SPT = pack('SPT');
const K_DPT = pack('DPT');
const K_SEQ = pack('SEQ');
const K_ACK = pack('ACK');
const K_WINDOW = pack('WINDOW');
const K_RES = pack('RES');
const K_URGP = pack('URGP');
const K_TYPE = pack('TYPE');
const K_CODE = pack('CODE');
const K_MTU = pack('MTU');
const K_SPI = pack('SPI');
const K_UID = pack('UID');
const K_GID = pack('GID');
const K_MARK = pack('MARK');
const K_HTYPE = pack('HTYPE');
const K_PTYPE = pack('PTYPE');
const K_OPCODE = pack('OPCODE');
const K_PHYSOUT = -1;
const K_MACPROTO = -2;
const K_HOPLIMIT = -3;
const K_FLOWLBL = -4;
const K_PARAMETER = -5;
const K_POINTER = -6;
const K_GATEWAY = -7;

const HEAD_PHYSOU = pack('PHYSOU');
const HEAD_MACPRO = pack('MACPRO');
const HEAD_HOPLIM = pack('HOPLIM');
const HEAD_FLOWLB = pack('FLOWLB');
const HEAD_PARAME = pack('PARAME');
const HEAD_POINTE = pack('POINTE');
const HEAD_GATEWA = pack('GATEWA');
const REST_PHYSOUT = pack('T');
const REST_MACPROTO = pack('TO');
const REST_HOPLIMIT = pack('IT');
const REST_FLOWLBL = pack('L');
const REST_PARAMETER = pack('TER');
const REST_POINTER = pack('R');
const REST_GATEWAY = pack('Y');

/** Id of a key longer than 6 letters from its packed head (letters 1-6) and rest (7-9), or 0. */
function longKeyId(head: number, rest: number, len: number): number {
  switch (head) {
    case HEAD_PHYSOU:
      if (len === 7 && rest === REST_PHYSOUT) return K_PHYSOUT;
      return 0;
    case HEAD_MACPRO:
      if (len === 8 && rest === REST_MACPROTO) return K_MACPROTO;
      return 0;
    case HEAD_HOPLIM:
      if (len === 8 && rest === REST_HOPLIMIT) return K_HOPLIMIT;
      return 0;
    case HEAD_FLOWLB:
      if (len === 7 && rest === REST_FLOWLBL) return K_FLOWLBL;
      return 0;
    case HEAD_PARAME:
      if (len === 9 && rest === REST_PARAMETER) return K_PARAMETER;
      return 0;
    case HEAD_POINTE:
      if (len === 7 && rest === REST_POINTER) return K_POINTER;
      return 0;
    case HEAD_GATEWA:
      if (len === 7 && rest === REST_GATEWAY) return K_GATEWAY;
      return 0;
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

// Recently seen prefixes, direct-mapped by length and end characters. A firewall logs a handful
// of prefixes; handing back the same string object lets the prefix classifier match it by
// identity or by its cached hash instead of hashing a fresh substring per line.
const recentPrefixes: string[] = new Array<string>(64).fill('');

function isAsciiSpace(c: number): boolean {
  return c === SPACE || (c >= 0x09 && c <= 0x0d);
}

/** `s.slice(from, to).trim()`, as a shared string when the same prefix was seen recently. */
function prefixText(s: string, from: number, to: number): string {
  while (from < to && isAsciiSpace(s.charCodeAt(from))) from++;
  while (to > from && isAsciiSpace(s.charCodeAt(to - 1))) to--;
  if (from === to) return '';
  const first = s.charCodeAt(from);
  const last = s.charCodeAt(to - 1);
  // Other Unicode white space: let trim() decide.
  if (first >= 0x80 || last >= 0x80) return s.slice(from, to).trim();
  const text = s.slice(from, to);
  const slot = (to - from + first * 3 + last * 7) & 63;
  const seen = recentPrefixes[slot]!;
  if (seen === text) return seen;
  recentPrefixes[slot] = text;
  return text;
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
    nf.prefix = prefixText(s, start, at);
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
    // token ends first. Its letters are packed (see pack()) on the way: 1-6 in `key`, 7-9 in
    // `rest`.
    let eq = -1;
    let key = c0 - 64;
    let letters = key >= 1 && key <= 26;
    let rest = 0;
    let j = i + 1;
    const keyLimit = end < i + 10 ? end : i + 10;
    for (; j < keyLimit; j++) {
      const c = s.charCodeAt(j);
      if (c === EQ) {
        eq = j;
        break;
      }
      if (c === SPACE) break;
      const v = c - 64;
      if (v < 1 || v > 26) letters = false;
      if (j - i < 6) key = (key << 5) | (v & 31);
      else rest = (rest << 5) | (v & 31);
    }
    if (eq > 0) {
      const vs = eq + 1; // value start; value is s[vs, j)
      // Most values are decimal: read the digits in the pass that finds the token end, so a
      // decimal token costs no indexOf and no second pass. `decimal` is dec(s, vs, j).
      // `0x..` values (TOS, PREC, RES, MARK) likewise: `hexadecimal` is hex(s, vs, j), or -2 when
      // not read here (then the case calls hex()).
      let decimal = 0;
      let hexadecimal = -2;
      for (j = vs; j < end; j++) {
        const d = s.charCodeAt(j) - 0x30;
        if (d < 0 || d > 9) break;
        decimal = decimal * 10 + d;
      }
      if (j === end || s.charCodeAt(j) === SPACE) {
        if (j === vs || j - vs > 15) decimal = -1;
      } else {
        if (j === vs + 1 && decimal === 0 && (s.charCodeAt(j) | 0x20) === 0x78) {
          let v = 0;
          let k = j + 1;
          for (; k < end; k++) {
            const c = s.charCodeAt(k);
            let d: number;
            if (c >= 0x30 && c <= 0x39) d = c - 0x30;
            else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x57;
            else break;
            v = v * 16 + d;
          }
          if (k === end || s.charCodeAt(k) === SPACE) {
            j = k;
            // As hex(): `0x` alone is not a prefix (and 'x' no digit); at most 13 digits.
            hexadecimal = k === vs + 2 || k - vs - 2 > 13 ? -1 : v;
          } else j = k;
        }
        decimal = -1;
        if (j < end && s.charCodeAt(j) !== SPACE) {
          j = s.indexOf(' ', j);
          if (j < 0 || j > end) j = end;
        }
      }
      let ok = true;
      let n: number;
      switch (!letters ? 0 : eq - i <= 6 ? key : longKeyId(key, rest, eq - i)) {
        case K_IN:
          nf.inputDevice = s.slice(vs, j);
          break;
        case K_OUT:
          nf.outputDevice = s.slice(vs, j);
          break;
        case K_PHYSIN:
          nf.physicalInputDevice = s.slice(vs, j);
          break;
        case K_PHYSOUT:
          nf.physicalOutputDevice = s.slice(vs, j);
          break;
        case K_MAC:
          if (j > vs) {
            const h = parseMacHeader(s, vs, j);
            if ((ok = h !== undefined)) {
              nf.destinationMac = h!.destination;
              nf.sourceMac = h!.source;
              nf.etherType = h!.etherType;
            }
          }
          break;
        case K_MACSRC:
          if ((ok = j - vs === 17 && isMacAt(s, vs))) nf.sourceMac = macAt(s, vs);
          break;
        case K_MACDST:
          if ((ok = j - vs === 17 && isMacAt(s, vs))) nf.destinationMac = macAt(s, vs);
          break;
        case K_MACPROTO:
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) nf.etherType = n;
          break;
        case K_VPROTO:
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) nf.vlanProtocol = n;
          break;
        case K_VID:
          if ((ok = (n = decimal) >= 0)) nf.vlanId = n;
          break;
        case K_SRC:
        case K_IPSRC: {
          const ip = canonicalIpText(s, vs, j);
          if ((ok = ip !== undefined)) {
            pkt.source = ip;
            pkt.sourceV4 = lastIp.v4;
            if (pkt.family === 0) pkt.family = lastIp.family;
          }
          break;
        }
        case K_DST:
        case K_IPDST: {
          const ip = canonicalIpText(s, vs, j);
          if ((ok = ip !== undefined)) {
            pkt.destination = ip;
            pkt.destinationV4 = lastIp.v4;
            if (pkt.family === 0) pkt.family = lastIp.family;
          }
          break;
        }
        case K_LEN:
          if ((ok = (n = decimal) >= 0)) {
            if (!afterProto) pkt.length = n;
            else if (pkt.ianaNumber === 17 || pkt.ianaNumber === 136) pkt.udpLength = n;
            else ok = false;
          }
          break;
        case K_TOS:
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) pkt.tos = n;
          break;
        case K_TC: // IPv6 traffic class, printed in decimal
          if ((ok = (n = decimal) >= 0)) pkt.tos = n;
          break;
        case K_PREC:
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) pkt.precedence = n;
          break;
        case K_TTL:
        case K_HOPLIMIT:
        case K_TL: // UDM truncations of TTL=
        case K_L:
          if ((ok = (n = decimal) >= 0)) pkt.ttl = n;
          break;
        case K_FLOWLBL:
          if ((ok = (n = decimal) >= 0)) pkt.flowLabel = n;
          break;
        case K_ID:
          if ((ok = (n = decimal) >= 0)) {
            if (!afterProto) pkt.id = n;
            else if (pkt.ianaNumber === 1 || pkt.ianaNumber === 58) pkt.icmpId = n;
            else ok = false;
          }
          break;
        case K_PROTO: {
          const p = resolveProtocolAt(s, vs, j);
          pkt.transport = p.keyword;
          pkt.ianaNumber = p.number;
          ok = p.keyword !== undefined || p.number !== undefined;
          afterProto = true;
          break;
        }
        case K_SPT:
          if ((ok = (n = decimal) >= 0 && n <= 65535)) pkt.sourcePort = n;
          break;
        case K_DPT:
          if ((ok = (n = decimal) >= 0 && n <= 65535)) pkt.destinationPort = n;
          break;
        case K_SEQ:
          if ((ok = (n = decimal) >= 0)) {
            if (pkt.ianaNumber === 1 || pkt.ianaNumber === 58) pkt.icmpSeq = n;
            else pkt.tcpSeq = n;
          }
          break;
        case K_ACK:
          if ((ok = (n = decimal) >= 0)) pkt.tcpAck = n;
          break;
        case K_WINDOW:
          if ((ok = (n = decimal) >= 0)) pkt.tcpWindow = n;
          break;
        case K_RES:
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) pkt.tcpReservedBits = n;
          break;
        case K_URGP:
          if ((ok = (n = decimal) >= 0)) pkt.tcpUrgentPointer = n;
          break;
        case K_TYPE:
          if ((ok = (n = decimal) >= 0)) pkt.icmpType = n;
          break;
        case K_CODE:
          if ((ok = (n = decimal) >= 0)) pkt.icmpCode = n;
          break;
        case K_PARAMETER:
          if ((ok = (n = decimal) >= 0)) pkt.icmpParameter = n;
          break;
        case K_POINTER: // ICMPv6 parameter problem, printed %08x
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) pkt.icmpPointer = n;
          break;
        case K_GATEWAY: {
          const ip = canonicalIpText(s, vs, j);
          if ((ok = ip !== undefined)) pkt.icmpRedirect = ip;
          break;
        }
        case K_MTU:
          if ((ok = (n = decimal) >= 0)) pkt.icmpMtu = n;
          break;
        case K_SPI:
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) pkt.spi = n;
          break;
        case K_UID:
          if ((ok = (n = decimal) >= 0)) nf.uid = n;
          break;
        case K_GID:
          if ((ok = (n = decimal) >= 0)) nf.gid = n;
          break;
        case K_MARK: // printed 0x%x; ulogd2 prints MARK=0
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) nf.mark = n;
          break;
        case K_HTYPE:
          if ((ok = (n = decimal) >= 0)) nf.arpHardwareType = n;
          break;
        case K_PTYPE:
          if ((ok = (n = hexadecimal !== -2 ? hexadecimal : hex(s, vs, j)) >= 0)) nf.arpProtocolType = n;
          break;
        case K_OPCODE:
          if ((ok = (n = decimal) >= 0)) nf.arpOpcode = n;
          break;
        default:
          ok = false;
      }
      if (!ok) addUnparsed(nf, s.slice(i, j));
      i = j;
      continue;
    }
    // Bare tokens: flags, FRAG:n, ID:hex, INCOMPLETE, OPT (...), a quoted packet.
    if (j < end && s.charCodeAt(j) !== SPACE) {
      j = s.indexOf(' ', j);
      if (j < 0 || j > end) j = end;
    }
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

/** The TCP flag word at `s[i, i+3)` as a constant string (no substring, no startsWith call), or undefined. */
function tcpFlagAt(s: string, i: number): string | undefined {
  switch (s.charCodeAt(i)) {
    case 0x41: // A
      return s.charCodeAt(i + 1) === 67 && s.charCodeAt(i + 2) === 75 ? 'ACK' : undefined;
    case 0x53: // S
      return s.charCodeAt(i + 1) === 89 && s.charCodeAt(i + 2) === 78 ? 'SYN' : undefined;
    case 0x46: // F
      return s.charCodeAt(i + 1) === 73 && s.charCodeAt(i + 2) === 78 ? 'FIN' : undefined;
    case 0x52: // R
      return s.charCodeAt(i + 1) === 83 && s.charCodeAt(i + 2) === 84 ? 'RST' : undefined;
    case 0x50: // P
      return s.charCodeAt(i + 1) === 83 && s.charCodeAt(i + 2) === 72 ? 'PSH' : undefined;
    case 0x55: // U
      return s.charCodeAt(i + 1) === 82 && s.charCodeAt(i + 2) === 71 ? 'URG' : undefined;
    case 0x45: // E
      return s.charCodeAt(i + 1) === 67 && s.charCodeAt(i + 2) === 69 ? 'ECE' : undefined;
    case 0x43: // C
      return s.charCodeAt(i + 1) === 87 && s.charCodeAt(i + 2) === 82 ? 'CWR' : undefined;
  }
  return undefined;
}
