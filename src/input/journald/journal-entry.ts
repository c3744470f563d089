import type { JournalEntry } from './export-format.js';

/** What one journal entry becomes: a syslog frame for the parser and its source attributes. */
export interface JournalFrame {
  /** RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG`. */
  frame: Buffer;
  /** `__CURSOR`, the entry's position (the checkpoint). */
  cursor: string | undefined;
  /** `_BOOT_ID` (`journald.host.boot_id`), when present. */
  bootId: string | undefined;
  /** `_TRANSPORT` (`systemd.transport`), when present. */
  transport: string | undefined;
  /** `_MACHINE_ID` (`host.id`), when present. */
  machineId: string | undefined;
}

function text(entry: JournalEntry, name: string): string | undefined {
  const v = entry.get(name);
  return v === undefined ? undefined : v.toString('utf8');
}

/** A small decimal field (`PRIORITY`, `SYSLOG_FACILITY`) within `[0, max]`, else undefined. */
function small(entry: JournalEntry, name: string, max: number): number | undefined {
  const v = text(entry, name);
  if (v === undefined || !/^\d{1,3}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= max ? n : undefined;
}

/**
 * An RFC 5424 header field: printable US-ASCII without spaces, at most `max` characters; `-`
 * when absent or empty (anything else is replaced by `_`, so the header stays parseable).
 */
function headerField(value: string | undefined, max: number): string {
  if (value === undefined || value === '') return '-';
  const clean = value.replace(/[^\x21-\x7e]/g, '_');
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** `__REALTIME_TIMESTAMP` (microseconds since the epoch) as RFC 3339 UTC with microseconds, or `-`. */
export function realtimeStamp(us: string | undefined): string {
  if (us === undefined || !/^\d{1,17}$/.test(us)) return '-';
  const micros = BigInt(us);
  const ms = Number(micros / 1000n);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = (micros % 1_000_000n).toString().padStart(6, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

const KERNEL_FACILITY = 0;
const USER_FACILITY = 1;
const INFO = 6;

/**
 * Map one journal entry to the frame the parser reads (the same RFC 5424 shape the kmsg input
 * hands over, so both give the same attributes):
 * - PRI from `PRIORITY` and `SYSLOG_FACILITY` (kernel transport without a facility: `kern`;
 *   otherwise `user`; no priority: `info`, journald's default);
 * - TIMESTAMP from `__REALTIME_TIMESTAMP` (when the entry was received, microseconds);
 * - HOSTNAME from `_HOSTNAME`, APP-NAME from `SYSLOG_IDENTIFIER`, PROCID from `_PID`/`SYSLOG_PID`;
 * - MSG is `MESSAGE` as stored, text or binary (journald stores MESSAGE as binary when it holds
 *   control characters or invalid UTF-8); bytes are passed through unchanged.
 * Returns undefined for an entry without `MESSAGE`.
 */
export function journalEntryToFrame(entry: JournalEntry): JournalFrame | undefined {
  const message = entry.get('MESSAGE');
  if (message === undefined) return undefined;
  const transport = text(entry, '_TRANSPORT');
  const kernel = transport === 'kernel';
  const facility = small(entry, 'SYSLOG_FACILITY', 23) ?? (kernel ? KERNEL_FACILITY : USER_FACILITY);
  const severity = small(entry, 'PRIORITY', 7) ?? INFO;
  const stamp = realtimeStamp(text(entry, '__REALTIME_TIMESTAMP'));
  const host = headerField(text(entry, '_HOSTNAME'), 255);
  const app = headerField(text(entry, 'SYSLOG_IDENTIFIER') ?? (kernel ? 'kernel' : undefined), 48);
  const procid = headerField(text(entry, '_PID') ?? text(entry, 'SYSLOG_PID'), 128);
  const head = Buffer.from(`<${facility * 8 + severity}>1 ${stamp} ${host} ${app} ${procid} - - `, 'latin1');
  // A binary MESSAGE may end with LF (the kernel's continuation lines): the parser trims it anyway.
  return {
    frame: Buffer.concat([head, message], head.length + message.length),
    cursor: text(entry, '__CURSOR'),
    bootId: text(entry, '_BOOT_ID'),
    transport,
    machineId: text(entry, '_MACHINE_ID'),
  };
}
