import { redact } from './redact.js';

/** Log levels, least to most severe. `silent` turns logging off. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The service's own logger (not the hot path). Components receive one through their
 * factory options; `child()` adds fixed fields such as `component` or `input`.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
  /** True when lines at `level` are written (skip building expensive fields otherwise). */
  isLevelEnabled(level: LogLevel): boolean;
}

/** Where log lines go; `process.stderr` by default. */
export interface LogDestination {
  write(line: string): unknown;
}

/** Options of `createLogger()`. */
export interface LoggerOptions {
  level?: LogLevel;
  destination?: LogDestination;
  /** Fixed fields on every line. */
  bindings?: LogFields;
  /** Clock, for tests. */
  now?: () => Date;
}

/** Mutable level shared by a logger and its children, so SIGHUP can change it in place. */
interface LevelHolder {
  rank: number;
}

class JsonLinesLogger implements Logger {
  constructor(
    private readonly holder: LevelHolder,
    private readonly dest: LogDestination,
    private readonly bindings: LogFields,
    private readonly now: () => Date,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
  child(bindings: LogFields): Logger {
    return new JsonLinesLogger(this.holder, this.dest, { ...this.bindings, ...bindings }, this.now);
  }
  isLevelEnabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= this.holder.rank;
  }

  private write(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void {
    if (LEVEL_RANK[level] < this.holder.rank) return;
    // Every field goes through redact(): a config object or an HTTP error may carry headers.
    const line: LogFields = { time: this.now().toISOString(), level, msg: redact(msg) };
    Object.assign(line, redact(this.bindings) as LogFields);
    if (fields) Object.assign(line, redact(fields) as LogFields);
    let text: string;
    try {
      text = JSON.stringify(line, bigintSafe);
    } catch {
      text = JSON.stringify({ time: line.time, level, msg: String(msg), note: 'fields were not serializable' });
    }
    this.dest.write(text + '\n');
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A logger whose level can be changed later (SIGHUP reload). */
export interface RootLogger extends Logger {
  setLevel(level: LogLevel): void;
}

/**
 * Creates the service logger: one JSON object per line on stderr (`time`, `level`, `msg`, then
 * fields). Values under credential-looking keys (Authorization, API keys, shared keys, header
 * maps) are replaced by `[REDACTED]` before anything is written.
 */
export function createLogger(options: LoggerOptions = {}): RootLogger {
  const holder: LevelHolder = { rank: LEVEL_RANK[options.level ?? 'info'] };
  const base = new JsonLinesLogger(holder, options.destination ?? process.stderr, options.bindings ?? {}, options.now ?? (() => new Date()));
  return Object.assign(base, {
    setLevel(level: LogLevel): void {
      holder.rank = LEVEL_RANK[level];
    },
  });
}

/** A logger that writes nothing (library use and tests). */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
  isLevelEnabled() {
    return false;
  },
};

/** Receives the lines of a `forwardingLogger`. */
export type LogForward = (level: 'info' | 'warn' | 'error', msg: string, fields: LogFields) => void;

/**
 * A logger that hands each line (info and above) to `forward` instead of writing it: a worker
 * thread's components log through one, and the worker posts the lines to the main thread's
 * logger (which redacts and writes them). Debug lines are not forwarded: the worker does not
 * know the main thread's level, and they would cost a message each.
 */
export function forwardingLogger(forward: LogForward, bindings: LogFields = {}): Logger {
  const line = (level: 'info' | 'warn' | 'error') => (msg: string, fields?: LogFields): void => {
    forward(level, msg, fields ? { ...bindings, ...fields } : { ...bindings });
  };
  return {
    debug() {},
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (more) => forwardingLogger(forward, { ...bindings, ...more }),
    isLevelEnabled: (level) => level !== 'debug' && level !== 'silent',
  };
}
