import type { FirewallLogRecord } from '../mapping/record.js';

/** Estimated bytes per attribute (key, value, encoding overhead): keeps the estimate O(attributes) with no string scans. */
export const BYTES_PER_ATTRIBUTE = 48;
/** Estimated fixed bytes per record (timestamps, severity, object headers). */
export const BYTES_PER_RECORD = 96;

/**
 * Cheap estimate of the memory and wire size of a record: body length plus a
 * constant per attribute. Used for the queue's byte cap, not for exact accounting.
 */
export function estimateRecordBytes(record: FirewallLogRecord): number {
  let n = 0;
  // for-in over a plain object is the cheapest way to count its own keys without allocating.
  for (const _k in record.attributes) n++;
  return BYTES_PER_RECORD + record.body.length + n * BYTES_PER_ATTRIBUTE;
}
