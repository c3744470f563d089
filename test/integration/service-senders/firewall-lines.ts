/**
 * Realistic netfilter LOG lines for the sender -> service -> OTLP tests, each with the
 * attributes the service must produce for it. Every line is distinct (IP ID, ports, ICMP id
 * or flow label carry its index) and only documentation addresses are used. The expected
 * values are written out by hand here, not computed by the code under test.
 */

/** Attribute values expected on the record of one line (undefined = must be absent). */
export interface ExpectedLine {
  /** The MSG as the kernel printed it (with the trailing space nf_log always adds). */
  msg: string;
  kind: 'tcp4' | 'udp4' | 'icmp4-echo' | 'icmp4-error' | 'tcp6' | 'icmp6-echo' | 'tcp4-printk-time';
  sourceAddress: string;
  destinationAddress: string;
  destinationPort: number | undefined;
  sourcePort: number | undefined;
  transport: string;
  networkType: 'ipv4' | 'ipv6';
  logPrefix: string;
  action: string;
  /** `[ 5025.123456]` printk time at the start of MSG (kernels with printk.time relayed as text). */
  kernelUptime?: number;
  /** ICMP errors: the quoted packet. */
  quoted?: { sourceAddress: string; destinationAddress: string; sourcePort: number; destinationPort: number; transport: string };
}

const MAC = 'MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00';
const MAC6 = 'MAC=52:54:00:12:34:56:52:54:00:65:43:21:86:dd';

