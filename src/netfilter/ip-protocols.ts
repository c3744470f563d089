/**
 * IP protocol names and numbers: what the kernel prints after `PROTO=` and the IANA
 * "Assigned Internet Protocol Numbers" keyword (lowercased) we report as `network.transport`.
 */

/** IANA protocol number -> lowercase IANA keyword, for the numbers a firewall log realistically shows. */
const KEYWORD_BY_NUMBER: ReadonlyMap<number, string> = new Map<number, string>([
  [0, 'hopopt'], [1, 'icmp'], [2, 'igmp'], [3, 'ggp'], [4, 'ipv4'], [5, 'st'], [6, 'tcp'], [7, 'cbt'],
  [8, 'egp'], [9, 'igp'], [17, 'udp'], [27, 'rdp'], [33, 'dccp'], [41, 'ipv6'], [43, 'ipv6-route'],
  [44, 'ipv6-frag'], [46, 'rsvp'], [47, 'gre'], [50, 'esp'], [51, 'ah'], [58, 'ipv6-icmp'],
  [59, 'ipv6-nonxt'], [60, 'ipv6-opts'], [88, 'eigrp'], [89, 'ospfigp'], [94, 'ipip'], [97, 'etherip'],
  [98, 'encap'], [103, 'pim'], [108, 'ipcomp'], [112, 'vrrp'], [115, 'l2tp'], [132, 'sctp'],
  [135, 'mobility-header'], [136, 'udplite'], [137, 'mpls-in-ip'], [143, 'ethernet'],
]);

/** Lowercase keyword (or kernel spelling, lowercased) -> IANA number. */
const NUMBER_BY_NAME: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [num, kw] of KEYWORD_BY_NUMBER) m.set(kw, num);
  m.set('icmpv6', 58); // the kernel prints PROTO=ICMPv6
  return m;
})();

/** A resolved protocol: `keyword` is absent for numbers IANA has no keyword for here. */
export interface IpProtocol {
  keyword?: string;
  number?: number;
}

const TCP: IpProtocol = { keyword: 'tcp', number: 6 };
const UDP: IpProtocol = { keyword: 'udp', number: 17 };
const ICMP: IpProtocol = { keyword: 'icmp', number: 1 };
const ICMPV6: IpProtocol = { keyword: 'ipv6-icmp', number: 58 };

const cache = new Map<string, IpProtocol>();

/**
 * Resolves the text after `PROTO=` (`TCP`, `ICMPv6`, `47`, ...) to the IANA keyword and
 * number. Unknown names keep their lowercased text as keyword with no number; unknown
 * numbers keep the number with no keyword.
 */
export function resolveProtocol(text: string): IpProtocol {
  // The four the kernel prints for almost every line, without a map lookup.
  switch (text) {
    case 'TCP':
      return TCP;
    case 'UDP':
      return UDP;
    case 'ICMP':
      return ICMP;
    case 'ICMPv6':
      return ICMPV6;
  }
  let p = cache.get(text);
  if (p !== undefined) return p;
  let allDigits = text.length > 0 && text.length <= 3;
  for (let i = 0; i < text.length && allDigits; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) allDigits = false;
  }
  if (allDigits) {
    const n = Number(text);
    p = n <= 255 ? { keyword: KEYWORD_BY_NUMBER.get(n), number: n } : { keyword: undefined, number: undefined };
  } else {
    const kw = text.toLowerCase();
    const n = NUMBER_BY_NAME.get(kw);
    p = { keyword: n === undefined ? kw : KEYWORD_BY_NUMBER.get(n), number: n };
  }
  if (cache.size < 1024) cache.set(text, p); // bounded: PROTO= text comes from the network
  return p;
}

/** `s.startsWith('ICMP', i)`. */
function isIcmpAt(s: string, i: number): boolean {
  return s.charCodeAt(i) === 0x49 && s.charCodeAt(i + 1) === 0x43 && s.charCodeAt(i + 2) === 0x4d && s.charCodeAt(i + 3) === 0x50;
}

/** `resolveProtocol` for the text `s[from, to)`, without a substring for the common names. */
export function resolveProtocolAt(s: string, from: number, to: number): IpProtocol {
  switch (to - from) {
    // charCodeAt rather than startsWith: no builtin call on the per-record path.
    case 3:
      if (s.charCodeAt(from + 2) === 0x50) {
        const a = s.charCodeAt(from);
        const b = s.charCodeAt(from + 1);
        if (a === 0x54 && b === 0x43) return TCP; // TCP
        if (a === 0x55 && b === 0x44) return UDP; // UDP
      }
      break;
    case 4:
      if (isIcmpAt(s, from)) return ICMP;
      break;
    case 6:
      if (isIcmpAt(s, from) && s.charCodeAt(from + 4) === 0x76 && s.charCodeAt(from + 5) === 0x36) return ICMPV6;
      break;
  }
  return resolveProtocol(s.slice(from, to));
}
