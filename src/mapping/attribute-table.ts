/**
 * THE table of every attribute iptables-otel puts on a log record: name, type, where the
 * name comes from, the kernel key (or other source) and a description. The mapper only
 * emits names listed here (a unit test checks it), encoders use the type, and
 * docs/attributes.md is generated from it (`scripts/gen-attributes-doc.ts`).
 *
 * Naming rule: the OpenTelemetry semantic-convention name where one exists; else the name
 * Elastic's iptables integration (ECS) uses, so Kibana queries keep working; else a new
 * `iptables.*` name.
 */

/** Attribute value types, as the OTLP encoders map them. */
export type AttributeType = 'string' | 'int' | 'double' | 'bool' | 'string[]' | 'int[]';

/** Where the name comes from. */
export type AttributeOrigin = 'semconv' | 'elastic' | 'iptables-otel';

/** One row of the table. */
export interface AttributeSpec {
  name: string;
  type: AttributeType;
  origin: AttributeOrigin;
  /** Kernel key(s) or other source of the value. */
  source: string;
  description: string;
  /** Attribute of the logged packet that also exists for the ICMP-quoted packet. */
  quoted?: boolean;
  /** Group heading in docs/attributes.md. */
  group: string;
  /**
   * What a `string` (or `string[]`) value is, where that matters to a store: `ip` = an IP address
   * in text form (Elasticsearch maps it as `ip`, so CIDR queries work); `text` = prose or a raw
   * line, searched by words (mapped as `text`). Unset = a name or code, matched exactly (`keyword`).
   */
  format?: 'ip' | 'text';
  /**
   * The array can be empty (`[]`). The parser emits `[]` when the kernel printed the field with
   * nothing in it, and OTLP, Fluent and console carry it as such. Elasticsearch indexes no value
   * for `[]` in either mapping mode (an `exists` query does not find it); `mapping.mode: otel`
   * keeps `[]` in `_source`, `mapping.mode: ecs` leaves the key out of the document.
   */
  mayBeEmpty?: boolean;
}

/** Prefix of the attributes of the packet an ICMP/ICMPv6 error quotes. */
export const QUOTED_PREFIX = 'iptables.icmp.quoted.';

/** Name of the quoted-packet variant of a packet attribute (`source.address` -> `iptables.icmp.quoted.source.address`). */
export function quotedName(name: string): string {
  return QUOTED_PREFIX + (name.startsWith('iptables.') ? name.slice(9) : name);
}

type Row = [name: string, type: AttributeType, origin: AttributeOrigin, source: string, description: string, quoted?: boolean];

/** `format` of the rows that have one (quoted-packet variants inherit it). */
const FORMATS: Readonly<Record<string, 'ip' | 'text'>> = {
  'source.address': 'ip',
  'destination.address': 'ip',
  'related.ip': 'ip',
  'iptables.icmp.redirect': 'ip',
  'network.peer.address': 'ip',
  'log.record.original': 'text',
  'error.message': 'text',
};

/** Array attributes that can be `[]` (see `AttributeSpec.mayBeEmpty`); every other array has at least one element. */
const MAY_BE_EMPTY: ReadonlySet<string> = new Set(['iptables.ipv6.extension_headers']);

const S = 'semconv' as const;
const E = 'elastic' as const;
const N = 'iptables-otel' as const;

