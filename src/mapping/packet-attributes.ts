/**
 * PacketFields -> attributes. The same code writes the logged packet under its own names
 * and the packet an ICMP error quotes under `iptables.icmp.quoted.*`, so the quoted packet
 * can never overwrite the outer fields.
 */
import type { RecordAttributes } from './record.js';
import type { PacketFields } from '../netfilter/packet-fields.js';
import { quotedName } from './attribute-table.js';

/** Attribute names for the fields both the logged and the quoted packet have. */
export interface PacketNames {
  source: string;
  sourcePort: string;
  destination: string;
  destinationPort: string;
  transport: string;
  ianaNumber: string;
  length: string;
  tos: string;
  precedence: string;
  ttl: string;
  id: string;
  fragmentFlags: string;
  fragmentOffset: string;
  flowLabel: string;
  tcpSeq: string;
  tcpAck: string;
  tcpWindow: string;
  tcpReservedBits: string;
  tcpFlags: string;
  udpLength: string;
  spi: string;
  incompleteBytes: string;
  icmpType: string;
  icmpCode: string;
  icmpId: string;
  icmpSeq: string;
}

/** Names of the logged packet. */
export const OUTER_NAMES: Readonly<PacketNames> = Object.freeze({
  source: 'source.address',
  sourcePort: 'source.port',
  destination: 'destination.address',
  destinationPort: 'destination.port',
  transport: 'network.transport',
  ianaNumber: 'network.iana_number',
  length: 'iptables.length',
  tos: 'iptables.tos',
  precedence: 'iptables.precedence_bits',
  ttl: 'iptables.ttl',
  id: 'iptables.id',
  fragmentFlags: 'iptables.fragment_flags',
  fragmentOffset: 'iptables.fragment_offset',
  flowLabel: 'iptables.flow_label',
  tcpSeq: 'iptables.tcp.seq',
  tcpAck: 'iptables.tcp.ack',
  tcpWindow: 'iptables.tcp.window',
  tcpReservedBits: 'iptables.tcp.reserved_bits',
  tcpFlags: 'iptables.tcp.flags',
  udpLength: 'iptables.udp.length',
  spi: 'iptables.spi',
  incompleteBytes: 'iptables.incomplete_bytes',
  icmpType: 'iptables.icmp.type',
  icmpCode: 'iptables.icmp.code',
  icmpId: 'iptables.icmp.id',
  icmpSeq: 'iptables.icmp.seq',
});

/** Names of the packet quoted inside an ICMP/ICMPv6 error. */
export const QUOTED_NAMES: Readonly<PacketNames> = Object.freeze(
  Object.fromEntries(Object.entries(OUTER_NAMES).map(([k, v]) => [k, quotedName(v)])) as unknown as PacketNames,
);

// IANA numbers are small: precomputed strings avoid a number->string conversion per record.
const NUMBER_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * Writes the quoted packet's fields under `iptables.icmp.quoted.*` (QUOTED_NAMES), with
 * constant property names: keyed stores would push the attributes object into dictionary mode.
 */
export function writeQuotedPacket(a: RecordAttributes, p: PacketFields): void {
  if (p.source !== undefined) a['iptables.icmp.quoted.source.address'] = p.source;
  if (p.sourcePort !== undefined) a['iptables.icmp.quoted.source.port'] = p.sourcePort;
  if (p.destination !== undefined) a['iptables.icmp.quoted.destination.address'] = p.destination;
  if (p.destinationPort !== undefined) a['iptables.icmp.quoted.destination.port'] = p.destinationPort;
  if (p.transport !== undefined) a['iptables.icmp.quoted.network.transport'] = p.transport;
  if (p.ianaNumber !== undefined) a['iptables.icmp.quoted.network.iana_number'] = NUMBER_TEXT[p.ianaNumber] ?? String(p.ianaNumber);
  if (p.length !== undefined) a['iptables.icmp.quoted.length'] = p.length;
  if (p.tos !== undefined) a['iptables.icmp.quoted.tos'] = p.tos;
  if (p.precedence !== undefined) a['iptables.icmp.quoted.precedence_bits'] = p.precedence;
  if (p.ttl !== undefined) a['iptables.icmp.quoted.ttl'] = p.ttl;
  if (p.id !== undefined) a['iptables.icmp.quoted.id'] = p.id;
  if (p.fragmentFlags !== undefined) a['iptables.icmp.quoted.fragment_flags'] = p.fragmentFlags;
  if (p.fragmentOffset !== undefined) a['iptables.icmp.quoted.fragment_offset'] = p.fragmentOffset;
  if (p.flowLabel !== undefined) a['iptables.icmp.quoted.flow_label'] = p.flowLabel;
  if (p.tcpSeq !== undefined) a['iptables.icmp.quoted.tcp.seq'] = p.tcpSeq;
  if (p.tcpAck !== undefined) a['iptables.icmp.quoted.tcp.ack'] = p.tcpAck;
  if (p.tcpWindow !== undefined) a['iptables.icmp.quoted.tcp.window'] = p.tcpWindow;
  if (p.tcpReservedBits !== undefined) a['iptables.icmp.quoted.tcp.reserved_bits'] = p.tcpReservedBits;
  if (p.tcpFlags !== undefined) a['iptables.icmp.quoted.tcp.flags'] = p.tcpFlags;
  if (p.udpLength !== undefined) a['iptables.icmp.quoted.udp.length'] = p.udpLength;
  if (p.spi !== undefined) a['iptables.icmp.quoted.spi'] = p.spi;
  if (p.incompleteBytes !== undefined) a['iptables.icmp.quoted.incomplete_bytes'] = p.incompleteBytes;
  if (p.icmpType !== undefined) a['iptables.icmp.quoted.icmp.type'] = p.icmpType;
  if (p.icmpCode !== undefined) a['iptables.icmp.quoted.icmp.code'] = p.icmpCode;
  if (p.icmpId !== undefined) a['iptables.icmp.quoted.icmp.id'] = p.icmpId;
  if (p.icmpSeq !== undefined) a['iptables.icmp.quoted.icmp.seq'] = p.icmpSeq;
}

