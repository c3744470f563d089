#!/usr/bin/env bash
# Regenerate test/corpus/kernel.kmsg and test/corpus/kernel.log: real netfilter LOG lines
# that this machine's kernel prints for the traffic in test/integration/kernel/scenario.ts
# (documentation addresses, fixed MACs, interfaces *-fw). Needs root, iproute2, iptables,
# nftables, socat, ping and python3-scapy; takes a few seconds. Only the kernel-side
# checks run here, so a parser that is broken or unfinished does not block regeneration.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-test/corpus}"
KERNEL_CORPUS_DIR="$out" npx vitest run test/integration/kernel/kernel-log.test.ts -t 'the kernel printed what was sent'
wc -l "$out/kernel.kmsg" "$out/kernel.log"
