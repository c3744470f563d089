/**
 * What the nf_log scanner extracts from one line. Plain classes with every field
 * initialised so V8 gives all instances one shape (the scanner fills them on the hot path).
 * Values are already normalised: addresses canonical, MACs RFC 7042, hex keys as numbers.
 */

/** One IP packet as nf_log prints it: the logged packet, or the one quoted inside an ICMP error. */
export class PacketFields {
  /** 4 or 6 from the SRC address text; 0 when unknown. */
  family: 0 | 4 | 6 = 0;
  source: string | undefined = undefined;
  destination: string | undefined = undefined;
  /** IPv4 source / destination as unsigned 32-bit numbers (-1 when not IPv4), for the Community ID. */
  sourceV4 = -1;
  destinationV4 = -1;
  /** IP total length (first LEN=). */
  length: number | undefined = undefined;
  /** IPv4 TOS byte (hex) or IPv6 TC (decimal). */
  tos: number | undefined = undefined;
  /** PREC=0x.. as the raw masked byte (0xE0 -> 224), as Elastic reports it. */
  precedence: number | undefined = undefined;
  /** TTL / HOPLIMIT. */
  ttl: number | undefined = undefined;
  /** IPv4 ID, or the IPv6 fragment header identification (`ID:0000abcd`). */
  id: number | undefined = undefined;
  /** CE / DF / MF in log order; IPv6 fragment `INCOMPLETE` (more fragments) adds `MF`. */
  fragmentFlags: string[] | undefined = undefined;
  /** FRAG:n exactly as printed: IPv4 in 8-byte units, IPv6 in bytes. */
  fragmentOffset: number | undefined = undefined;
  /** IPv4 `OPT (hex)` before PROTO: the option bytes as hex text. */
  ipOptions: string | undefined = undefined;
  flowLabel: number | undefined = undefined;
  /** IPv6 extension headers the kernel printed (`FRAG`, `AH`, `ESP`, `unknown-N`). */
  extensionHeaders: string[] | undefined = undefined;
  /** Lowercase IANA keyword (`tcp`, `ipv6-icmp`, `gre`, ...). */
  transport: string | undefined = undefined;
  /** IANA protocol number. */
  ianaNumber: number | undefined = undefined;
  sourcePort: number | undefined = undefined;
  destinationPort: number | undefined = undefined;
  /** Second LEN= (UDP / UDPLITE length). */
  udpLength: number | undefined = undefined;
  tcpSeq: number | undefined = undefined;
  tcpAck: number | undefined = undefined;
  tcpWindow: number | undefined = undefined;
  tcpReservedBits: number | undefined = undefined;
  tcpFlags: string[] | undefined = undefined;
  tcpUrgentPointer: number | undefined = undefined;
  /** TCP `OPT (hex)` after the flags. */
  tcpOptions: string | undefined = undefined;
  icmpType: number | undefined = undefined;
  icmpCode: number | undefined = undefined;
  icmpId: number | undefined = undefined;
  icmpSeq: number | undefined = undefined;
  icmpParameter: number | undefined = undefined;
  icmpRedirect: string | undefined = undefined;
  icmpMtu: number | undefined = undefined;
  icmpPointer: number | undefined = undefined;
  /** AH / ESP security parameter index. */
  spi: number | undefined = undefined;
  /** `INCOMPLETE [N bytes]`: the transport header was cut short. */
  incompleteBytes: number | undefined = undefined;
  /** The packet an ICMP / ICMPv6 error quotes (`[SRC=... ]`). */
  quoted: PacketFields | undefined = undefined;
}

/** Everything found in one netfilter log MSG. */
export class NetfilterFields {
  /** True when the line had netfilter keys (an `IN=` key, or a truncated UDM line). */
  found = false;
  /** UniFi UDM line cut before `IN=` (`kernel: TTL=126 ID=...`, `TL=`, `L=`). */
  truncated = false;
  /** The log prefix: everything before `IN=`, trimmed (may be ''). */
  prefix = '';
  inputDevice: string | undefined = undefined;
  outputDevice: string | undefined = undefined;
  physicalInputDevice: string | undefined = undefined;
  physicalOutputDevice: string | undefined = undefined;
  /** From `MAC=` octets 7-12 or `MACSRC=` (ARP: the sender hardware address). */
  sourceMac: string | undefined = undefined;
  destinationMac: string | undefined = undefined;
  /** `MAC=` octets 13-14 or `MACPROTO=`. */
  etherType: number | undefined = undefined;
  vlanId: number | undefined = undefined;
  vlanProtocol: number | undefined = undefined;
  uid: number | undefined = undefined;
  gid: number | undefined = undefined;
  mark: number | undefined = undefined;
  arpHardwareType: number | undefined = undefined;
  arpProtocolType: number | undefined = undefined;
  arpOpcode: number | undefined = undefined;
  /** The IP packet (for ARP lines: IPSRC/IPDST as source/destination). */
  packet = new PacketFields();
  /** Tokens the scanner did not understand or whose value was invalid, in order. */
  unparsed: string[] | undefined = undefined;
}