/**
 * Writes the logged packet's shared fields. Same as `writePacket(a, p, OUTER_NAMES)`, but with
 * constant property names so V8 uses fast named stores (this runs for every record).
 */
export function writeOuterPacket(a: RecordAttributes, p: PacketFields): void {
  if (p.source !== undefined) a['source.address'] = p.source;
  if (p.sourcePort !== undefined) a['source.port'] = p.sourcePort;
  if (p.destination !== undefined) a['destination.address'] = p.destination;
  if (p.destinationPort !== undefined) a['destination.port'] = p.destinationPort;
  if (p.transport !== undefined) a['network.transport'] = p.transport;
  if (p.ianaNumber !== undefined) a['network.iana_number'] = NUMBER_TEXT[p.ianaNumber] ?? String(p.ianaNumber);
  if (p.length !== undefined) a['iptables.length'] = p.length;
  if (p.tos !== undefined) a['iptables.tos'] = p.tos;
  if (p.precedence !== undefined) a['iptables.precedence_bits'] = p.precedence;
  if (p.ttl !== undefined) a['iptables.ttl'] = p.ttl;
  if (p.id !== undefined) a['iptables.id'] = p.id;
  if (p.fragmentFlags !== undefined) a['iptables.fragment_flags'] = p.fragmentFlags;
  if (p.fragmentOffset !== undefined) a['iptables.fragment_offset'] = p.fragmentOffset;
  if (p.flowLabel !== undefined) a['iptables.flow_label'] = p.flowLabel;
  if (p.tcpSeq !== undefined) a['iptables.tcp.seq'] = p.tcpSeq;
  if (p.tcpAck !== undefined) a['iptables.tcp.ack'] = p.tcpAck;
  if (p.tcpWindow !== undefined) a['iptables.tcp.window'] = p.tcpWindow;
  if (p.tcpReservedBits !== undefined) a['iptables.tcp.reserved_bits'] = p.tcpReservedBits;
  if (p.tcpFlags !== undefined) a['iptables.tcp.flags'] = p.tcpFlags;
  if (p.udpLength !== undefined) a['iptables.udp.length'] = p.udpLength;
  if (p.spi !== undefined) a['iptables.spi'] = p.spi;
  if (p.incompleteBytes !== undefined) a['iptables.incomplete_bytes'] = p.incompleteBytes;
  if (p.icmpType !== undefined) a['iptables.icmp.type'] = p.icmpType;
  if (p.icmpCode !== undefined) a['iptables.icmp.code'] = p.icmpCode;
  if (p.icmpId !== undefined) a['iptables.icmp.id'] = p.icmpId;
  if (p.icmpSeq !== undefined) a['iptables.icmp.seq'] = p.icmpSeq;
}

/** Writes the fields only the logged packet has (options, ICMP extras). */
export function writeOuterExtras(a: RecordAttributes, p: PacketFields): void {
  if (p.ipOptions !== undefined) a['iptables.ip_options'] = p.ipOptions;
  if (p.extensionHeaders !== undefined) a['iptables.ipv6.extension_headers'] = p.extensionHeaders;
  if (p.tcpUrgentPointer !== undefined) a['iptables.tcp.urgent_pointer'] = p.tcpUrgentPointer;
  if (p.tcpOptions !== undefined) a['iptables.tcp.options'] = p.tcpOptions;
  if (p.icmpParameter !== undefined) a['iptables.icmp.parameter'] = p.icmpParameter;
  if (p.icmpRedirect !== undefined) a['iptables.icmp.redirect'] = p.icmpRedirect;
  if (p.icmpMtu !== undefined) a['iptables.icmp.mtu'] = p.icmpMtu;
  if (p.icmpPointer !== undefined) a['iptables.icmp.pointer'] = p.icmpPointer;
}
