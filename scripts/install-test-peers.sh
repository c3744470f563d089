#!/usr/bin/env bash
# Installs the real peers the test suites use: rsyslog (with TLS drivers), syslog-ng
# (unpacked beside rsyslog, since Debian makes the two conflict), iptables/nftables/ulogd2
# for kernel LOG tests, logrotate for the file input's rotation tests, systemd-journal-remote
# (writes real journal files) and journalctl for the journald input, and small network tools. Idempotent; needs root (Debian/apt).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "install-test-peers: needs root (apt-get)" >&2
  exit 1
fi

pkgs=(rsyslog rsyslog-openssl rsyslog-gnutls iptables nftables ulogd2 netcat-openbsd socat
      python3-scapy iputils-ping iproute2 procps kmod bsdutils openssl ca-certificates
      libivykis0 libnet1 libwrap0 libpcre3 libjson-c5 libcap2 libglib2.0-0
      logrotate systemd systemd-journal-remote)
pkgs+=(rsyslog-relp)   # omrelp: the RELP sender and chaos tests
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-peers: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# syslog-ng-core and rsyslog both Provide+Conflict system-log-daemon: unpack syslog-ng instead.
if [ ! -x /opt/syslog-ng/usr/sbin/syslog-ng ]; then
  echo "install-test-peers: unpacking syslog-ng into /opt/syslog-ng"
  mkdir -p /opt/syslog-ng-deb
  (cd /opt/syslog-ng-deb && apt-get download syslog-ng-core syslog-ng-scl)
  for f in /opt/syslog-ng-deb/*.deb; do dpkg -x "$f" /opt/syslog-ng; done
fi
echo "install-test-peers: ok"
