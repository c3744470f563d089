import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { ParseOutcomeCounter } from '../../../src/ops/parse-outcomes.js';

async function parsed(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.parsed.get()).values) out[String(v.labels.outcome)] = v.value;
  return out;
}

describe('ParseOutcomeCounter', () => {
  it('counts ok, partial and failed records and moves them to the metrics in bulk', async () => {
    const metrics = new Metrics();
    const c = new ParseOutcomeCounter();
    c.count(parseFrame('<4>Nov 26 14:20:01 fw1 kernel: x: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=TCP SPT=1 DPT=2 WINDOW=1 RES=0x00 SYN URGP=0 '));
    c.count(parseFrame('<4>Nov 26 14:20:01 fw1 kernel: usb 1-1: new high-speed USB device'));
    // A record that kept what parsed and flagged the rest (the parser's partial-success case).
    c.count({ observedTimestamp: [1, 0], severityNumber: 0, body: '', attributes: { 'iptables.unparsed': ['ZZZ'] } });
    expect(await parsed(metrics)).toEqual({});
    c.flushTo(metrics);
    expect(await parsed(metrics)).toEqual({ ok: 1, partial: 1, failed: 1 });
    expect((await metrics.parseFailures.get()).values[0]?.value).toBe(1);
    c.flushTo(metrics); // reset: nothing counted twice
    expect(await parsed(metrics)).toEqual({ ok: 1, partial: 1, failed: 1 });
  });
});
