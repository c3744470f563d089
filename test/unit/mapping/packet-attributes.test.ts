import { describe, expect, it } from 'vitest';
import { OUTER_NAMES, QUOTED_NAMES, writeOuterPacket, writeQuotedPacket } from '../../../src/mapping/packet-attributes.js';
import { ATTRIBUTE_BY_NAME } from '../../../src/mapping/attribute-table.js';
import { PacketFields } from '../../../src/netfilter/packet-fields.js';
import type { RecordAttributes } from '../../../src/mapping/record.js';

/** A packet with every shared field set to a distinct value. */
function fullPacket(): PacketFields {
  const p = new PacketFields();
  let n = 1;
  for (const key of Object.keys(OUTER_NAMES) as Array<keyof typeof OUTER_NAMES>) {
    (p as unknown as Record<string, unknown>)[key] = key === 'fragmentFlags' || key === 'tcpFlags' ? ['X'] : key === 'source' || key === 'destination' || key === 'transport' ? `v${n}` : n;
    n++;
  }
  return p;
}

describe('packet attribute writers (constant names for fast V8 stores)', () => {
  it('writeOuterPacket writes exactly OUTER_NAMES', () => {
    const a: RecordAttributes = {};
    writeOuterPacket(a, fullPacket());
    expect(Object.keys(a).sort()).toEqual(Object.values(OUTER_NAMES).sort());
  });
  it('writeQuotedPacket writes exactly QUOTED_NAMES, all in the attribute table', () => {
    const a: RecordAttributes = {};
    writeQuotedPacket(a, fullPacket());
    expect(Object.keys(a).sort()).toEqual(Object.values(QUOTED_NAMES).sort());
    for (const k of Object.keys(a)) expect(ATTRIBUTE_BY_NAME.has(k), k).toBe(true);
  });
  it('both writers map each field to the same-named attribute', () => {
    const outer: RecordAttributes = {};
    const quoted: RecordAttributes = {};
    const p = fullPacket();
    writeOuterPacket(outer, p);
    writeQuotedPacket(quoted, p);
    for (const key of Object.keys(OUTER_NAMES) as Array<keyof typeof OUTER_NAMES>) {
      expect(quoted[QUOTED_NAMES[key]], key).toEqual(outer[OUTER_NAMES[key]]);
    }
  });
});
