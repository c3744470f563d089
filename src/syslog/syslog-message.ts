import type { HrTime } from '@opentelemetry/api';

/** Which header form a frame carried. */
export type SyslogFormat =
  | 'rfc3164' // <PRI>Mmm dd hh:mm:ss HOST TAG: MSG (also RFC 3339 stamp: RSYSLOG_ForwardFormat)
  | 'rfc5424' // <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG
  | 'kmsg' // /dev/kmsg record: PRI,SEQ,USEC,FLAGS;MSG
  | 'ulogd' // ulogd2 LOGEMU: Mmm dd hh:mm:ss HOST PREFIX IN=... (no PRI)
  | 'bare'; // no header at all: the whole frame is MSG

/**
 * The decoded syslog header plus the message. Produced by `decodeSyslog()`
 * (src/syslog/decode.ts); consumed by the netfilter parser and the attribute mapper.
 */
export interface SyslogMessage {
  format: SyslogFormat;
  /** PRI value 0..191 when present. */
  priority?: number;
  facility?: number;
  severity?: number;
  /** Header time (RFC 3164 year inferred, RFC 5424 exact, kmsg from the kernel clock). */
  timestamp?: HrTime;
  hostname?: string;
  /** RFC 3164 TAG without pid/colon, or RFC 5424 APP-NAME. */
  appName?: string;
  procId?: string;
  msgId?: string;
  /** RFC 5424 STRUCTURED-DATA as the raw text (absent for NILVALUE). */
  structuredData?: string;
  /** kmsg sequence number. */
  sequence?: number;
  /**
   * Kernel uptime in seconds: from a printk stamp `[ 1234.567890]` at the start of MSG (the stamp
   * stays in `msg`; `contentStart` skips it), or a kmsg record's USEC field.
   */
  kernelUptime?: number;
  /**
   * MSG as sent (body of the record): trailing LF/CR/NUL stripped, nothing else. The same kernel
   * line gives the same `msg` via RFC 3164 and RFC 5424 (see src/syslog/rfc5424.ts).
   */
  msg: string;
  /** Offset into `msg` where the netfilter text starts (after a printk stamp and leading spaces). */
  contentStart: number;
}

/** Options that shape header decoding. */
export interface SyslogDecodeOptions {
  /**
   * Time zone for stamps without one (RFC 3164 `Mmm dd hh:mm:ss`, ulogd): an IANA
   * name (`Europe/Berlin`), `UTC` (default) or a fixed offset (`+02:00`).
   */
  timezone?: string;
  /** "Now" for year inference (tests pin it). Defaults to the receive time. */
  now?: Date;
  /**
   * Receive time in ms since the epoch, for year inference; takes precedence over `now`. Lets a
   * caller that already read the clock for the record's observed time (ReceiveContext.receivedAt)
   * skip a second clock read: keep one options object and set this field per frame.
   */
  nowMs?: number;
  /** Boot time in ms since epoch, to turn kmsg's monotonic usec into wall time. */
  bootTimeMs?: number;
}
