import { civilToEpochSeconds } from './civil-time.js';

/**
 * A resolved time zone for stamps that carry none (RFC 3164 `Mmm dd hh:mm:ss`, ulogd,
 * zone-less RFC 3339). Offsets are seconds east of UTC.
 */
export interface TimeZoneResolver {
  /** The zone as configured (`UTC`, `+02:00`, `Europe/Berlin`). */
  readonly name: string;
  /** UTC offset in seconds at a UTC instant (epoch seconds). */
  offsetAt(utcSeconds: number): number;
  /** Epoch seconds for a local wall-clock time given as epoch seconds read as if UTC. */
  toUtc(localSeconds: number): number;
}

class FixedZone implements TimeZoneResolver {
  constructor(
    readonly name: string,
    private readonly offset: number,
  ) {}

  /** The fixed offset, whatever the instant. */
  offsetAt(_utcSeconds: number): number {
    return this.offset;
  }

  /** Local time minus the fixed offset. */
  toUtc(localSeconds: number): number {
    return localSeconds - this.offset;
  }
}

// Bounds the per-zone offset cache (one entry per UTC hour seen: ~10 years of hours).
const MAX_CACHED_HOURS = 100_000;

/**
 * An IANA zone. Intl is slow (microseconds per call), so offsets are cached per UTC hour: an hour
 * whose start and end offsets agree is stored once; the rare hour holding a transition is marked
 * and asked exactly each time.
 */
class IanaZone implements TimeZoneResolver {
  private readonly format: Intl.DateTimeFormat;
  private readonly hours = new Map<number, number>();
  // Two hot slots: converting a local time looks up two different hours in turn.
  private lastHour = Number.NaN;
  private lastOffset = 0;
  private prevHour = Number.NaN;
  private prevOffset = 0;

  constructor(readonly name: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Offset at a UTC instant, from the per-hour cache. */
  offsetAt(utcSeconds: number): number {
    const hour = Math.floor(utcSeconds / 3600);
    if (hour === this.lastHour) return this.lastOffset;
    if (hour === this.prevHour) return this.prevOffset;
    let offset = this.hours.get(hour);
    if (offset === undefined) {
      const start = hour * 3600;
      const a = this.exactOffset(start);
      const b = this.exactOffset(start + 3599);
      offset = a === b ? a : Number.NaN;
      if (this.hours.size >= MAX_CACHED_HOURS) this.hours.clear();
      this.hours.set(hour, offset);
    }
    if (offset !== offset) return this.exactOffset(utcSeconds);
    this.prevHour = this.lastHour;
    this.prevOffset = this.lastOffset;
    this.lastHour = hour;
    this.lastOffset = offset;
    return offset;
  }

  /** Two passes: the offset at the guessed instant decides; gaps and overlaps resolve to one side. */
  toUtc(localSeconds: number): number {
    const guess = localSeconds - this.offsetAt(localSeconds);
    return localSeconds - this.offsetAt(guess);
  }

  private exactOffset(utcSeconds: number): number {
    const whole = Math.floor(utcSeconds);
    try {
      const parts = this.format.formatToParts(whole * 1000);
      let y = 0;
      let mo = 1;
      let d = 1;
      let h = 0;
      let mi = 0;
      let s = 0;
      for (const p of parts) {
        switch (p.type) {
          case 'year': y = Number(p.value); break;
          case 'month': mo = Number(p.value); break;
          case 'day': d = Number(p.value); break;
          case 'hour': h = Number(p.value) % 24; break;
          case 'minute': mi = Number(p.value); break;
          case 'second': s = Number(p.value); break;
          default: break;
        }
      }
      const offset = civilToEpochSeconds(y, mo, d, h, mi, s) - whole;
      return Number.isFinite(offset) ? offset : 0;
    } catch {
      // Out-of-range instants (never from real stamps): no offset rather than a throw.
      return 0;
    }
  }
}

/** `+HH:MM`, `-HH:MM`, `+HHMM`, `+HH` -> seconds east of UTC, or undefined. */
function parseFixedOffset(tz: string): number | undefined {
  const sign = tz.charCodeAt(0);
  if (sign !== 0x2b && sign !== 0x2d) return undefined;
  let digits = tz.slice(1);
  if (digits.length === 5 && digits.charCodeAt(2) === 0x3a) digits = digits.slice(0, 2) + digits.slice(3);
  if (digits.length !== 2 && digits.length !== 4) return undefined;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const hh = Number(digits.slice(0, 2));
  const mm = digits.length === 4 ? Number(digits.slice(2)) : 0;
  if (hh > 23 || mm > 59) return undefined;
  const seconds = hh * 3600 + mm * 60;
  return sign === 0x2d ? -seconds : seconds;
}

function isUtcName(tz: string): boolean {
  const u = tz.toUpperCase();
  return u === 'UTC' || u === 'Z' || u === 'GMT' || u === 'ETC/UTC' || u === 'ETC/GMT' || u === '';
}

function systemZoneName(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * Checks a configured time zone: `UTC` (also `Z`, `GMT`), a fixed offset (`+02:00`, `-0530`,
 * `+01`), `local` (this host's zone), or an IANA name known to this Node's ICU
 * (`Europe/Berlin`). Returns an error message for config validation, or undefined if valid.
 */
export function validateTimezone(tz: string): string | undefined {
  if (typeof tz !== 'string') return 'time zone must be a string';
  if (isUtcName(tz) || tz === 'local') return undefined;
  const c = tz.charCodeAt(0);
  if (c === 0x2b || c === 0x2d) {
    return parseFixedOffset(tz) === undefined
      ? `invalid UTC offset "${tz}": expected +HH:MM or -HH:MM (hours 00..23, minutes 00..59)`
      : undefined;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}": expected UTC, an offset such as +02:00, local, or an IANA name such as Europe/Berlin`;
  }
}

const UTC_ZONE: TimeZoneResolver = new FixedZone('UTC', 0);
const resolved = new Map<string, TimeZoneResolver>();

/**
 * The resolver for a configured zone (cached per name, so the per-hour offset cache is shared).
 * Never throws: an invalid zone resolves to UTC (config validation rejects it before this).
 */
export function resolveTimezone(tz: string | undefined): TimeZoneResolver {
  if (tz === undefined || tz === 'UTC') return UTC_ZONE;
  let zone = resolved.get(tz);
  if (zone !== undefined) return zone;
  if (validateTimezone(tz) !== undefined || isUtcName(tz)) {
    zone = UTC_ZONE;
  } else {
    const c = tz.charCodeAt(0);
    if (c === 0x2b || c === 0x2d) zone = new FixedZone(tz, parseFixedOffset(tz)!);
    else {
      const name = tz === 'local' ? systemZoneName() : tz;
      zone = isUtcName(name) ? UTC_ZONE : new IanaZone(name);
    }
  }
  // A handful of zones per process at most; the bound only guards against misuse.
  if (resolved.size < 1000) resolved.set(tz, zone);
  return zone;
}
