/**
 * Single-pass scanner for the Linux nf_log text format (iptables/ip6tables/nft `log`,
 * arp, bridge, ulogd2 LOGEMU). Walks the tokens once with charCodeAt/indexOf; duplicate
 * keys (LEN, ID, SEQ) are resolved by where they stand relative to `PROTO=`; the packet an
 * ICMP error quotes (`[SRC=... ]`) is scanned into its own PacketFields.
 *
 * Never throws on input: anything it cannot interpret is collected in `unparsed`.
 */
import { NetfilterFields, PacketFields } from './packet-fields.js';
import { canonicalIp } from './ip-address.js';
import { hexByteAt, isMacAt, macAt } from './mac-address.js';
import { resolveProtocol } from './ip-protocols.js';

const SPACE = 0x20;
const EQ = 0x3d;

/**
 * Index of the `IN=` key that starts the netfilter keys in `s` (searching from `from`),
 * or -1. The prefix before it is free text (`--log-prefix` has no separator of its own:
 * `[wan-lan-default-D]IN=eth0`), so an `IN=` counts when the next token is `OUT=`;
 * failing that, the first `IN=` at a token start.
 */
export function findInKey(s: string, from: number): number {
  let fallback = -1;
  let i = s.indexOf('IN=', from);
  while (i >= 0) {
    const sp = s.indexOf(' ', i + 3);
    if (sp >= 0 && s.startsWith('OUT=', sp + 1)) return i;
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
 * Scans the netfilter text of one MSG. `start` is where the content begins (after a printk
 * stamp). Returns the fields; `found` is false when the text has no netfilter keys.
 */
export function scanNetfilter(s: string, start = 0): NetfilterFields {
  const nf = new NetfilterFields();
  const end = s.length;
  const at = findInKey(s, start);
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
function scanPacket(s: string, i: number, end: number, nf: NetfilterFields, pkt: PacketFields, nested: boolean): number {
  let afterProto = false;
  while (i < end) {
    const c0 = s.charCodeAt(i);
    if (c0 === SPACE) {
      i++;
      continue;
    }
    if (nested && c0 === 0x5d) return i + 1; // ']' closes the quoted packet
    if (c0 === 0x5b /* [ */ && afterProto && !nested && pkt.quoted === undefined) {
      // ICMP / ICMPv6 error: the quoted packet starts right after '['.
      const q = new PacketFields();
      pkt.quoted = q;
      i = scanPacket(s, i + 1, end, nf, q, true);
      continue;
    }
    // One pass to the token end, noting the first '='.
    let j = i;
    let eq = -1;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c === SPACE) break;
      if (c === EQ && eq < 0) eq = j;
      j++;
    }
    if (eq > 0) {
      const vs = eq + 1; // value start; value is s[vs, j)
      const key = s.slice(i, eq);
      let ok = true;
      let n: number;
      switch (key) {
        case 'IN':
          nf.inputDevice = s.slice(vs, j);
          break;
        case 'OUT':
          nf.outputDevice = s.slice(vs, j);
          break;
        case 'PHYSIN':
          nf.physicalInputDevice = s.slice(vs, j);
          break;
        case 'PHYSOUT':
          nf.physicalOutputDevice = s.slice(vs, j);
          break;
        case 'MAC':
          if (j > vs) ok = macHeader(s, vs, j, nf);
          break;
        case 'MACSRC':
          if ((ok = j - vs === 17 && isMacAt(s, vs))) nf.sourceMac = macAt(s, vs);
          break;
        case 'MACDST':
          if ((ok = j - vs === 17 && isMacAt(s, vs))) nf.destinationMac = macAt(s, vs);
          break;
        case 'MACPROTO':
          if ((ok = (n = hex(s, vs, j)) >= 0)) nf.etherType = n;
          break;
        case 'VPROTO':
          if ((ok = (n = hex(s, vs, j)) >= 0)) nf.vlanProtocol = n;
          break;
        case 'VID':
          if ((ok = (n = dec(s, vs, j)) >= 0)) nf.vlanId = n;
          break;
        case 'SRC':
        case 'IPSRC': {
          const ip = canonicalIp(s, vs, j);
          if ((ok = ip.family !== 0)) {
            pkt.source = ip.text;
            if (pkt.family === 0) pkt.family = ip.family;
          }
          break;
        }
        case 'DST':
        case 'IPDST': {
          const ip = canonicalIp(s, vs, j);
          if ((ok = ip.family !== 0)) {
            pkt.destination = ip.text;
            if (pkt.family === 0) pkt.family = ip.family;
          }
          break;
        }
        case 'LEN':
          if ((ok = (n = dec(s, vs, j)) >= 0)) {
            if (!afterProto) pkt.length = n;
            else if (pkt.ianaNumber === 17 || pkt.ianaNumber === 136) pkt.udpLength = n;
            else ok = false;
          }
          break;
        case 'TOS':
          if ((ok = (n = hex(s, vs, j)) >= 0)) pkt.tos = n;
          break;
        case 'TC': // IPv6 traffic class, printed in decimal
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.tos = n;
          break;
        case 'PREC':
          if ((ok = (n = hex(s, vs, j)) >= 0)) pkt.precedence = n;
          break;
        case 'TTL':
        case 'HOPLIMIT':
        case 'TL': // UDM truncations of TTL=
        case 'L':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.ttl = n;
          break;
        case 'FLOWLBL':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.flowLabel = n;
          break;
        case 'ID':
          if ((ok = (n = dec(s, vs, j)) >= 0)) {
            if (!afterProto) pkt.id = n;
            else if (pkt.ianaNumber === 1 || pkt.ianaNumber === 58) pkt.icmpId = n;
            else ok = false;
          }
          break;
        case 'PROTO': {
          const p = resolveProtocol(s.slice(vs, j));
          pkt.transport = p.keyword;
          pkt.ianaNumber = p.number;
          ok = p.keyword !== undefined || p.number !== undefined;
          afterProto = true;
          break;
        }
        case 'SPT':
          if ((ok = (n = dec(s, vs, j)) >= 0 && n <= 65535)) pkt.sourcePort = n;
          break;
        case 'DPT':
          if ((ok = (n = dec(s, vs, j)) >= 0 && n <= 65535)) pkt.destinationPort = n;
          break;
        case 'SEQ':
          if ((ok = (n = dec(s, vs, j)) >= 0)) {
            if (pkt.ianaNumber === 1 || pkt.ianaNumber === 58) pkt.icmpSeq = n;
            else pkt.tcpSeq = n;
          }
          break;
        case 'ACK':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.tcpAck = n;
          break;
        case 'WINDOW':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.tcpWindow = n;
          break;
        case 'RES':
          if ((ok = (n = hex(s, vs, j)) >= 0)) pkt.tcpReservedBits = n;
          break;
        case 'URGP':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.tcpUrgentPointer = n;
          break;
        case 'TYPE':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.icmpType = n;
          break;
        case 'CODE':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.icmpCode = n;
          break;
        case 'PARAMETER':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.icmpParameter = n;
          break;
        case 'POINTER': // ICMPv6 parameter problem, printed %08x
          if ((ok = (n = hex(s, vs, j)) >= 0)) pkt.icmpPointer = n;
          break;
        case 'GATEWAY': {
          const ip = canonicalIp(s, vs, j);
          if ((ok = ip.family !== 0)) pkt.icmpRedirect = ip.text;
          break;
        }
        case 'MTU':
          if ((ok = (n = dec(s, vs, j)) >= 0)) pkt.icmpMtu = n;
          break;
        case 'SPI':
          if ((ok = (n = hex(s, vs, j)) >= 0)) pkt.spi = n;
          break;
        case 'UID':
          if ((ok = (n = dec(s, vs, j)) >= 0)) nf.uid = n;
          break;
        case 'GID':
          if ((ok = (n = dec(s, vs, j)) >= 0)) nf.gid = n;
          break;
        case 'MARK': // printed 0x%x; ulogd2 prints MARK=0
          if ((ok = (n = hex(s, vs, j)) >= 0)) nf.mark = n;
          break;
        case 'HTYPE':
          if ((ok = (n = dec(s, vs, j)) >= 0)) nf.arpHardwareType = n;
          break;
        case 'PTYPE':
          if ((ok = (n = hex(s, vs, j)) >= 0)) nf.arpProtocolType = n;
          break;
        case 'OPCODE':
          if ((ok = (n = dec(s, vs, j)) >= 0)) nf.arpOpcode = n;
          break;
        default:
          ok = false;
      }
      if (!ok) addUnparsed(nf, s.slice(i, j));
      i = j;
      continue;
    }
    // Bare tokens: flags, FRAG:n, ID:hex, INCOMPLETE, OPT (...), a quoted packet.
    const len = j - i;
    if (afterProto && pkt.ianaNumber === 6 && len <= 3 && isTcpFlag(s, i, len)) {
      (pkt.tcpFlags ??= []).push(s.slice(i, j));
      i = j;
      continue;
    }
    if (!afterProto && len === 2 && isIpFlag(s, i)) {
      (pkt.fragmentFlags ??= []).push(s.slice(i, j));
      i = j;
      continue;
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
    if (len === 3 && s.startsWith('OPT', i) && s.charCodeAt(j + 1) === 0x28 /* ( */) {
      const close = s.indexOf(')', j + 2);
      const stop = close < 0 ? end : close;
      if (afterProto && pkt.ianaNumber === 6) {
        pkt.tcpOptions = s.slice(j + 2, stop).trim();
      } else if (pkt.family === 6) {
        // IPv6 extension headers (--log-ip-options): `OPT ( FRAG:0 INCOMPLETE ID:00000abc )`.
        scanPacket(s, j + 2, stop, nf, pkt, false);
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

/** MAC= value: destination (octets 1-6), source (7-12), ethertype (13-14); longer headers allowed. */
function macHeader(s: string, from: number, to: number, nf: NetfilterFields): boolean {
  if (to - from < 17 || !isMacAt(s, from)) return false;
  nf.destinationMac = macAt(s, from);
  if (to - from >= 35 && s.charCodeAt(from + 17) === 0x3a && isMacAt(s, from + 18)) {
    nf.sourceMac = macAt(s, from + 18);
    if (to - from >= 41 && s.charCodeAt(from + 35) === 0x3a && s.charCodeAt(from + 38) === 0x3a) {
      const hi = hexByteAt(s, from + 36);
      const lo = hexByteAt(s, from + 39);
      if (hi >= 0 && lo >= 0) nf.etherType = (hi << 8) | lo;
    }
  }
  return true;
}

function isIpFlag(s: string, i: number): boolean {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  return (a === 0x43 && b === 0x45) /* CE */ || (a === 0x44 && b === 0x46) /* DF */ || (a === 0x4d && b === 0x46); /* MF */
}

function isTcpFlag(s: string, i: number, len: number): boolean {
  if (len !== 3) return false;
  switch (s.slice(i, i + 3)) {
    case 'CWR':
    case 'ECE':
    case 'URG':
    case 'ACK':
    case 'PSH':
    case 'RST':
    case 'SYN':
    case 'FIN':
      return true;
  }
  return false;
}
