/**
 * The parser benchmark's line mix (bench/parse.ts), also replayed by the golden-output test
 * (test/unit/mapping/golden-output.test.ts): ~70% TCP SYN, 20% UDP, 7% ICMP errors with a quoted
 * packet, 3% IPv6, as RFC 3164 frames the way rsyslog forwards them, with documentation addresses.
 * Deterministic: the same seed gives the same lines.
 */

/** xorshift32 generator; `next(n)` is uniform enough on [0, n) for test data. */
export function prng(seed: number): (n: number) => number {
  let s = seed;
  return (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

/** The seed bench/parse.ts has always used. */
export const BENCH_SEED = 0x9e3779b9;

/**
 * `n` benchmark lines from `seed`. Each is decoded from UTF-8 bytes as an input would pass it:
 * a flat string rather than the concatenation tree template literals build (which V8 reads
 * more slowly).
 */
export function makeBenchLines(n: number, seed = BENCH_SEED): string[] {
  const rnd = prng(seed);
  const NETS = ['192.0.2.', '198.51.100.', '203.0.113.'];
  const ip4 = (): string => `${NETS[rnd(3)]}${1 + rnd(254)}`;
  const hex4 = (): string => rnd(65536).toString(16).padStart(4, '0');
  const ip6 = (): string => `2001:0db8:${hex4()}:0000:0000:0000:0000:${hex4()}`;
  const MAC = 'MAC=02:00:0a:c8:00:01:02:00:0a:c8:00:02:08:00';
  const HEADER = (): string => `<4>Nov 26 ${10 + rnd(14)}:${10 + rnd(50)}:${10 + rnd(50)} fw1 kernel: `;
  const PREFIXES = ['iptables-dropped: ', '[UFW BLOCK] ', '[wan-lan-default-D]', 'filter_IN_public_REJECT: '];
  const tcpSyn = (): string =>
    `${HEADER()}${PREFIXES[rnd(4)]}IN=eth0 OUT= ${MAC} SRC=${ip4()} DST=${ip4()} LEN=60 TOS=0x00 PREC=0x00 TTL=${32 + rnd(32)} ID=${rnd(65536)} DF PROTO=TCP SPT=${1024 + rnd(64000)} DPT=${[22, 80, 443, 3389, 445][rnd(5)]} WINDOW=64240 RES=0x00 SYN URGP=0 `;
  const udp = (): string =>
    `${HEADER()}${PREFIXES[rnd(4)]}IN=eth0 OUT= ${MAC} SRC=${ip4()} DST=${ip4()} LEN=76 TOS=0x00 PREC=0x00 TTL=${32 + rnd(32)} ID=${rnd(65536)} DF PROTO=UDP SPT=${1024 + rnd(64000)} DPT=${[53, 123, 161, 500][rnd(4)]} LEN=56 `;
  const icmpError = (): string => {
    const a = ip4();
    const b = ip4();
    return `${HEADER()}iptables-dropped: IN=eth1 OUT= ${MAC} SRC=${b} DST=${a} LEN=62 TOS=0x00 PREC=0xC0 TTL=63 ID=${rnd(65536)} PROTO=ICMP TYPE=3 CODE=3 [SRC=${a} DST=${b} LEN=34 TOS=0x00 PREC=0x00 TTL=63 ID=${rnd(65536)} DF PROTO=UDP SPT=${1024 + rnd(64000)} DPT=9000 LEN=14 ] `;
  };
  const ipv6 = (): string =>
    `${HEADER()}ip6-dropped: IN=eth0 OUT= MAC=02:00:0a:c8:00:01:02:00:0a:c8:00:02:86:dd SRC=${ip6()} DST=${ip6()} LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=${rnd(1 << 20)} PROTO=TCP SPT=${1024 + rnd(64000)} DPT=443 WINDOW=64800 RES=0x00 SYN URGP=0 `;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd(100);
    const line = r < 70 ? tcpSyn() : r < 90 ? udp() : r < 97 ? icmpError() : ipv6();
    out.push(Buffer.from(line, 'utf8').toString('utf8'));
  }
  return out;
}
