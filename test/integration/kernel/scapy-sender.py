"""Crafted-packet sender for the kernel LOG test, run inside the client namespace.

Reads one packet name per line on stdin, sends that packet, answers "ok NAME" (or
"err NAME: why") on stdout. One long-lived process, because importing scapy takes
about a second. Everything a packet carries is fixed here so the test can compute
what the kernel must print; keep this file and scenario.ts in step.

argv: DST4 IFACE SRC_MAC SRC4 ROUTER4 ROUTER_MAC SRC6 DST6
"""
import struct
import sys

from scapy.all import ARP, ICMP, IP, IPv6, SCTP, TCP, UDP, Dot1Q, Ether, Raw, conf
from scapy.layers.inet6 import ICMPv6PacketTooBig, ICMPv6ParamProblem, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
from scapy.layers.inet import IPOption_Router_Alert
from scapy.sendrecv import sendp
from scapy.supersocket import L3RawSocket

DST4, IFACE, SRC_MAC, SRC4, ROUTER4, ROUTER_MAC, SRC6, DST6 = sys.argv[1:9]
# Addresses inside quoted packets: TEST-NET-3 and 2001:db8:3::/64, not routed anywhere.
OTHER4 = "203.0.113.9"
OTHER6 = "2001:db8:3::9"

# Kernel raw socket (IP_HDRINCL): the kernel routes and resolves neighbours, so no
# ARP from scapy itself and no scapy route table.
conf.L3socket = L3RawSocket
conf.verb = 0


def l3(pkt):
    return ("l3", pkt)


def l2v6(pkt):
    # scapy 2.5 has no raw IPv6 L3 socket: frame it ourselves to the router's MAC.
    return ("l2", Ether(src=SRC_MAC, dst=ROUTER_MAC) / IPv6(src=SRC6, dst=DST6) / pkt)


PACKETS = {
    # SYN with an IP option (router alert) and TCP options; seq above 2^31.
    "tcp-options": l3(
        IP(dst=DST4, id=1, options=[IPOption_Router_Alert()])
        / TCP(sport=40002, dport=7002, seq=3721490160, flags="S", window=8192,
              options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)])
    ),
    # Every TCP flag, urgent pointer 7, IP flags "evil" (printed CE) and DF.
    "tcp-all-flags": l3(
        IP(dst=DST4, id=1, flags="evil+DF")
        / TCP(sport=40020, dport=7020, seq=1, ack=2, flags="FSRPAUEC", urgptr=7, window=8192)
    ),
    # First fragment carrying only 8 bytes of a TCP header.
    "tcp-tiny-fragment": l3(
        IP(dst=DST4, id=0x1234, flags="MF", frag=0, proto=6) / Raw(struct.pack("!HHI", 40040, 7040, 1))
    ),
    "esp": l3(IP(dst=DST4, id=1, proto=50) / Raw(struct.pack("!II", 0x1234ABCD, 1) + b"\0" * 16)),
    # AH: next header 59 (none), payload length 4 (= 24 bytes), SPI 0x5678.
    "ah": l3(IP(dst=DST4, id=1, proto=51) / Raw(struct.pack("!BBHII", 59, 4, 0, 0x5678, 1) + b"\0" * 12)),
    # GRE carrying an IPv4 echo between two TEST-NET-3 hosts.
    "gre": l3(
        IP(dst=DST4, id=1, proto=47)
        / Raw(b"\x00\x00\x08\x00" + bytes(IP(src="203.0.113.1", dst="203.0.113.2") / ICMP()))
    ),
    "sctp": l3(IP(dst=DST4, id=1) / SCTP(sport=40030, dport=7030)),
    # UDP-Lite (136), checksum coverage 8.
    "udplite": l3(IP(dst=DST4, id=1, proto=136) / Raw(struct.pack("!HHHH", 40031, 7031, 8, 0))),
    "icmp-timestamp": l3(IP(dst=DST4, id=1) / ICMP(type=13, id=0x77, seq=3)),
    # ICMP errors with their extra keys: MTU= (after the quoted packet), PARAMETER=, GATEWAY=.
    "icmp-frag-needed": l3(
        IP(dst=DST4, id=1)
        / ICMP(type=3, code=4, nexthopmtu=1280)
        / IP(src=DST4, dst=OTHER4, id=2, flags="DF")
        / UDP(sport=7063, dport=40063)
    ),
    "icmp-param-problem": l3(
        IP(dst=DST4, id=1) / ICMP(type=12, code=0, ptr=20) / IP(src=DST4, dst=OTHER4, id=3) / UDP(sport=7064, dport=40064)
    ),
    "icmp-redirect": l3(
        IP(dst=DST4, id=1)
        / ICMP(type=5, code=1, gw="192.0.2.254")
        / IP(src=DST4, dst=OTHER4, id=4)
        / TCP(sport=7065, dport=40065, flags="S", window=8192)
    ),
    "icmpv6-packet-too-big": l2v6(ICMPv6PacketTooBig(mtu=1280) / IPv6(src=DST6, dst=OTHER6) / UDP(sport=7066, dport=40066)),
    "icmpv6-param-problem": l2v6(ICMPv6ParamProblem(code=0, ptr=6) / IPv6(src=DST6, dst=OTHER6) / UDP(sport=7067, dport=40067)),
    # Two extension headers before UDP; logged with --log-ip-options (OPT ( ) twice).
    "ipv6-ext-headers": l2v6(IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(sport=40061, dport=7061) / b"x"),
    # 802.1Q VLAN 10 with priority 3 to the router (which has no VLAN interface: the
    # netdev ingress hook sees it, then it is dropped).
    "vlan-udp": (
        "l2",
        Ether(src=SRC_MAC, dst=ROUTER_MAC)
        / Dot1Q(vlan=10, prio=3)
        / IP(src=SRC4, dst=DST4, id=1)
        / UDP(sport=40072, dport=7072)
        / b"x",
    ),
    # Broadcast ARP who-has for the router's address.
    "arp-request": (
        "l2",
        Ether(src=SRC_MAC, dst="ff:ff:ff:ff:ff:ff")
        / ARP(op=1, hwsrc=SRC_MAC, psrc=SRC4, hwdst="00:00:00:00:00:00", pdst=ROUTER4),
    ),
}


def main():
    sock = conf.L3socket()
    l2sock = conf.L2socket(iface=IFACE)
    print("ready", flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            continue
        try:
            kind, pkt = PACKETS[name]
            if kind == "l3":
                sock.send(pkt)
            else:
                l2sock.send(pkt)
            print("ok " + name, flush=True)
        except Exception as exc:  # report, keep serving
            print("err %s: %r" % (name, exc), flush=True)


main()
