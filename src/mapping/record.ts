import type { HrTime } from '@opentelemetry/api';

/**
 * An attribute value as iptables-otel produces it. The attribute table
 * (`src/mapping/attribute-table.ts`) fixes the type of every name, so an
 * encoder knows whether a number is an OTLP `intValue` or a `doubleValue`.
 */
export type AttributeValue = string | number | boolean | string[] | number[];

/** Attributes in insertion order. Plain object: the fastest map V8 has for this. */
export type RecordAttributes = Record<string, AttributeValue>;

/**
 * The record that flows from the parser through the pipeline to every output.
 *
 * It is deliberately a plain object and not an SDK `LogRecord`: the hot path
 * encodes it straight to OTLP. `toSdkLogRecord()` (src/output) turns it into
 * a standard `LogRecord` for users who bring their own `LoggerProvider`.
 */
export interface FirewallLogRecord {
  /** Event time from the syslog header or the kernel clock; absent when the line has none. */
  timestamp?: HrTime;
  /** When iptables-otel received the frame. */
  observedTimestamp: HrTime;
  /** OTel SeverityNumber (logs data model, appendix B); 0 when the frame has no PRI. */
  severityNumber: number;
  /** The syslog severity keyword (`warning`, `info`, ...), or undefined. */
  severityText?: string;
  /** The syslog MSG as sent (for bare lines: the whole line). */
  body: string;
  attributes: RecordAttributes;
}

/** Where and how a frame arrived: becomes `network.peer.*` and the listener's transport. */
export interface ReceiveContext {
  /** Sender address (canonical text), when the transport has one. */
  peerAddress?: string;
  peerPort?: number;
  /** Listener transport: `udp`, `tcp`, `tls` or `relp`; absent for stdin / files. */
  transport?: 'udp' | 'tcp' | 'tls' | 'relp';
  /** Receive time; defaults to now. */
  receivedAt?: HrTime;
  /**
   * Set by inputs with a durable source of their own (kmsg, journald, file): which input
   * (by name) and which of its `AckTracker` marks these frames belong to. The acknowledgement
   * of every output is routed back to that input by it; batches with it skip the spool.
   */
  source?: SourceMark;
  /**
   * Per-record attributes of the source (`input.type`, `log.file.path`, `log.offset`, ...),
   * written by both encoders after the header's. Every name must be in the attribute table.
   * Plain data: contexts are posted to worker threads and written to the spool.
   */
  attributes?: Record<string, string | number>;
}

/** Where an acknowledgement goes back to: the input's name and the id its tracker gave the frames. */
export interface SourceMark {
  input: string;
  id: number;
}
