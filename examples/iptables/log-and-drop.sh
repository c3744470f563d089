#!/bin/sh
# Log, then drop, what the INPUT policy does not allow, with the prefix iptables-otel's
# sample rsyslog / syslog-ng rules select on. Run as root. Adapt the ACCEPT rules first:
# this example only lets in loopback, established traffic and SSH.
#
#   sh log-and-drop.sh            # IPv4 (iptables) and IPv6 (ip6tables)
#
# The kernel writes each log line to the kernel ring buffer at level warning, e.g.
#   iptables-dropped: IN=eth0 OUT= MAC=... SRC=192.0.2.1 DST=192.0.2.2 LEN=60 ... PROTO=TCP SPT=40000 DPT=23 ... SYN URGP=0
# rsyslog (imklog) or syslog-ng (system()) reads it and forwards it to iptables-otel.
set -eu

for ipt in iptables ip6tables; do
  # A chain that logs (rate-limited, so a flood cannot fill the disk or the pipeline) and drops.
  $ipt -N LOG_AND_DROP 2>/dev/null || $ipt -F LOG_AND_DROP
  $ipt -A LOG_AND_DROP -m limit --limit 100/second --limit-burst 200 \
       -j LOG --log-prefix "iptables-dropped: " --log-level warning
  $ipt -A LOG_AND_DROP -j DROP

  # What INPUT allows; everything else goes to LOG_AND_DROP.
  $ipt -C INPUT -i lo -j ACCEPT 2>/dev/null || $ipt -A INPUT -i lo -j ACCEPT
  $ipt -C INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT 2>/dev/null \
    || $ipt -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  $ipt -C INPUT -p tcp --dport 22 -j ACCEPT 2>/dev/null || $ipt -A INPUT -p tcp --dport 22 -j ACCEPT
  $ipt -C INPUT -j LOG_AND_DROP 2>/dev/null || $ipt -A INPUT -j LOG_AND_DROP
done

# Optional extras the parser understands: --log-uid, --log-tcp-sequence, --log-tcp-options,
# --log-ip-options, --log-macdecode. nftables equivalent of the chain above:
#   nft add rule inet filter input limit rate 100/second log prefix \"iptables-dropped: \" level warn drop
