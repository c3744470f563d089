import { describe, expect, it } from 'vitest';
import { hrTimeToNanosString, logRecordToOtlpJson } from '../../../src/output/otlp-json.js';
import type { FirewallLogRecord } from '../../../src/mapping/record.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import { LINES } from '../netfilter/sample-lines.js';

describe('logRecordToOtlpJson', () => {
  it('encodes every value kind per OTLP/JSON', () => {
    const record: FirewallLogRecord = {
      timestamp: [1795700000, 5],
      observedTimestamp: [1795700001, 123456789],
      severityNumber: 13,
      severityText: 'warning',
      body: 'line "quoted" \\ \u0001 é\n',
      attributes: { s: 'a"b', i: 42, big: 4294967295, neg: -3, d: 1.5, b: true, f: false, ss: ['x', 'y'], ii: [1, 2], e: [] },
    };
    const text = logRecordToOtlpJson(record);
    expect(JSON.parse(text)).toEqual({
      timeUnixNano: '1795700000000000005',
      observedTimeUnixNano: '1795700001123456789',
      severityNumber: 13,
      severityText: 'warning',
      body: { stringValue: 'line "quoted" \\ \u0001 é\n' },
      attributes: [
        { key: 's', value: { stringValue: 'a"b' } },
        { key: 'i', value: { intValue: '42' } },
        { key: 'big', value: { intValue: '4294967295' } },
        { key: 'neg', value: { intValue: '-3' } },
        { key: 'd', value: { doubleValue: 1.5 } },
        { key: 'b', value: { boolValue: true } },
        { key: 'f', value: { boolValue: false } },
        { key: 'ss', value: { arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }] } } },
        { key: 'ii', value: { arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }] } } },
        { key: 'e', value: { arrayValue: { values: [] } } },
      ],
    });
  });
  it('uses the observed time without a timestamp (as the SDK does) and omits severityText without text', () => {
    const o = JSON.parse(logRecordToOtlpJson({ observedTimestamp: [1, 0], severityNumber: 0, body: '', attributes: {} }));
    expect(o).toEqual({ timeUnixNano: '1000000000', observedTimeUnixNano: '1000000000', severityNumber: 0, body: { stringValue: '' }, attributes: [] });
  });
  it('non-finite doubles use the proto3 JSON strings', () => {
    const o = JSON.parse(logRecordToOtlpJson({ observedTimestamp: [1, 0], severityNumber: 0, body: '', attributes: { n: NaN, p: Infinity } }));
    expect(o.attributes).toEqual([
      { key: 'n', value: { doubleValue: 'NaN' } },
      { key: 'p', value: { doubleValue: 'Infinity' } },
    ]);
  });
  it('nanosecond strings', () => {
    expect(hrTimeToNanosString([0, 0])).toBe('0');
    expect(hrTimeToNanosString([0, 999])).toBe('999');
    expect(hrTimeToNanosString([1795700000, 999999999])).toBe('1795700000999999999');
  });
  it('round-trips a parsed record', () => {
    const r = parseFrame(`<4>Nov 26 14:24:16 fw1 kernel: [  293.053963] ${LINES.icmpUnreach}`);
    const o = JSON.parse(logRecordToOtlpJson(r)) as { attributes: Array<{ key: string; value: Record<string, unknown> }> };
    expect(o.attributes.length).toBe(Object.keys(r.attributes).length);
    const byKey = new Map(o.attributes.map((a) => [a.key, a.value]));
    expect(byKey.get('iptables.kernel_uptime_us')).toEqual({ intValue: '293053963' });
    expect(byKey.get('iptables.icmp.type')).toEqual({ intValue: '3' });
    expect(byKey.get('event.type')).toEqual({ arrayValue: { values: [{ stringValue: 'connection' }] } });
  });
});
