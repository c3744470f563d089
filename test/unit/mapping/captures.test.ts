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
    expect(a['source.address']).toBeDefined();
    expect(a['network.transport']).toBeDefined();
    expect(a['observer.name']).toBeDefined();
    expect(r.severityNumber).toBeGreaterThan(0);
    expect(r.body.length).toBeGreaterThan(0);
    expect(text.endsWith(r.body) || text.trimEnd().endsWith(r.body.trimEnd())).toBe(true);
  });
});