const GROUPS: ReadonlyArray<[group: string, rows: Row[]]> = [
  [
    'Packet addresses and protocol',
    [
      ['source.address', 'string', S, 'SRC= (ARP: IPSRC=)', 'Source IP address, canonical text (RFC 5952 for IPv6). Elastic: `source.ip`.', true],
      ['source.port', 'int', S, 'SPT=', 'Source port (TCP, UDP, UDPLITE, ...).', true],
      ['destination.address', 'string', S, 'DST= (ARP: IPDST=)', 'Destination IP address, canonical text (RFC 5952 for IPv6). Elastic: `destination.ip`.', true],
      ['destination.port', 'int', S, 'DPT=', 'Destination port.', true],
      ['network.type', 'string', S, 'SRC=/DST= address family', '`ipv4` or `ipv6`, from the address family (also without MAC=).'],
      ['network.transport', 'string', S, 'PROTO=', 'Lowercase IANA protocol keyword: `tcp`, `udp`, `icmp`, `ipv6-icmp`, `esp`, `ah`, `gre` (PROTO=47), `sctp` (PROTO=132), `udplite`, ...', true],
      ['network.iana_number', 'string', E, 'PROTO=', 'IANA protocol number as a string, for names and numbers alike (`6`, `47`).', true],
      ['network.community_id', 'string', E, 'SRC, DST, PROTO, SPT, DPT, ICMP TYPE/CODE', 'Community ID v1 flow hash (seed 0), `1:` + base64 SHA-1.'],
      ['source.mac', 'string', E, 'MAC= octets 7-12, MACSRC=', 'Source MAC, RFC 7042 form `90-10-20-76-8D-20`.'],
      ['destination.mac', 'string', E, 'MAC= octets 1-6, MACDST=', 'Destination MAC, RFC 7042 form.'],
      ['related.ip', 'string[]', E, 'SRC=, DST=', 'Source and destination addresses, de-duplicated.'],
      ['network.vlan.id', 'string', E, 'VID= & 0x0FFF', 'VLAN id (bridge/netdev logging with `--log-macdecode`), ECS keyword. The kernel prints the whole 802.1Q tag (TCI) as `VID=`; the id is its low 12 bits.'],
    ],
  ],
  [
    'Interfaces and link layer',
    [
      ['iptables.input_device', 'string', E, 'IN=', 'Input interface; `""` when none (OUTPUT chain).'],
      ['iptables.output_device', 'string', E, 'OUT=', 'Output interface; `""` when none (INPUT chain).'],
      ['iptables.physical_input_device', 'string', N, 'PHYSIN=', 'Bridge port the packet came in on (br_netfilter).'],
      ['iptables.physical_output_device', 'string', N, 'PHYSOUT=', 'Bridge port the packet goes out on.'],
      ['iptables.ether_type', 'int', E, 'MAC= octets 13-14, MACPROTO=', 'Ethertype (`08:00` -> 2048).'],
      ['iptables.vlan.ether_type', 'int', N, 'VPROTO=', 'VLAN tag protocol (0x8100 -> 33024).'],
      ['iptables.vlan.priority', 'int', N, 'VID= >> 13', 'VLAN priority code point (PCP, 0-7), the top 3 bits of the 802.1Q tag the kernel prints as `VID=`.'],
    ],
  ],
  [
    'IP header',
    [
      ['iptables.length', 'int', E, 'LEN= (first)', 'IP packet length including the IP header.', true],
      ['iptables.tos', 'int', E, 'TOS= (hex), IPv6 TC= (decimal)', 'Type of service / traffic class byte.', true],
      ['iptables.precedence_bits', 'int', E, 'PREC=', 'TOS precedence bits as the masked byte (`0xE0` -> 224), as Elastic reports it.', true],
      ['iptables.ttl', 'int', E, 'TTL=, HOPLIMIT=, UDM `TL=`/`L=`', 'Time to live / hop limit.', true],
      ['iptables.id', 'int', E, 'ID= (before PROTO), IPv6 `ID:hex`', 'IPv4 identification, or the IPv6 fragment header identification.', true],
      ['iptables.fragment_flags', 'string[]', E, 'CE DF MF, IPv6 fragment `INCOMPLETE`', 'IP flags in log order; an IPv6 fragment header with more fragments adds `MF`.', true],
      ['iptables.fragment_offset', 'int', E, 'FRAG:', 'Fragment offset as printed: IPv4 in 8-byte units, IPv6 in bytes.', true],
      ['iptables.flow_label', 'int', E, 'FLOWLBL=', 'IPv6 flow label.', true],
      ['iptables.ip_options', 'string', N, 'OPT (hex) before PROTO (`--log-ip-options`)', 'IPv4 options as hex text.'],
      ['iptables.ipv6.extension_headers', 'string[]', N, 'IPv6 `FRAG:`, `AH`, `ESP`, `Unknown Ext Hdr N`, `OPT ( )`', 'IPv6 extension headers the kernel printed (`FRAG`, `AH`, `ESP`, `unknown-N`); empty when `OPT ( )` shows none.'],
    ],
  ],
  [
    'Transport',
    [
      ['iptables.tcp.seq', 'int', E, 'SEQ= (TCP, `--log-tcp-sequence`)', 'TCP sequence number (32-bit unsigned).', true],
      ['iptables.tcp.ack', 'int', E, 'ACK= (TCP, `--log-tcp-sequence`)', 'TCP acknowledgement number (32-bit unsigned).', true],
      ['iptables.tcp.window', 'int', E, 'WINDOW=', 'TCP window.', true],
      ['iptables.tcp.reserved_bits', 'int', E, 'RES=', 'TCP reserved bits (hex -> number).', true],
      ['iptables.tcp.flags', 'string[]', E, 'CWR ECE URG ACK PSH RST SYN FIN', 'TCP flags in log order.', true],
      ['iptables.tcp.urgent_pointer', 'int', N, 'URGP=', 'TCP urgent pointer.'],
      ['iptables.tcp.options', 'string', N, 'OPT (hex) after the TCP flags (`--log-tcp-options`)', 'TCP options as hex text.'],
      ['iptables.udp.length', 'int', E, 'LEN= (second, UDP/UDPLITE)', 'UDP length.', true],
      ['iptables.spi', 'int', N, 'SPI= (ESP, AH)', 'IPsec security parameter index.', true],
      ['iptables.incomplete_bytes', 'int', E, 'INCOMPLETE [N bytes]', 'The transport header was cut short: bytes available.', true],
    ],
  ],
  [
    'ICMP and ICMPv6',
    [
      ['iptables.icmp.type', 'int', E, 'TYPE=', 'ICMP / ICMPv6 type.', true],
      ['iptables.icmp.code', 'int', E, 'CODE=', 'ICMP / ICMPv6 code.', true],
      ['iptables.icmp.id', 'int', E, 'ID= (after PROTO=ICMP)', 'Echo identifier.', true],
      ['iptables.icmp.seq', 'int', E, 'SEQ= (after PROTO=ICMP)', 'Echo sequence number.', true],
      ['iptables.icmp.parameter', 'int', E, 'PARAMETER=', 'ICMP parameter problem pointer.'],
      ['iptables.icmp.redirect', 'string', E, 'GATEWAY=', 'ICMP redirect gateway address.'],
      ['iptables.icmp.mtu', 'int', N, 'MTU=', 'Next-hop MTU (ICMP fragmentation needed, ICMPv6 packet too big).'],
      ['iptables.icmp.pointer', 'int', N, 'POINTER= (ICMPv6, hex)', 'ICMPv6 parameter problem pointer.'],
    ],
  ],
  [
    'Netfilter metadata',
    [
      ['iptables.log_prefix', 'string', N, 'text before IN=', 'The `--log-prefix` text, trimmed (`iptables-dropped:`, `[UFW BLOCK]`).'],
      ['iptables.mark', 'int', N, 'MARK=', 'Packet mark (fwmark).'],
      ['iptables.uid', 'int', N, 'UID= (`--log-uid`)', 'Owner user id of the local socket.'],
      ['iptables.gid', 'int', N, 'GID= (`--log-uid`)', 'Owner group id of the local socket.'],
      ['iptables.arp.hardware_type', 'int', N, 'ARP HTYPE=', 'ARP hardware type (1 = Ethernet).'],
      ['iptables.arp.protocol_type', 'int', N, 'ARP PTYPE=', 'ARP protocol type (0x0800 -> 2048).'],
      ['iptables.arp.opcode', 'int', N, 'ARP OPCODE=', 'ARP operation (1 request, 2 reply).'],
      ['iptables.truncated', 'bool', N, 'UDM `TTL=`/`TL=`/`L=` lines', 'The sender cut the line before IN= (UniFi UDM): no interfaces or addresses.'],
      ['iptables.unparsed', 'string[]', N, 'any', 'Tokens the parser did not recognise or whose value was invalid (partial parse).'],
      ['iptables.kernel_uptime_us', 'int', N, 'printk `[ 1234.567890]`, kmsg USEC', 'Kernel uptime in microseconds when the line was logged (an integer, so Elasticsearch never maps it as `long` from a whole-second value and then truncates).'],
    ],
  ],
  [
    'Vendor labels and rules',
    [
      ['iptables.ubiquiti.rule_set', 'string', E, '`[RULESET-NUM-A]`, UniFi OS `[RULESET-A-NUM]`', 'Ubiquiti/VyOS rule set.'],
      ['iptables.ubiquiti.rule_number', 'string', E, 'label', 'Ubiquiti/VyOS rule number (`default` possible).'],
      ['iptables.ubiquiti.input_zone', 'string', E, 'rule set `IN-OUT`', 'Zone before the `-` of the rule set.'],
      ['iptables.ubiquiti.output_zone', 'string', E, 'rule set `IN-OUT`', 'Zone after the `-` of the rule set.'],
      ['rule.id', 'string', E, 'Ubiquiti rule number', 'Rule id.'],
      ['rule.name', 'string', E, 'Ubiquiti rule set, firewalld label, Shorewall chain, prefix rule', 'Rule name.'],
      ['rule.description', 'string', E, 'UniFi OS `DESCR="..."`', 'Rule description.'],
      ['rule.ruleset', 'string', E, 'UFW / firewalld / Shorewall labels', 'Rule set product: `ufw`, `firewalld`, `shorewall`.'],
      ['observer.ingress.zone', 'string', E, 'Ubiquiti/Shorewall zones, firewalld IN/FWD zone', 'Ingress zone.'],
      ['observer.egress.zone', 'string', E, 'Ubiquiti/Shorewall zones, firewalld OUT zone', 'Egress zone.'],
    ],
  ],
  [
    'Event classification (ECS)',
    [
      ['event.kind', 'string', E, 'constant', '`event`; `pipeline_error` when the frame did not parse (as Elastic).'],
      ['event.category', 'string[]', E, 'constant', '`["network"]`.'],
      ['event.type', 'string[]', E, 'action classification, addresses', '`denied` or `allowed` from the action, then `connection` when both addresses are known.'],
      ['event.action', 'string', E, 'prefix / label', 'Lowercase action: Ubiquiti letter (`A` accept, `D` drop, `R` reject), UFW/firewalld/Shorewall word, a prefix rule, or the last word of the prefix (`DENY:` -> `deny`).'],
      ['event.outcome', 'string', E, 'action classification', '`failure` for denied, `success` for allowed (ECS values); absent when unknown.'],
      ['event.dataset', 'string', E, 'option `dataset`', 'Dataset, `iptables.log` by default.'],
      ['event.module', 'string', E, 'constant', '`iptables`.'],
      ['data_stream.dataset', 'string', E, 'option `dataset`', 'Routing for the Elasticsearch exporter, `iptables.log` by default.'],
      ['data_stream.namespace', 'string', E, 'option `namespace`', 'Routing namespace, `default` by default.'],
    ],
  ],
  [
    'Syslog and receiving',
    [
      ['observer.name', 'string', E, 'syslog HOSTNAME', 'The sending host (the firewall).'],
      ['log.syslog.priority', 'int', E, '<PRI>', 'Syslog priority.'],
      ['log.syslog.facility.code', 'int', E, '<PRI> / 8', 'Syslog facility number.'],
      ['log.syslog.facility.name', 'string', E, '<PRI> / 8', 'Syslog facility keyword (`kern`).'],
      ['log.syslog.severity.code', 'int', E, '<PRI> % 8', 'Syslog severity number.'],
      ['log.syslog.severity.name', 'string', E, '<PRI> % 8', 'Syslog severity keyword (`warning`).'],
      ['log.syslog.appname', 'string', E, 'TAG / APP-NAME', 'Syslog app name (`kernel`).'],
      ['log.syslog.procid', 'string', E, 'PROCID / TAG[pid]', 'Syslog process id.'],
      ['log.syslog.msgid', 'string', E, 'MSGID (RFC 5424)', 'Syslog message id (syslog-ng puts the kmsg sequence here).'],
      ['log.syslog.transport', 'string', N, 'listener', 'Transport the frame arrived on: `udp`, `tcp`, `tls` or `relp` (not `network.transport`, which is the logged packet\'s protocol).'],
      ['network.peer.address', 'string', S, 'socket', 'Address of the syslog sender (relay or firewall).'],
      ['network.peer.port', 'int', S, 'socket', 'Port of the syslog sender.'],
      ['log.record.original', 'string', S, 'frame', 'The raw frame; with `preserveOriginal`, and always on failure. Elastic: `event.original`.'],
      ['error.type', 'string', S, 'parser', 'Why the frame did not parse: `not_netfilter`, `empty_frame`, `internal_error`.'],
      ['error.message', 'string', S, 'parser', 'Human-readable failure description.'],
    ],
  ],
  [
    'Local sources (kmsg, journald, file inputs)',
    [
      ['input.type', 'string', E, 'input', 'The input that read the line: `kmsg`, `journald`, or `log` for files (the value Elastic\'s logfile input sets). Absent for network listeners (see `log.syslog.transport`).'],
      ['log.file.path', 'string', E, 'file input', 'Path of the file the line was read from.'],
      ['log.offset', 'int', E, 'file input', 'Byte offset of the line\'s start in that file.'],
      ['journald.host.boot_id', 'string', E, 'journal `_BOOT_ID`', 'Boot id of the host that wrote the journal entry.'],
      ['systemd.transport', 'string', E, 'journal `_TRANSPORT`', 'Journal transport the entry arrived by (`kernel`, `syslog`, `journal`, ...).'],
      ['host.id', 'string', E, 'journal `_MACHINE_ID`', 'Machine id of the host that wrote the journal entry.'],
    ],
  ],
];

function build(): AttributeSpec[] {
  const out: AttributeSpec[] = [];
  const quoted: AttributeSpec[] = [];
  for (const [group, rows] of GROUPS) {
    for (const [name, type, origin, source, description, q] of rows) {
      const format = FORMATS[name];
      const extra = { ...(format !== undefined ? { format } : {}), ...(MAY_BE_EMPTY.has(name) ? { mayBeEmpty: true } : {}) };
      out.push({ name, type, origin, source, description, group, quoted: q === true, ...extra });
      if (q === true) {
        quoted.push({
          name: quotedName(name),
          type,
          ...extra,
          origin: 'iptables-otel',
          source: `${source} inside \`[ ... ]\``,
          description: `Quoted packet of an ICMP/ICMPv6 error: ${description.charAt(0).toLowerCase()}${description.slice(1)}`,
          group: 'ICMP-quoted packet',
        });
      }
    }
  }
  return out.concat(quoted);
}

/** Every attribute, in documentation order (quoted-packet variants last). */
export const ATTRIBUTES: readonly AttributeSpec[] = build();

/** Name -> spec. */
export const ATTRIBUTE_BY_NAME: ReadonlyMap<string, AttributeSpec> = new Map(ATTRIBUTES.map((a) => [a.name, a]));
