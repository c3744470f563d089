/**
 * Deterministic generator of iptables LOG lines as rsyslog forwards them
 * (traditional RFC 3164 forward format, LF framed). The mix follows the layout of
 * real nf_log output (see the captures under ../shared/fixtures/captures):
 * 70 % TCP SYN, 20 % UDP (IP and UDP `LEN` both present), 7 % ICMP (echo requests
 * with a duplicate `ID`, and destination-unreachable errors that quote the
 * offending packet in `[...]`), 3 % IPv6 TCP with fully expanded addresses.
 * Only documentation addresses are used.
 */
import { createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';

/** Small, fast, seedable PRNG (xorshift32); the output must not depend on Math.random. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HOSTS = ['fw1', 'fw2', 'edge-gw', 'bastion'];
const PREFIXES = ['iptables-dropped: ', 'iptables-dropped: ', 'iptables-dropped: ', '[UFW BLOCK] ', 'fw-accept: '];
const IN_MAC = '52:54:00:12:34:56:52:54:00:65:43:21:08:00';
const IN_MAC6 = '52:54:00:12:34:56:52:54:00:65:43:21:86:dd';
const TCP_PORTS = [22, 80, 443, 3389, 8080, 25, 3306, 5432, 23, 445];
const UDP_PORTS = [53, 123, 161, 500, 1900, 5353, 137];
const NETS = ['192.0.2.', '198.51.100.', '203.0.113.'];

function v4(rng: Rng): string {
  return NETS[rng.int(3)]! + String(1 + rng.int(254));
}

function v6(rng: Rng): string {
  const h = (n: number) => n.toString(16).padStart(4, '0');
  return `2001:0db8:${h(rng.int(4))}:0000:0000:0000:${h(rng.int(65536))}:${h(1 + rng.int(65535))}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// Line number `i` (0-based) of the stream; the same seed always gives the same lines.
function makeLine(rng: Rng, i: number): string {
  const sec = i % 60;
  const min = Math.floor(i / 60) % 60;
  const day = 26;
  const stamp = `${MONTHS[10]} ${day} 14:${two(min)}:${two(sec)}`;
  const host = HOSTS[rng.int(HOSTS.length)]!;
  const prefix = PREFIXES[rng.int(PREFIXES.length)]!;
  const r = rng.int(100);
  const id = rng.int(65536);
  const ttl = 40 + rng.int(88);
  const head = `<4>${stamp} ${host} kernel: ${prefix}`;
  if (r < 70) {
    const fwd = rng.int(5) === 0;
    const inOut = fwd ? 'IN=eth0 OUT=eth1' : 'IN=eth0 OUT=';
    return (
      `${head}${inOut} MAC=${IN_MAC} SRC=${v4(rng)} DST=${v4(rng)} LEN=60 TOS=0x00 PREC=0x00 TTL=${ttl} ID=${id} DF ` +
      `PROTO=TCP SPT=${1024 + rng.int(64000)} DPT=${TCP_PORTS[rng.int(TCP_PORTS.length)]} WINDOW=${29200 + rng.int(36000)} RES=0x00 SYN URGP=0 `
    );
  }
  if (r < 90) {
    const ulen = 8 + rng.int(500);
    return (
      `${head}IN=eth0 OUT= MAC=${IN_MAC} SRC=${v4(rng)} DST=${v4(rng)} LEN=${ulen + 20} TOS=0x00 PREC=0x00 TTL=${ttl} ID=${id} ` +
      `PROTO=UDP SPT=${1024 + rng.int(64000)} DPT=${UDP_PORTS[rng.int(UDP_PORTS.length)]} LEN=${ulen} `
    );
  }
  if (r < 97) {
    if (rng.int(2) === 0) {
      return (
        `${head}IN=eth0 OUT= MAC=${IN_MAC} SRC=${v4(rng)} DST=${v4(rng)} LEN=84 TOS=0x00 PREC=0x00 TTL=${ttl} ID=${id} DF ` +
        `PROTO=ICMP TYPE=8 CODE=0 ID=${rng.int(65536)} SEQ=${1 + rng.int(1000)} `
      );
    }
    // Port unreachable quoting the UDP packet that caused it (inner SRC/DST are swapped).
    const a = v4(rng);
    const b = v4(rng);
    return (
      `${head}IN=eth0 OUT= MAC=${IN_MAC} SRC=${a} DST=${b} LEN=62 TOS=0xC0 PREC=0xC0 TTL=${ttl} ID=${id} ` +
      `PROTO=ICMP TYPE=3 CODE=3 [SRC=${b} DST=${a} LEN=34 TOS=0x00 PREC=0x00 TTL=63 ID=${rng.int(65536)} DF ` +
      `PROTO=UDP SPT=${1024 + rng.int(64000)} DPT=${UDP_PORTS[rng.int(UDP_PORTS.length)]} LEN=14 ] `
    );
  }
  return (
    `${head}IN=eth0 OUT= MAC=${IN_MAC6} SRC=${v6(rng)} DST=${v6(rng)} LEN=80 TC=0 HOPLIMIT=${ttl} FLOWLBL=${rng.int(1048576)} ` +
    `PROTO=TCP SPT=${1024 + rng.int(64000)} DPT=${TCP_PORTS[rng.int(TCP_PORTS.length)]} WINDOW=64800 RES=0x00 SYN URGP=0 `
  );
}

/** Lines as an array (for tests and small runs). */
export function generateLines(count: number, seed = 42): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(makeLine(rng, i));
  return out;
}

/**
 * Write `count` LF-terminated lines to `path` (skipped when a file of that name
 * already exists: the name should encode count and seed). Returns the byte size.
 */
export async function writeLinesFile(path: string, count: number, seed = 42): Promise<number> {
  if (existsSync(path)) return statSync(path).size;
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  const rng = new Rng(seed);
  let chunk: string[] = [];
  for (let i = 0; i < count; i++) {
    chunk.push(makeLine(rng, i));
    if (chunk.length === 4096 || i === count - 1) {
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
      chunk = [];
    }
  }
  out.end();
  await once(out, 'finish');
  renameSync(tmp, path);
  return statSync(path).size;
}
