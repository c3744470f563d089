/**
 * Frame -> SyslogMessage. Recognises, in this order:
 * - `<PRI>1 ...` RFC 5424;
 * - `[<PRI>]Mmm dd hh:mm:ss ...` / `[<PRI>]YYYY-MM-DDThh:mm:ss...` RFC 3164 (format 'ulogd' for
 *   PRI-less LOGEMU lines whose prefix is followed by `IN=`);
 * - `<PRI>` followed by anything else: format 'rfc3164' with only the priority, MSG = the rest
 *   (e.g. `dmesg -r` output `<4>[  296.341291] ...`);
 * - `PRI,SEQ,USEC,FLAGS;MSG` /dev/kmsg;
 * - otherwise 'bare': the whole frame is MSG.
 * PRI must be 0..191 (`<999>` is not a PRI). Trailing LF, CR and NUL are not part of MSG;
 * nothing else is stripped from its end.
 */
import type { SyslogDecodeOptions, SyslogMessage } from './syslog-message.js';
import { decodeKmsg } from './kmsg.js';
import { newMessage, setPriority } from './message.js';
import { decodeRfc3164 } from './rfc3164.js';
import { decodeRfc5424 } from './rfc5424.js';
import { resolveTimezone, type TimeZoneResolver } from './timezone.js';

export { validateTimezone } from './timezone.js';
export { severityNumberOf, severityTextOf } from './severity.js';
export { facilityNameOf } from './facility.js';

const NO_OPTIONS: SyslogDecodeOptions = {};

// The last zone used: config passes the same string every time, so skip even the Map lookup.
let lastZoneName: string | undefined;
let lastZone: TimeZoneResolver = resolveTimezone(undefined);

function zoneFor(tz: string | undefined): TimeZoneResolver {
  if (tz !== lastZoneName) {
    lastZone = resolveTimezone(tz);
    lastZoneName = tz;
  }
  return lastZone;
}

function frameText(frame: unknown): string {
  if (typeof frame === 'string') return frame;
  if (Buffer.isBuffer(frame)) return frame.toString('utf8');
  if (frame instanceof Uint8Array) return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
  return '';
}

/** Length of s without trailing LF, CR and NUL. */
function trimmedEnd(s: string): number {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c === 0x0a || c === 0x0d || c === 0) end--;
    else break;
  }
  return end;
}

function decodeText(s: string, options: SyslogDecodeOptions): SyslogMessage {
  const end = trimmedEnd(s);

  let pri = -1;
  let p = 0;
  if (s.charCodeAt(0) === 0x3c) {
    let v = 0;
    let i = 1;
    while (i < 4 && i < end) {
      const d = s.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i > 1 && s.charCodeAt(i) === 0x3e && v <= 191) {
      pri = v;
      p = i + 1;
    }
  }

  const zone = zoneFor(options.timezone);
  if (pri >= 0) {
    if (s.charCodeAt(p) === 0x31 && s.charCodeAt(p + 1) === 0x20) {
      const m = decodeRfc5424(s, p + 2, end, pri, zone, options);
      if (m !== undefined) return m;
    }
    const m = decodeRfc3164(s, p, end, pri, zone, options);
    if (m !== undefined) return m;
    const only = newMessage('rfc3164', s, p, end);
    setPriority(only, pri);
    return only;
  }

  const c0 = s.charCodeAt(0);
  if (c0 >= 0x30 && c0 <= 0x39) {
    const k = decodeKmsg(s, end, options.bootTimeMs);
    if (k !== undefined) return k;
  }
  const m = decodeRfc3164(s, 0, end, -1, zone, options);
  if (m !== undefined) return m;
  return newMessage('bare', s, 0, end);
}

/**
 * Decodes one syslog frame (already de-framed: no octet count, no delimiter needed) into its
 * header fields and MSG. Never throws: a frame it cannot recognise comes back as
 * `format: 'bare'` with the whole frame (minus trailing LF/CR/NUL) as `msg`.
 *
 * `msg` is MSG as sent: for RFC 3164 what follows `TAG: ` (one space consumed), for RFC 5424
 * what follows STRUCTURED-DATA and its space, minus a BOM and one more leading space (see
 * rfc5424.ts), so the same kernel line has the same `msg` in both. A printk stamp stays in `msg`;
 * `contentStart` points past it and past leading spaces.
 *
 * Buffers are decoded as UTF-8. Stamps without a zone are read in `options.timezone`.
 */
export function decodeSyslog(frame: string | Buffer, options?: SyslogDecodeOptions): SyslogMessage {
  const s = frameText(frame);
  try {
    return decodeText(s, options ?? NO_OPTIONS);
  } catch {
    // Defensive only: every path above is bounds-checked. A decoder bug must not drop a record.
    return newMessage('bare', s, 0, trimmedEnd(s));
  }
}

/**
 * `decodeSyslog` bound to one set of options (copied once; the zone is resolved up front), e.g.
 * one per input.
 */
export function createSyslogDecoder(options?: SyslogDecodeOptions): (frame: string | Buffer) => SyslogMessage {
  const opts: SyslogDecodeOptions = { ...options };
  resolveTimezone(opts.timezone);
  return (frame) => decodeSyslog(frame, opts);
}
