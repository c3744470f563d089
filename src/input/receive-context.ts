import type { HrTime } from '@opentelemetry/api';

/**
 * Canonical text of a peer address: IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a
 * dual-stack socket reports for IPv4 senders) becomes plain IPv4.
 */
export function canonicalPeerAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  if (address.length > 7 && (address.startsWith('::ffff:') || address.startsWith('::FFFF:'))) {
    const v4 = address.slice(7);
    if (v4.includes('.')) return v4;
  }
  return address;
}

let offsetMs = 0;
let lastSyncMs = Number.NEGATIVE_INFINITY;

/**
 * Wall-clock receive time with sub-millisecond resolution. Uses the monotonic
 * `performance.now()` but re-anchors it to `Date.now()` every second, so a
 * long-running process follows NTP adjustments of the wall clock.
 * Inputs call it once per socket read, not per frame.
 */
export function receiveTime(): HrTime {
  const now = performance.now();
  if (now - lastSyncMs > 1000) {
    offsetMs = Date.now() - (performance.timeOrigin + now);
    lastSyncMs = now;
  }
  const ms = performance.timeOrigin + now + offsetMs;
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  return [seconds, nanos];
}
