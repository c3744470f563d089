import type { HrTime } from '@opentelemetry/api';
import type { SyslogDecodeOptions, SyslogMessage } from './syslog-message.js';
import { newMessage, setPriority } from './message.js';
import { parseIsoStamp, stampToHrTime } from './timestamp.js';
import type { TimeZoneResolver } from './timezone.js';

/**
 * RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]`, with
 * NILVALUE `-` for absent fields.
 *
 * Body rule (so a kernel line has the same `msg` whether it came as RFC 3164 or RFC 5424): MSG
 * starts after the separator space that follows STRUCTURED-DATA, then after a UTF-8 BOM if
 * present, then after **one** more leading space if present. That extra space is the RFC 3164
 * TAG/MSG separator that rsyslog keeps in its MSG property and re-emits in
 * RSYSLOG_SyslogProtocol23Format (`- - -  iptables-dropped: ...`); syslog-ng sends a single
 * space. Either way `msg` equals what `kernel: ` is followed by in the RFC 3164 form.
 *
 * Lenient where senders are: fields missing at the end of the frame are absent, STRUCTURED-DATA
 * that does not start with `[` or `-` is taken as the start of MSG, and an unterminated SD element
 * makes the whole rest MSG (no data is ever dropped).
 */

function fieldEnd(s: string, i: number, end: number): number {
  const sp = s.indexOf(' ', i);
  return sp < 0 || sp > end ? end : sp;
}

function isNil(s: string, a: number, b: number): boolean {
  return b - a === 1 && s.charCodeAt(a) === 0x2d;
}

/** End (exclusive) of the SD elements starting with `[` at i, or -1 if unterminated. */
function sdEnd(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === 0x5b) {
    let inQuotes = false;
    let j = i + 1;
    for (; j < end; j++) {
      const c = s.charCodeAt(j);
      if (inQuotes) {
        if (c === 0x5c) j++; // `\"`, `\\`, `\]`: skip the escaped char
        else if (c === 0x22) inQuotes = false;
      } else if (c === 0x22) inQuotes = true;
      else if (c === 0x5d) break;
    }
    if (j >= end) return -1;
    i = j + 1;
  }
  return i;
}

/**
 * Decodes an RFC 5424 frame; p is just after `<PRI>1 `. Returns undefined when TIMESTAMP is
 * neither `-` nor RFC 3339 (the caller then falls back to other forms).
 */
export function decodeRfc5424(
  s: string,
  p: number,
  end: number,
  pri: number,
  zone: TimeZoneResolver,
  options: SyslogDecodeOptions,
): SyslogMessage | undefined {
  let timestamp: HrTime | undefined;
  let i: number;
  if (s.charCodeAt(p) === 0x2d && (p + 1 >= end || s.charCodeAt(p + 1) === 0x20)) {
    i = p + 1;
  } else {
    i = parseIsoStamp(s, p, end);
    if (i < 0) return undefined;
    timestamp = stampToHrTime(zone, options);
  }

  // HOSTNAME, APP-NAME, PROCID, MSGID: [start, end) pairs, -1 when absent or NIL.
  let hostA = -1, hostB = -1, appA = -1, appB = -1, procA = -1, procB = -1, idA = -1, idB = -1;
  for (let field = 0; field < 4 && i < end; field++) {
    const a = i + 1;
    const b = fieldEnd(s, a, end);
    i = b;
    if (isNil(s, a, b) || b === a) continue;
    if (field === 0) { hostA = a; hostB = b; }
    else if (field === 1) { appA = a; appB = b; }
    else if (field === 2) { procA = a; procB = b; }
    else { idA = a; idB = b; }
  }

  let sdA = -1;
  let sdB = -1;
  let msgStart = end;
  if (i < end) {
    const a = i + 1;
    const c = s.charCodeAt(a);
    if (c === 0x2d && (a + 1 >= end || s.charCodeAt(a + 1) === 0x20)) {
      msgStart = a + 1;
    } else if (c === 0x5b) {
      const b = sdEnd(s, a, end);
      if (b >= 0 && (b >= end || s.charCodeAt(b) === 0x20)) {
        sdA = a;
        sdB = b;
        msgStart = b;
      } else msgStart = a - 1; // not valid SD: it is MSG (after its separator below)
    } else msgStart = a - 1;
    if (msgStart < end && s.charCodeAt(msgStart) === 0x20) msgStart++;
    if (msgStart < end && s.charCodeAt(msgStart) === 0xfeff) msgStart++;
    if (msgStart < end && s.charCodeAt(msgStart) === 0x20) msgStart++;
  }

  const m = newMessage('rfc5424', s, msgStart, end);
  setPriority(m, pri);
  m.timestamp = timestamp;
  if (hostA >= 0) m.hostname = s.slice(hostA, hostB);
  if (appA >= 0) m.appName = s.slice(appA, appB);
  if (procA >= 0) m.procId = s.slice(procA, procB);
  if (idA >= 0) m.msgId = s.slice(idA, idB);
  if (sdA >= 0) m.structuredData = s.slice(sdA, sdB);
  return m;
}
