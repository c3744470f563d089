/**
 * Community ID flow hash, version 1 (corelight/community-id-spec): seed 0, SHA-1, base64,
 * `1:` prefix. ICMP/ICMPv6 type and code stand in for the ports, with request/reply types
 * mapped to their counterpart so both directions hash alike.
 */
import { writeIpBytes } from '../netfilter/ip-address.js';
import { SHA1_BASE64_LENGTH, sha1Base64 } from './sha1.js';

// ICMPv4 request <-> reply pairs (echo, router, timestamp, info, address mask).
const ICMP4_PAIRS: ReadonlyMap<number, number> = new Map([
  [8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [9, 10], [17, 18], [18, 17],
]);
// ICMPv6: echo, MLD query/report, router/neighbour solicit/advert, WRU, HAAD.
const ICMP6_PAIRS: ReadonlyMap<number, number> = new Map([
  [128, 129], [129, 128], [133, 134], [134, 133], [135, 136], [136, 135], [130, 131], [131, 130],
  [139, 140], [140, 139], [144, 145], [145, 144],
]);

// Reused scratch: seed(2) + 2 x 16 address bytes + proto + pad + 2 x port(2).
const buf = Buffer.alloc(40);
// The string form's scratch: '1:' and the base64 hash.
const text = Buffer.from('1:' + 'A'.repeat(SHA1_BASE64_LENGTH), 'latin1');
const a = new Uint8Array(16);
const b = new Uint8Array(16);

function compare(x: Uint8Array, y: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const d = x[i]! - y[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Community ID v1 of a flow, or undefined when the addresses are missing/invalid or of
 * different families. `proto` is the IANA number. Ports are used for TCP, UDP and SCTP
 * (required there); for ICMP (1) and ICMPv6 (58) pass type as `srcPort`, code as `dstPort`.
 */
export function communityId(
  src: string | undefined,
  dst: string | undefined,
  proto: number | undefined,
  srcPort: number | undefined,
  dstPort: number | undefined,
): string | undefined {
  return asText(writeCommunityIdHash(text, 2, src, dst, proto, srcPort, dstPort));
}

/**
 * `communityId` without its `1:` version prefix, written as base64 text into `out` at `pos`
 * (28 bytes of room): the position after it, or -1 when there is no Community ID (nothing written).
 */
export function writeCommunityIdHash(
  out: Uint8Array,
  pos: number,
  src: string | undefined,
  dst: string | undefined,
  proto: number | undefined,
  srcPort: number | undefined,
  dstPort: number | undefined,
): number {
  if (src === undefined || dst === undefined || proto === undefined) return -1;
  const la = writeIpBytes(src, a, 0);
  const lb = writeIpBytes(dst, b, 0);
  if (la === 0 || la !== lb) return -1;
  const n = flowMessage(la, proto, srcPort, dstPort);
  return n === 0 ? -1 : sha1Base64(buf, n, out, pos);
}

function asText(end: number): string | undefined {
  return end < 0 ? undefined : text.toString('latin1', 0, end);
}

function writeV4(v: number, out: Uint8Array): void {
  out[0] = v >>> 24;
  out[1] = (v >>> 16) & 255;
  out[2] = (v >>> 8) & 255;
  out[3] = v & 255;
}

/**
 * `communityId` for IPv4 addresses given as unsigned 32-bit numbers (what the scanner already
 * parsed), skipping the text re-parse.
 */
export function communityIdV4(
  src: number,
  dst: number,
  proto: number | undefined,
  srcPort: number | undefined,
  dstPort: number | undefined,
): string | undefined {
  return asText(writeCommunityIdHashV4(text, 2, src, dst, proto, srcPort, dstPort));
}

/** `writeCommunityIdHash` for IPv4 addresses given as unsigned 32-bit numbers (see `communityIdV4`). */
export function writeCommunityIdHashV4(
  out: Uint8Array,
  pos: number,
  src: number,
  dst: number,
  proto: number | undefined,
  srcPort: number | undefined,
  dstPort: number | undefined,
): number {
  if (src < 0 || dst < 0 || proto === undefined) return -1;
  writeV4(src, a);
  writeV4(dst, b);
  const n = flowMessage(4, proto, srcPort, dstPort);
  return n === 0 ? -1 : sha1Base64(buf, n, out, pos);
}

/**
 * Writes the hash input of the flow whose address bytes are in the scratch arrays `a` and `b`
 * (length `la`) into `buf`: its length, or 0 when the flow has no Community ID.
 */
function flowMessage(la: number, proto: number, srcPort: number | undefined, dstPort: number | undefined): number {
  let usePorts = false;
  let oneWay = false;
  let sp = 0;
  let dp = 0;
  if (proto === 6 || proto === 17 || proto === 132) {
    if (srcPort === undefined || dstPort === undefined) return 0;
    usePorts = true;
    sp = srcPort;
    dp = dstPort;
  } else if (proto === 1 || proto === 58) {
    if (srcPort !== undefined && dstPort !== undefined) {
      usePorts = true;
      const counterpart = (proto === 1 ? ICMP4_PAIRS : ICMP6_PAIRS).get(srcPort);
      sp = srcPort;
      if (counterpart !== undefined) dp = counterpart;
      else {
        dp = dstPort;
        oneWay = true;
      }
    }
  }
  // Order the endpoints so both directions of a flow hash alike.
  let first = a;
  let second = b;
  if (!oneWay) {
    const c = compare(a, b, la);
    if (c > 0 || (c === 0 && sp > dp)) {
      first = b;
      second = a;
      const t = sp;
      sp = dp;
      dp = t;
    }
  }
  buf[0] = 0;
  buf[1] = 0;
  let o = 2;
  for (let i = 0; i < la; i++) buf[o++] = first[i]!;
  for (let i = 0; i < la; i++) buf[o++] = second[i]!;
  buf[o++] = proto;
  buf[o++] = 0;
  if (usePorts) {
    buf[o++] = sp >>> 8;
    buf[o++] = sp & 255;
    buf[o++] = dp >>> 8;
    buf[o++] = dp & 255;
  }
  return o;
}