/** The 4-hex-digit group of `n` (kernel prints IPv6 fully expanded). */
function group(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * Line `i` of the set: seven kinds in turn (TCP, UDP, ICMP echo, ICMP error with the quoted
 * packet, IPv6 TCP, ICMPv6 echo, and a UFW line that starts with the printk time).
 */
export function firewallLine(i: number): ExpectedLine {
  const host = (i % 250) + 1;
  switch (i % 7) {
    case 0:
      return {
        msg: `iptables-dropped: IN=eth0 OUT= ${MAC} SRC=192.0.2.${host} DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${10000 + i} DF PROTO=TCP SPT=${40000 + i} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 `,
        kind: 'tcp4',
        sourceAddress: `192.0.2.${host}`,
        destinationAddress: '198.51.100.7',
        sourcePort: 40000 + i,
        destinationPort: 22,
        transport: 'tcp',
        networkType: 'ipv4',
        logPrefix: 'iptables-dropped:',
        action: 'iptables-dropped',
      };
    case 1:
      return {
        msg: `[UFW BLOCK] IN=eth0 OUT= ${MAC} SRC=203.0.113.${host} DST=198.51.100.53 LEN=76 TOS=0x00 PREC=0x00 TTL=63 ID=${20000 + i} DF PROTO=UDP SPT=${50000 + i} DPT=53 LEN=56 `,
        kind: 'udp4',
        sourceAddress: `203.0.113.${host}`,
        destinationAddress: '198.51.100.53',
        sourcePort: 50000 + i,
        destinationPort: 53,
        transport: 'udp',
        networkType: 'ipv4',
        logPrefix: '[UFW BLOCK]',
        action: 'block',
      };
    case 2:
      return {
        msg: `INPUT DROP: IN=eth0 OUT= ${MAC} SRC=198.51.100.${host} DST=192.0.2.1 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=${30000 + i} DF PROTO=ICMP TYPE=8 CODE=0 ID=${1000 + i} SEQ=${i} `,
        kind: 'icmp4-echo',
        sourceAddress: `198.51.100.${host}`,
        destinationAddress: '192.0.2.1',
        sourcePort: undefined,
        destinationPort: undefined,
        transport: 'icmp',
        networkType: 'ipv4',
        logPrefix: 'INPUT DROP:',
        action: 'drop',
      };
    case 3:
      return {
        msg: `fw-reject: IN=eth0 OUT= ${MAC} SRC=198.51.100.1 DST=192.0.2.${host} LEN=84 TOS=0x00 PREC=0xC0 TTL=64 ID=${40000 + i} PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.${host} DST=198.51.100.1 LEN=56 TOS=0x00 PREC=0x00 TTL=63 ID=${i + 7} PROTO=UDP SPT=${51000 + i} DPT=33434 LEN=36 ] `,
        kind: 'icmp4-error',
        sourceAddress: '198.51.100.1',
        destinationAddress: `192.0.2.${host}`,
        sourcePort: undefined,
        destinationPort: undefined,
        transport: 'icmp',
        networkType: 'ipv4',
        logPrefix: 'fw-reject:',
        action: 'fw-reject',
        quoted: { sourceAddress: `192.0.2.${host}`, destinationAddress: '198.51.100.1', sourcePort: 51000 + i, destinationPort: 33434, transport: 'udp' },
      };
    case 4:
      return {
        msg: `[UFW ALLOW] IN=eth0 OUT= ${MAC6} SRC=2001:0db8:0000:0000:0000:0000:0000:${group(host)} DST=2001:0db8:0001:0000:0000:0000:0000:0002 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=${100000 + i} PROTO=TCP SPT=${60000 + i} DPT=443 WINDOW=64800 RES=0x00 SYN URGP=0 `,
        kind: 'tcp6',
        sourceAddress: `2001:db8::${host.toString(16)}`,
        destinationAddress: '2001:db8:1::2',
        sourcePort: 60000 + i,
        destinationPort: 443,
        transport: 'tcp',
        networkType: 'ipv6',
        logPrefix: '[UFW ALLOW]',
        action: 'allow',
      };
    case 6:
      return {
        msg: `[ 5025.${String(100000 + i)}] [UFW BLOCK] IN=eth0 OUT= ${MAC} SRC=192.0.2.${host} DST=203.0.113.80 LEN=40 TOS=0x00 PREC=0x00 TTL=241 ID=${50000 + i} PROTO=TCP SPT=${30000 + i} DPT=3389 WINDOW=1024 RES=0x00 SYN URGP=0 `,
        kind: 'tcp4-printk-time',
        kernelUptime: 5025 + (100000 + i) / 1e6,
        sourceAddress: `192.0.2.${host}`,
        destinationAddress: '203.0.113.80',
        sourcePort: 30000 + i,
        destinationPort: 3389,
        transport: 'tcp',
        networkType: 'ipv4',
        logPrefix: '[UFW BLOCK]',
        action: 'block',
      };
    default: // i % 7 === 5
      return {
        msg: `DENY: IN=eth0 OUT= ${MAC6} SRC=2001:0db8:00ff:0000:0000:0000:0000:${group(host)} DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=104 TC=0 HOPLIMIT=64 FLOWLBL=${200000 + i} PROTO=ICMPv6 TYPE=128 CODE=0 ID=${2000 + i} SEQ=${i} `,
        kind: 'icmp6-echo',
        sourceAddress: `2001:db8:ff::${host.toString(16)}`,
        destinationAddress: '2001:db8::1',
        sourcePort: undefined,
        destinationPort: undefined,
        transport: 'ipv6-icmp',
        networkType: 'ipv6',
        logPrefix: 'DENY:',
        action: 'deny',
      };
  }
}

/** Lines 0..n-1. */
export function firewallLines(n: number): ExpectedLine[] {
  return Array.from({ length: n }, (_, i) => firewallLine(i));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An RFC 3164 timestamp (`Nov  6 14:20:01`) in local time, as a kernel-relaying daemon writes it. */
export function rfc3164Stamp(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The frame a firewall host sends to its relay: `<4>` (kern.warning), RFC 3164 header, `kernel:` tag. */
export function kernelFrame(host: string, msg: string, when: Date): string {
  return `<4>${rfc3164Stamp(when)} ${host} kernel: ${msg}`;
}
