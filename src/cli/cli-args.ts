import { parseArgs } from 'node:util';
import type { ConfigOverrides } from '../config/load-config.js';

/** Commands of the `iptables-otel` bin. */
export type CliCommand = 'run' | 'parse' | 'check-config' | 'setup-elasticsearch' | 'check-elasticsearch' | 'help' | 'version';

/** Flags of `setup elasticsearch` / `check elasticsearch` (each wins over the environment and the file). */
export interface ElasticsearchFlags {
  endpoint?: string;
  apiKey?: string;
  caFile?: string;
  username?: string;
  dataset?: string;
}

/** The parsed command line. */
export interface CliArgs {
  command: CliCommand;
  /** `--config FILE`, or the FILE of `check-config FILE`. */
  configFile?: string;
  overrides: ConfigOverrides;
  /** `setup elasticsearch` / `check elasticsearch` only. */
  elasticsearch?: ElasticsearchFlags;
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
  endpoint: { type: 'string' },
  'api-key': { type: 'string' },
  'ca-file': { type: 'string' },
  username: { type: 'string' },
  dataset: { type: 'string' },
  version: { type: 'boolean', short: 'V' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--help` text. */
export const HELP_TEXT = `Usage: iptables-otel [run] [options]
       iptables-otel parse [--config FILE] < kernel-or-syslog-lines
       iptables-otel check-config FILE
       iptables-otel setup elasticsearch --endpoint URL [--api-key KEY] [--ca-file FILE]
       iptables-otel check elasticsearch --endpoint URL [--api-key KEY] [--ca-file FILE]

Receives Linux firewall (netfilter LOG) lines over syslog (UDP, TCP, TLS) and exports
them as OpenTelemetry log records (OTLP/HTTP), over Fluent forward, or to the console.

Commands:
  run (default)          start the service
  parse                  read lines on stdin, write one OTLP/JSON log record per line on stdout
  check-config FILE      validate a config file without starting anything (exit 0 = valid, 1 = errors)
  setup elasticsearch    install the index templates that make logs-iptables.log-* (ecs mode) and
                           logs-iptables.log.otel-* (otel mode) data streams with typed fields
                           (source.ip as ip, ports as long); idempotent, prints what it did
  check elasticsearch    are the templates current, how many documents, the newest, CIDR-ready?

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
Elasticsearch (setup / check elasticsearch; flag > environment > the config's elasticsearch:):
      --endpoint URL     Elasticsearch base URL (env ELASTICSEARCH_ENDPOINT, elasticsearch.endpoint)
      --api-key KEY      API key, Kibana's encoded form or id:key (env ELASTIC_API_KEY, elasticsearch.apiKey)
      --username USER    basic auth instead, password from env ELASTIC_PASSWORD or elasticsearch.password
      --ca-file FILE     PEM CA bundle for https (elasticsearch.caFile)
      --dataset NAME     data_stream.dataset (default: the config's parser.dataset, iptables.log)
    Privileges: cluster monitor and manage_index_templates (setup); check also needs read and
    view_index_metadata on logs-iptables.log*. Exit codes: 0 ok, 1 Elasticsearch refused a
    request or check found a problem, 2 usage or configuration error, 4 unreachable (refused,
    DNS, TLS, timeout), 5 401/403 (credentials or a missing privilege), 6 not Elasticsearch or
    a version outside 8.13 .. 9.x.

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

  const es: ElasticsearchFlags = {};
  if (values.endpoint !== undefined) es.endpoint = values.endpoint;
  if (values['api-key'] !== undefined) es.apiKey = values['api-key'];
  if (values['ca-file'] !== undefined) es.caFile = values['ca-file'];
  if (values.username !== undefined) es.username = values.username;
  if (values.dataset !== undefined) es.dataset = values.dataset;

  if (values.help) return { command: 'help', overrides };
  if (values.version) return { command: 'version', overrides };

  const [first, ...rest] = positionals;
  const command = first ?? 'run';
  if (command !== 'setup' && command !== 'check') {
    const flag = (['endpoint', 'api-key', 'ca-file', 'username', 'dataset'] as const).find((f) => values[f] !== undefined);
    if (flag !== undefined) throw new UsageError(`--${flag} is an option of setup elasticsearch and check elasticsearch only`);
  }
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
    case 'setup':
    case 'check': {
      if (rest[0] !== 'elasticsearch') throw new UsageError(`${command} needs a target: iptables-otel ${command} elasticsearch`);
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
      return { command: `${command}-elasticsearch`, ...(values.config !== undefined ? { configFile: values.config } : {}), overrides, elasticsearch: es };
    }
    case 'help':
      return { command: 'help', overrides };
    case 'version':
      return { command: 'version', overrides };
    default:
      throw new UsageError(`unknown command "${command}" (run, parse, check-config, setup elasticsearch or check elasticsearch)`);
  }
}
