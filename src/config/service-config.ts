import type { LogLevel } from '../ops/logger.js';
import type { SpoolConfig } from '../pipeline/spool/spool-config.js';
import type { ElasticsearchConfig } from '../output/elasticsearch/elasticsearch-config.js';
import type { SourceInputConfigBase } from '../input/source-input.js';
import type { PartialFrameBudgetConfig } from '../input/partial-frame-budget.js';

/**
 * The resolved configuration the service runs with: file + OTEL_* environment + CLI
 * flags merged (precedence CLI > file > OTEL_* > defaults), defaults applied, durations in
 * milliseconds and sizes in bytes. Produced by `loadConfig()`.
 */
export interface ServiceConfig {
  /** The config file it came from, when there was one. */
  source?: string;
  /** Network listeners (udp, tcp, tls). */
  inputs: ListenerSpec[];
  /** Inputs with a local, durable source and a checkpoint (kmsg, journald, file), validated by their kind. */
  sources: SourceInputSpec[];
  /**
   * Where checkpoints live (`<stateDirectory>/checkpoints`); `--state-dir` / `stateDirectory:`,
   * default `defaultStateDirectory()`. The spool's default directory is `<stateDirectory>/spool`.
   */
  stateDirectory: string;
  parser: ParserSpec;
  pipeline: PipelineSpec;
  /**
   * `pipeline.threads` (kept out of `pipeline` so that spec stays the record queue's settings):
   * 0 = parse, encode and export on the main thread; N or `auto` = that many worker threads,
   * the main thread only reads sockets and frames.
   */
  threads: number | 'auto';
  /** `pipeline.spool`, resolved (`enabled: false` for `off`). */
  spool: SpoolConfig;
  /** `pipeline.partialFrames`: the budget of the TCP/TLS/RELP connections' unterminated frames (default when absent). */
  partialFrames?: PartialFrameBudgetConfig;
  outputs: OutputSpec[];
  ops: OpsSpec;
  logging: { level: LogLevel };
  /** `elasticsearch:`, for `setup elasticsearch` / `check elasticsearch`; absent when the file has none. */
  elasticsearch?: ElasticsearchConfig;
  /** Things the operator should be told at start-up (e.g. "writing to the console"). */
  notices: string[];
}

/** One source input: its kind (`SOURCE_INPUT_KINDS`) and its config as the kind's `validate` returned it. */
export interface SourceInputSpec {
  type: string;
  config: SourceInputConfigBase;
}

/** TLS files for a listener (paths; the service reads them at start). */
export interface ListenerTlsSpec {
  cert: string;
  key: string;
  ca?: string;
  requireClientCert: boolean;
  /** Reload the files when they change. */
  watch: boolean;
}

/** One UDP, TCP, TLS or RELP listener. */
export interface ListenerSpec {
  type: 'udp' | 'tcp' | 'tls' | 'relp';
  host: string;
  port: number;
  /** Optional display name (metric label). */
  name?: string;
  framing: 'auto' | 'octet' | 'lf' | 'nul';
  maxFrameSize: number;
  /** TCP/TLS only. */
  maxConnections: number;
  /** TCP/TLS only: connections that may wait beyond `maxConnections` before further ones are refused. */
  maxPendingConnections: number;
  /** On stop: how long to keep reading what senders already sent (ms). */
  drainTimeoutMs: number;
  /** TCP/TLS only; 0 = never. */
  idleTimeoutMs: number;
  /** UDP only; 0 = OS default. */
  recvBufferSize: number;
  /** UDP only: busy senders read by a reader thread. */
  readerThread: boolean;
  /** TLS only. */
  tls?: ListenerTlsSpec;
}

/** One `parser.prefixRules` entry as written in the file (`validateParseOptions` compiles `regex`). */
export interface PrefixRuleSpec {
  match?: string;
  regex?: string;
  action: string;
  ruleName?: string;
  verdict?: 'denied' | 'allowed';
}

/** Parser settings as written (plain data, comparable on reload); `validateParseOptions()` turns them into `ParseOptions`. */
export interface ParserSpec {
  timezone: string;
  preserveOriginal: boolean;
  dataset: string;
  namespace: string;
  prefixRules?: PrefixRuleSpec[];
}

export interface PipelineSpec {
  maxRecords: number;
  maxBytes: number;
  batchSize: number;
  batchMaxBytes: number;
  lingerMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  shutdownDeadlineMs: number;
}

/** OTLP/HTTP output, fully resolved (no OTEL_* lookup needed later). */
/** Client TLS files (OTLP over https, Fluent over TLS). */
export interface ClientTlsSpec {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

export interface OtlpOutputSpec {
  type: 'otlp';
  /** Metric label; the kind unless set. */
  name: string;
  /** The full logs URL (…/v1/logs). */
  url: string;
  headers: Record<string, string>;
  compression: 'none' | 'gzip';
  timeoutMs: number;
  protocol: 'json' | 'protobuf';
  mode: 'fast' | 'sdk';
  /** Resource attributes including service.name. */
  resource: Record<string, string | number | boolean>;
  concurrency?: number;
  tls?: ClientTlsSpec;
}

export interface FluentOutputSpec {
  type: 'fluent';
  name: string;
  host: string;
  port: number;
  tag: string;
  tls?: boolean | ClientTlsSpec;
  sharedKey?: string;
  username?: string;
  password?: string;
  ack: boolean;
  timeoutMs?: number;
}

export interface ConsoleOutputSpec {
  type: 'console';
  name: string;
  stream: 'stdout' | 'stderr';
}

export type OutputSpec = OtlpOutputSpec | FluentOutputSpec | ConsoleOutputSpec;

export interface OpsSpec {
  /** False when `ops.address: off`. */
  enabled: boolean;
  host: string;
  port: number;
  unhealthyAfterFailures: number;
  unhealthyAfterStallMs: number;
  statusIntervalMs: number;
}

/** Default listen port for UDP and TCP (unprivileged, so no capability is needed). */
export const DEFAULT_PORT = 9001;
/** Default loopback address of /healthz and /metrics (9002: next to the syslog port, clear of the Collector's 8888/4318). */
export const DEFAULT_OPS_ADDRESS = '127.0.0.1:9002';
/** The OTLP/HTTP default when OTLP is requested with no endpoint anywhere (OTel spec default). */
export const DEFAULT_OTLP_LOGS_URL = 'http://localhost:4318/v1/logs';
export const DEFAULT_SERVICE_NAME = 'iptables-otel';
