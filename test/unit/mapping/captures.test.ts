/** Real senders' bytes (../shared/fixtures/captures, UDP datagrams = one frame each) parse cleanly. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import { fixturesDir } from '../../helpers/paths.js';

const dir = path.join(fixturesDir, 'captures');
const frames: Array<{ file: string; text: string }> = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
  for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
    if (line.length === 0) continue;
    const o = JSON.parse(line) as { proto?: string; text?: string };
    if (o.proto === 'udp' && typeof o.text === 'string') frames.push({ file, text: o.text });
  }
}

/** IPv6 in its canonical text form (RFC 5952, via the URL parser), IPv4 as is. */
function canonicalIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** The kernel's PROTO= words in these captures and their IANA keywords. */
const TRANSPORT: Record<string, string> = { TCP: 'tcp', UDP: 'udp', ICMP: 'icmp', ICMPv6: 'ipv6-icmp' };

describe('captured frames from logger, rsyslog, syslog-ng and the kernel', () => {
  it('has captures', () => {
    expect(frames.length).toBeGreaterThan(15);
  });
  it.each(frames.map((f, i) => [`${f.file} #${i}`, f.text]))('%s', (_name, text) => {
    const r = parseFrame(text, { transport: 'udp', peerAddress: '127.0.0.1' });
    const a = r.attributes;
    if (!text.includes('IN=')) {
      expect(a['error.type']).toBe('not_netfilter');
      return;
    }
    expect(a['error.type']).toBeUndefined();
    expect(a['iptables.unparsed']).toBeUndefined();
    // Exact values, read from the frame text independently of the parser.
    expect(a['source.address']).toBe(canonicalIp(/ SRC=(\S+)/.exec(text)![1]!));
    expect(a['network.transport']).toBe(TRANSPORT[/ PROTO=(\S+)/.exec(text)![1]!]);
    expect(a['observer.name']).toBe(/ (vm|fw1) kernel[ :]/.exec(text)![1]);
    expect(r.severityNumber).toBeGreaterThan(0);
    expect(r.body.length).toBeGreaterThan(0);
    expect(text.endsWith(r.body) || text.trimEnd().endsWith(r.body.trimEnd())).toBe(true);
  });
});
