import type { SyslogFormat, SyslogMessage } from './syslog-message.js';
import { contentStartOf, printk } from './printk.js';

/**
 * Where the MSG of the message newMessage() built last lies in the text it was cut from:
 * `msg === source.slice(start, end)`. Module-level (decoding is synchronous), so a caller that
 * holds the frame text can find MSG in it without comparing characters.
 */
export const lastMessage = { source: '', start: 0, end: 0 };

/**
 * A SyslogMessage whose MSG is s[msgStart, end), with every optional field present (undefined),
 * so all decoded messages share one object shape on the hot path. Computes contentStart and
 * kernelUptime from a printk stamp at the start of MSG.
 */
export function newMessage(format: SyslogFormat, s: string, msgStart: number, end: number): SyslogMessage {
  lastMessage.source = s;
  lastMessage.start = msgStart;
  lastMessage.end = end;
  const content = contentStartOf(s, msgStart, end);
  return {
    format,
    priority: undefined,
    facility: undefined,
    severity: undefined,
    timestamp: undefined,
    hostname: undefined,
    appName: undefined,
    procId: undefined,
    msgId: undefined,
    structuredData: undefined,
    sequence: undefined,
    kernelUptime: printk.uptime >= 0 ? printk.uptime : undefined,
    msg: s.slice(msgStart, end),
    contentStart: content - msgStart,
  };
}

/** Sets priority, facility and severity from a PRI value 0..191. */
export function setPriority(m: SyslogMessage, pri: number): void {
  m.priority = pri;
  m.facility = pri >> 3;
  m.severity = pri & 7;
}
