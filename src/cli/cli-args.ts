import { parseArgs } from 'node:util';
import type { ConfigOverrides } from '../config/load-config.js';

/** Commands of the `iptables-otel` bin. */
export type CliCommand = 'run' | 'parse' | 'check-config' | 'help' | 'version';

/** The parsed command line. */
export interface CliArgs {
  command: CliCommand;
  /** `--config FILE`, or the FILE of `check-config FILE`. */
  configFile?: string;
  overrides: ConfigOverrides;
}

/** A usage error: the message is printed with a hint, and the exit code is 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  listen: { type: 'string', short: 'l', multiple: true },
  input: { type: 'string', short: 'i', multiple: true },
  'state-dir': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  output: { type: 'string', short: 'o', multiple: true },
  'otlp-endpoint': { type: 'string' },
  'ops-address': { type: 'string' },
  'log-level': { type: 'string' },
  threads: { type: 'string' },
  'spool-dir': { type: 'string' },
  'no-spool': { type: 'boolean' },
  version: { type: 'boolean', short: 'V' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--help` text. */
export const HELP_TEXT = `Usage: iptables-otel [run] [options]
       iptables-otel parse [--config FILE] < kernel-or-syslog-lines
       iptables-otel check-config FILE

Receives Linux firewall (netfilter LOG) lines over syslog (UDP, TCP, TLS) and exports
them as OpenTelemetry log records (OTLP/HTTP), over Fluent forward, or to the console.

Commands:
  run (default)          start the service
  parse                  read lines on stdin, write one OTLP/JSON log record per line on stdout
  check-config FILE      validate a config file without starting anything (exit 0 = valid, 1 = errors)

Options:
  -c, --config FILE      YAML config file (see examples/config.yaml)
  -i, --input URL        input, repeatable; with --listen, replaces the config's inputs:
                           kmsg://  the kernel log (/dev/kmsg; needs CAP_SYSLOG), e.g. kmsg://?prefixes=FW-
                           udp://HOST:PORT  tcp://HOST:PORT  tls://HOST:PORT  (IPv6 as [ADDR])
                           optional settings as a query: tcp://0.0.0.0:9001?framing=lf&maxConnections=500
  -l, --listen URL       the same, for udp://, tcp:// and tls:// listeners only
      --state-dir DIR    checkpoints of kmsg/journald/file inputs (and the spool's default place);
                           default $STATE_DIRECTORY, /var/lib/iptables-otel for root,
                           else ~/.local/state/iptables-otel
      --tls-cert FILE    PEM certificate chain for tls:// listeners
      --tls-key FILE     PEM private key for tls:// listeners
      --tls-ca FILE      PEM CA bundle: require client certificates signed by it (mTLS)
  -o, --output KIND      otlp | fluent | console; repeatable (fan-out); replaces the config's outputs
      --otlp-endpoint URL  OTLP/HTTP endpoint, e.g. http://collector:4318 (/v1/logs is appended
                           unless the path already ends with it)
      --ops-address ADDR host:port of /healthz and /metrics (default 127.0.0.1:9002), or off
      --log-level LEVEL  debug | info | warn | error | silent (default info)
      --threads N|auto   worker threads that parse, encode and export (pipeline.threads);
                           0 = everything on the main thread, auto = the CPUs available
      --spool-dir DIR    the persistent spool's directory (pipeline.spool.directory); default
                           $STATE_DIRECTORY/spool, /var/lib/iptables-otel/spool for root,
                           else ~/.local/state/iptables-otel/spool
      --no-spool         keep queued records in memory only (pipeline.spool: off)
  -V, --version          print the version
  -h, --help             print this help

Defaults with no config: listen on udp://127.0.0.1:9001 and tcp://127.0.0.1:9001; export over
OTLP when an endpoint is set (config, --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT), otherwise
write records to stdout. Precedence: command line > config file > OTEL_* environment > defaults.
The service's own logs are JSON lines on stderr.

Signals: SIGTERM/SIGINT drain and flush, then exit 0 (what the outputs did not take by
pipeline.shutdownDeadline stays in the spool for the next start); SIGHUP reloads the config file.

Exit codes: 0 ok, 1 runtime error (e.g. a port already in use) or check-config found errors,
2 usage or configuration error, 3 stopped with records lost (spool off, outputs did not take them).

Quick start:
  iptables-otel
  logger -n 127.0.0.1 -P 9001 --tcp 'iptables-dropped: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP SPT=1234 DPT=22'
`;

/**
 * Parses `argv` (without node and the script). Throws `UsageError` for unknown options,
 * missing values, a missing check-config FILE or extra arguments.
 */
export function parseCliArgs(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  const overrides: ConfigOverrides = {};
  if (values.listen) overrides.listen = values.listen;
  if (values.input) overrides.inputs = values.input;
  if (values['state-dir'] !== undefined) overrides.stateDir = values['state-dir'];
  if (values['tls-cert'] !== undefined) overrides.tlsCert = values['tls-cert'];
  if (values['tls-key'] !== undefined) overrides.tlsKey = values['tls-key'];
  if (values['tls-ca'] !== undefined) overrides.tlsCa = values['tls-ca'];
  if (values.output) overrides.outputs = values.output.flatMap((o) => o.split(',')).map((o) => o.trim()).filter((o) => o !== '');
  if (values['otlp-endpoint'] !== undefined) overrides.otlpEndpoint = values['otlp-endpoint'];
  if (values['ops-address'] !== undefined) overrides.opsAddress = values['ops-address'];
  if (values['log-level'] !== undefined) overrides.logLevel = values['log-level'];
  if (values.threads !== undefined) overrides.threads = values.threads;
  if (values['spool-dir'] !== undefined) overrides.spoolDir = values['spool-dir'];
  if (values['no-spool'] === true) overrides.noSpool = true;

  if (values.help) return { command: 'help', overrides };
  if (values.version) return { command: 'version', overrides };

  const [first, ...rest] = positionals;
  const command = first ?? 'run';
  const withFile = (f: string | undefined): CliArgs => ({ command: command as CliCommand, ...(f !== undefined ? { configFile: f } : {}), overrides });
  switch (command) {
    case 'run':
    case 'parse':
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      return withFile(values.config);
    case 'check-config': {
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
      const file = rest[0] ?? values.config;
      if (file === undefined) throw new UsageError('check-config needs a FILE (iptables-otel check-config FILE)');
      return withFile(file);
    }
    case 'help':
      return { command: 'help', overrides };
    case 'version':
      return { command: 'version', overrides };
    default:
      throw new UsageError(`unknown command "${command}" (run, parse or check-config)`);
  }
}
