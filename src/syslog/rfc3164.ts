import type { SyslogDecodeOptions, SyslogMessage } from './syslog-message.js';
import { newMessage, setPriority } from './message.js';
import { parseBsdStamp, parseIsoStamp, stampToHrTime } from './timestamp.js';
import type { TimeZoneResolver } from './timezone.js';

/**
 * RFC 3164 headers as real senders write them: `[<PRI>]STAMP HOST [facility.level] TAG[PID]: MSG`
 * where STAMP is `Mmm dd hh:mm:ss` or RFC 3339 (rsyslog RSYSLOG_ForwardFormat), and the ulogd2
 * LOGEMU variant `STAMP HOST PREFIX IN=...` (no PRI, no tag).
 *
 * Rules for the tokens after the stamp (each is tried at most once, left to right):
 * - HOST: a token followed by a space that does not start with `[`, does not end with `:` and
 *   contains no `=`. (`Jan  8 03:37:09 DENY: IN=...` has no host.)
 * - A `facility.level` token after the host (UniFi UDM: `host user.info kernel: ...`) is skipped.
 * - TAG: a token ending in `:` (`kernel:`, `sshd[42]:`), unless it contains `=` or is followed by
 *   `IN=` (then it is a netfilter log prefix: `nflog-nft:  IN=...`); `kernel:` is always a tag.
 *   A bare word followed by a `[label]` token (`fw [LAN_LOCAL-A-1] ...`) is a vendor tag too.
 * - MSG starts after the tag's single separator space (`kernel: [12.3] X` -> `[12.3] X`), or at
 *   the token after the host when there is no tag.
 */

function tokenEnd(s: string, i: number, end: number): number {
  const sp = s.indexOf(' ', i);
  return sp < 0 || sp > end ? end : sp;
}

// A loop over the token, not indexOf: indexOf would run on to the first `=` of the whole line.
function hasEquals(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (s.charCodeAt(i) === 0x3d) return true;
  return false;
}

function isHostToken(s: string, a: number, b: number): boolean {
  return b > a && s.charCodeAt(a) !== 0x5b && s.charCodeAt(b - 1) !== 0x3a && !hasEquals(s, a, b);
}

function isLowerAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

/** `user.info`, `kern.warning`: lower-case letters, one dot. */
function isFacilityLevel(s: string, a: number, b: number): boolean {
  if (b - a < 3 || b - a > 20) return false;
  let dot = -1;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (dot >= 0) return false;
      dot = i;
    } else if (!isLowerAlpha(c) && !(c >= 0x30 && c <= 0x39)) return false;
  }
  return dot > a && dot < b - 1;
}

/** Letters, digits, `-`, `_` only. */
function isWord(s: string, a: number, b: number): boolean {
  if (b <= a || b - a > 32) return false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (!isLowerAlpha(c) && !(c >= 0x30 && c <= 0x39) && c !== 0x2d && c !== 0x7f) return false;
  }
  return true;
}

function followedByIn(s: string, i: number, end: number): boolean {
  while (i < end && s.charCodeAt(i) === 0x20) i++;
  return s.charCodeAt(i) === 0x49 && s.charCodeAt(i + 1) === 0x4e && s.charCodeAt(i + 2) === 0x3d && i + 3 <= end;
}

function isKernel(s: string, a: number, b: number): boolean {
  // charCodeAt rather than startsWith (a builtin call per frame).
  return (
    b - a === 6 &&
    s.charCodeAt(a) === 0x6b &&
    s.charCodeAt(a + 1) === 0x65 &&
    s.charCodeAt(a + 2) === 0x72 &&
    s.charCodeAt(a + 3) === 0x6e &&
    s.charCodeAt(a + 4) === 0x65 &&
    s.charCodeAt(a + 5) === 0x6c
  );
}

// Out-values of tagAt (module-level: decoding is synchronous).
let tagNameEnd = 0;
let tagPidStart = -1;
let tagPidEnd = -1;

/**
 * A `TAG:` / `TAG[PID]:` token [a, b) that is a tag and not a log prefix. Sets tagNameEnd,
 * tagPidStart and tagPidEnd (tagPidStart -1 when there is no pid).
 */
function isColonTag(s: string, a: number, b: number, end: number): boolean {
  if (b - a < 2 || s.charCodeAt(b - 1) !== 0x3a || s.charCodeAt(a) === 0x5b || hasEquals(s, a, b)) return false;
  let nameEnd = b - 1;
  tagPidStart = -1;
  if (s.charCodeAt(nameEnd - 1) === 0x5d) {
    const open = s.lastIndexOf('[', nameEnd - 1);
    if (open > a) {
      tagPidStart = open + 1;
      tagPidEnd = nameEnd - 1;
      nameEnd = open;
    }
  }
  if (nameEnd <= a) return false;
  tagNameEnd = nameEnd;
  return isKernel(s, a, nameEnd) || !followedByIn(s, b, end);
}

/**
 * Decodes an RFC 3164-style frame whose stamp starts at p (after PRI, if any). Returns undefined
 * when there is no recognisable stamp at p.
 */
export function decodeRfc3164(
  s: string,
  p: number,
  end: number,
  pri: number,
  zone: TimeZoneResolver,
  options: SyslogDecodeOptions,
): SyslogMessage | undefined {
  let i = parseBsdStamp(s, p, end);
  let iso = false;
  if (i < 0) {
    i = parseIsoStamp(s, p, end);
    if (i < 0) return undefined;
    iso = true;
  }
  const timestamp = stampToHrTime(zone, options);
  while (i < end && s.charCodeAt(i) === 0x20) i++;

  let host = -1;
  let hostEnd = -1;
  let appStart = -1;
  let appEnd = -1;
  let pidStart = -1;
  let pidEnd = -1;
  let msgStart = i;
  let tokEnd = tokenEnd(s, i, end);

  if (tokEnd < end && isHostToken(s, i, tokEnd)) {
    host = i;
    hostEnd = tokEnd;
    i = tokEnd + 1;
    msgStart = i;
    tokEnd = tokenEnd(s, i, end);
    if (tokEnd < end && isFacilityLevel(s, i, tokEnd)) {
      i = tokEnd + 1;
      tokEnd = tokenEnd(s, i, end);
    }
  }
  if (isColonTag(s, i, tokEnd, end)) {
    appStart = i;
    appEnd = tagNameEnd;
    pidStart = tagPidStart;
    pidEnd = tagPidEnd;
    msgStart = tokEnd < end ? tokEnd + 1 : end;
  } else if (host >= 0 && tokEnd + 1 < end && s.charCodeAt(tokEnd + 1) === 0x5b && isWord(s, i, tokEnd)) {
    appStart = i;
    appEnd = tokEnd;
    msgStart = tokEnd + 1;
  }

  let format: 'rfc3164' | 'ulogd' = 'rfc3164';
  if (pri < 0 && !iso && host >= 0 && appStart < 0) {
    const inAt = s.indexOf('IN=', msgStart);
    if (inAt >= 0 && inAt < end) format = 'ulogd';
  }
  const m = newMessage(format, s, msgStart, end);
  if (pri >= 0) setPriority(m, pri);
  m.timestamp = timestamp;
  if (host >= 0) m.hostname = s.slice(host, hostEnd);
  if (appStart >= 0) {
    // The usual tag as a constant: no substring per frame.
    m.appName = isKernel(s, appStart, appEnd) ? 'kernel' : s.slice(appStart, appEnd);
    if (pidStart >= 0) m.procId = s.slice(pidStart, pidEnd);
  }
  return m;
}
