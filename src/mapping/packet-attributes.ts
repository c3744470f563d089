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

/** Writes the fields both packet kinds share, under `names`. */
export function writePacket(a: RecordAttributes, p: PacketFields, names: Readonly<PacketNames>): void {
  if (p.source !== undefined) a[names.source] = p.source;
  if (p.sourcePort !== undefined) a[names.sourcePort] = p.sourcePort;
  if (p.destination !== undefined) a[names.destination] = p.destination;
  if (p.destinationPort !== undefined) a[names.destinationPort] = p.destinationPort;
  if (p.transport !== undefined) a[names.transport] = p.transport;
  if (p.ianaNumber !== undefined) a[names.ianaNumber] = NUMBER_TEXT[p.ianaNumber] ?? String(p.ianaNumber);
  if (p.length !== undefined) a[names.length] = p.length;
  if (p.tos !== undefined) a[names.tos] = p.tos;
  if (p.precedence !== undefined) a[names.precedence] = p.precedence;
  if (p.ttl !== undefined) a[names.ttl] = p.ttl;
  if (p.id !== undefined) a[names.id] = p.id;
  if (p.fragmentFlags !== undefined) a[names.fragmentFlags] = p.fragmentFlags;
  if (p.fragmentOffset !== undefined) a[names.fragmentOffset] = p.fragmentOffset;
  if (p.flowLabel !== undefined) a[names.flowLabel] = p.flowLabel;
  if (p.tcpSeq !== undefined) a[names.tcpSeq] = p.tcpSeq;
  if (p.tcpAck !== undefined) a[names.tcpAck] = p.tcpAck;
  if (p.tcpWindow !== undefined) a[names.tcpWindow] = p.tcpWindow;
  if (p.tcpReservedBits !== undefined) a[names.tcpReservedBits] = p.tcpReservedBits;
  if (p.tcpFlags !== undefined) a[names.tcpFlags] = p.tcpFlags;
  if (p.udpLength !== undefined) a[names.udpLength] = p.udpLength;
  if (p.spi !== undefined) a[names.spi] = p.spi;
  if (p.incompleteBytes !== undefined) a[names.incompleteBytes] = p.incompleteBytes;
  if (p.icmpType !== undefined) a[names.icmpType] = p.icmpType;
  if (p.icmpCode !== undefined) a[names.icmpCode] = p.icmpCode;
  if (p.icmpId !== undefined) a[names.icmpId] = p.icmpId;
  if (p.icmpSeq !== undefined) a[names.icmpSeq] = p.icmpSeq;
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
