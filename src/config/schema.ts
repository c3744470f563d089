import { DEFAULT_OPS_ADDRESS } from './service-config.js';
import { SOURCE_INPUT_KINDS } from '../input/source-kinds.js';

/**
 * The JSON Schema of the YAML config file (draft 2020-12 subset that ajv 8 validates).
 *
 * Defaults live here (`default:`) and ajv applies them while validating, so the
 * schema is the one place that documents every key, its type and its default.
 * Durations are milliseconds or strings such as `500ms`, `10s`, `5m`, `1h`; sizes are
 * bytes or strings such as `64KiB`, `8MiB`. `examples/config.yaml` shows every key.
 */

const duration = { $ref: '#/$defs/duration' } as const;
const size = { $ref: '#/$defs/size' } as const;
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const host = { type: 'string', minLength: 1 } as const;

/** Keys shared by the UDP, TCP and TLS listeners. */
const listenerCommon = {
  host: { ...host, default: '127.0.0.1', description: 'Address to bind; 0.0.0.0 or :: for every interface.' },
  port: { ...port, default: 9001, description: 'Port to bind (0 = any free port).' },
  maxFrameSize: { ...size, default: 65536, description: 'Longest accepted frame (64 B .. 16 MiB); longer ones are counted and skipped.' },
  name: { type: 'string', minLength: 1, description: 'Name in logs and metric labels. Default: tcp://HOST:PORT.' },
  drainTimeout: { ...duration, default: 1000, description: 'On stop: how long to keep reading what senders (and the kernel) already have before closing (0 = close at once).' },
} as const;

const streamCommon = {
  ...listenerCommon,
  framing: {
    enum: ['auto', 'octet-counting', 'octet', 'lf', 'nul'],
    default: 'auto',
    description: 'auto detects RFC 6587 octet counting per frame, else LF (or NUL) delimited.',
  },
  maxConnections: { type: 'integer', minimum: 0, default: 10000, description: 'Connections read at once; further ones wait, accepted but unread, until one closes; 0 = unlimited.' },
  maxPendingConnections: { type: 'integer', minimum: 0, default: 1000, description: 'Connections that may wait beyond maxConnections; further ones are refused (closed before any byte is read), counted and logged.' },
  idleTimeout: { ...duration, default: 300000, description: 'Close connections idle this long; 0 = never.' },
} as const;

const tlsServer = {
  type: 'object',
  additionalProperties: false,
  required: ['cert', 'key'],
  properties: {
    cert: { type: 'string', minLength: 1, description: 'PEM server certificate (chain) file.' },
    watch: { type: 'boolean', default: true, description: 'Reload cert, key and CA when the files change.' },
    key: { type: 'string', minLength: 1, description: 'PEM private key file.' },
    ca: { type: 'string', minLength: 1, description: 'PEM CA bundle that client certificates must chain to.' },
    requireClientCert: { type: 'boolean', default: false, description: 'Mutual TLS: reject clients without a certificate signed by ca.' },
  },
} as const;

const clientTls = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ca: { type: 'string', minLength: 1, description: 'PEM CA bundle file that the server certificate must chain to.' },
    cert: { type: 'string', minLength: 1, description: 'PEM client certificate file (mTLS).' },
    key: { type: 'string', minLength: 1, description: 'PEM client key file (mTLS).' },
    servername: { type: 'string', minLength: 1, description: 'SNI / name to verify, when it differs from the host.' },
    rejectUnauthorized: { type: 'boolean', description: 'Default true. false accepts any server certificate (testing only).' },
  },
} as const;

const outputName = { type: 'string', minLength: 1, description: 'Metric label and log name; default: the kind (otlp, fluent, console). Must be unique.' } as const;

const attributeMap = {
  type: 'object',
  additionalProperties: { type: ['string', 'number', 'boolean'] },
} as const;

export const configSchema = {
  $id: 'https://github.com/iptables-otel/iptables-otel/config.schema.json',
  title: 'iptables-otel configuration',
  type: 'object',
  additionalProperties: false,
  $defs: {
    duration: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$' },
      ],
    },
    size: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(B|k|K|KB|KiB|M|MB|MiB|G|GB|GiB)?\\s*$' },
      ],
    },
    threads: {
      anyOf: [
        { type: 'integer', minimum: 0, maximum: 256 },
        { const: 'auto' },
      ],
    },
  },
  properties: {
    stateDirectory: {
      type: 'string',
      minLength: 1,
      description: 'Checkpoints of the kmsg/journald/file inputs (and the spool by default). Default: $STATE_DIRECTORY, /var/lib/iptables-otel for root, else ~/.local/state/iptables-otel.',
    },
    inputs: {
      type: 'array',
      description: 'Listeners (udp, tcp, tls, relp) and local sources (kmsg, journald, file). Default: udp and tcp on 127.0.0.1:9001.',
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        properties: {
          udp: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...listenerCommon,
              recvBufferSize: { ...size, default: 33554432, description: 'SO_RCVBUF to ask for; the kernel caps it at net.core.rmem_max; 0 = OS default.' },
              readerThread: {
                type: 'boolean',
                default: true,
                description: 'Read busy senders in a reader thread, each on a socket of its own (Linux); false reads every datagram in the event loop and binds without SO_REUSEADDR.',
              },
            },
          },
          tcp: { type: 'object', additionalProperties: false, properties: { ...streamCommon } },
          relp: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...listenerCommon,
              port: { ...port, default: 2514, description: 'Port to bind (0 = any free port); 2514 is the port of rsyslog\'s RELP examples.' },
              maxConnections: streamCommon.maxConnections,
              maxPendingConnections: streamCommon.maxPendingConnections,
              idleTimeout: streamCommon.idleTimeout,
            },
          },
          tls: {
            type: 'object',
            additionalProperties: false,
            required: ['tls'],
            properties: { ...streamCommon, port: { ...port, default: 6514 }, tls: tlsServer },
          },
          // kmsg, journald, file: each kind's own schema (src/input/source-kinds.ts).
          ...Object.fromEntries(SOURCE_INPUT_KINDS.map((k) => [k.type, k.schema])),
        },
      },
    },
    parser: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        timezone: { type: 'string', minLength: 1, default: 'UTC', description: 'For stamps without a zone (RFC 3164): IANA name, UTC, local or +02:00.' },
        preserveOriginal: { type: 'boolean', default: false, description: 'Keep the whole frame in log.record.original (failures always keep it).' },
        dataset: { type: 'string', minLength: 1, default: 'iptables.log', description: 'data_stream.dataset / event.dataset (Elastic routing).' },
        namespace: { type: 'string', minLength: 1, default: 'default', description: 'data_stream.namespace.' },
        prefixRules: {
          type: 'array',
          description: 'Log-prefix rules, tried in order before the built-in vendor labels.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['action'],
            properties: {
              match: { type: 'string', minLength: 1, description: 'The prefix starts with this text.' },
              regex: { type: 'string', minLength: 1, description: 'Or: a regular expression tested against the prefix.' },
              action: { type: 'string', minLength: 1, description: 'event.action, e.g. drop, reject, accept.' },
              ruleName: { type: 'string', description: 'rule.name.' },
              verdict: { enum: ['denied', 'allowed'], description: 'event.type denied/allowed.' },
            },
          },
        },
      },
    },
    pipeline: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        queue: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            maxRecords: { type: 'integer', minimum: 1, default: 50000, description: 'Senders are paused above this many queued records.' },
            maxBytes: { ...size, default: 16777216, description: 'Senders are paused above this many queued bytes (approximate).' },
          },
        },
        batch: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            size: { type: 'integer', minimum: 1, default: 1024, description: 'Records per export.' },
            maxBytes: { ...size, default: 4194304, description: 'Bytes per export (approximate; at least one record): long lines make smaller batches.' },
            linger: { ...duration, default: 20, description: 'Longest wait to fill a batch.' },
          },
        },
        retry: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            initialDelay: { ...duration, default: 500, description: 'First retry of a batch an output failed to deliver.' },
            maxDelay: { ...duration, default: 30000, description: 'The retry delay doubles up to this.' },
          },
        },
        shutdownDeadline: { ...duration, default: 10000, description: 'On SIGTERM: time to drain and flush before giving up (with the spool, what is left stays in it; without, undelivered records are counted and the exit code is 3).' },
        spool: {
          description:
            'The persistent spool: frames are written to disk before anything else and leave it once every output has them (at-least-once across restarts and crashes). off keeps everything in memory.',
          anyOf: [
            { enum: ['off', 'on', false, true] },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                directory: { type: 'string', minLength: 1, description: 'Default: $STATE_DIRECTORY/spool (systemd), /var/lib/iptables-otel/spool for root, else ~/.local/state/iptables-otel/spool.' },
                maxBytes: { ...size, description: 'Senders are paused (UDP counted as spool_full) once the spool holds this much. Default 1GiB.' },
                segmentSize: { ...size, description: 'Size of one segment file. Default 16MiB.' },
                fsync: { enum: ['interval', 'batch', 'never'], description: 'interval (default): fdatasync every fsyncInterval; batch: after every batch; never: the kernel decides.' },
                fsyncInterval: { ...duration, description: 'Period of the interval policy. Default 100ms: a power loss loses at most that much.' },
              },
            },
          ],
        },
        partialFrames: {
          type: 'object',
          additionalProperties: false,
          description:
            'Memory for frames read but not yet terminated, shared by every TCP/TLS/RELP connection (what the queue does not cover). Above maxBytes a connection whose partial frame grows is paused; at twice maxBytes, or when paused connections release nothing for stall, the oldest partial frames are cut (framing error partial_budget).',
          properties: {
            maxBytes: { ...size, description: 'Bytes all connections together may hold in partial frames. Default 8MiB (so at most 16MiB); 0 = no budget.' },
            stall: { ...duration, description: 'Paused connections with no partial byte released for this long: the oldest partials are cut. Default 1s.' },
          },
        },
        threads: {
          $ref: '#/$defs/threads',
          default: 'auto',
          description:
            'Worker threads that parse, encode and export (the main thread only reads sockets and frames): 0 = all on the main thread; N; auto = the CPUs available.',
        },
      },
    },
    outputs: {
      type: 'array',
      description: 'Destinations; every record goes to each. Default: otlp when an endpoint is set (here or OTEL_*), else console.',
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        properties: {
          otlp: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: {
              endpoint: { type: 'string', format: 'url', description: 'Base URL as OTEL_EXPORTER_OTLP_ENDPOINT; /v1/logs is appended unless present.' },
              logsEndpoint: { type: 'string', format: 'url', description: 'Full URL as OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, used verbatim.' },
              headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra HTTP headers (Authorization, ...). Never logged.' },
              compression: { enum: ['none', 'gzip'] },
              timeout: { ...duration, description: 'Per request. Default 10s.' },
              protocol: { enum: ['json', 'protobuf', 'http/json', 'http/protobuf'], description: 'Default protobuf.' },
              mode: { enum: ['fast', 'sdk'], default: 'fast', description: 'fast = our serializer; sdk = the OpenTelemetry JS exporter.' },
              serviceName: { type: 'string', minLength: 1, description: 'service.name (OTEL_SERVICE_NAME). Default iptables-otel.' },
              resourceAttributes: { ...attributeMap, description: 'Resource attributes (OTEL_RESOURCE_ATTRIBUTES).' },
              concurrency: { type: 'integer', minimum: 1, description: 'Concurrent HTTP requests. Default 8.' },
              tls: { ...clientTls, description: 'For https endpoints: CA / client certificate files.' },
              name: outputName,
            },
          },
          fluent: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: {
              host: { ...host, default: '127.0.0.1' },
              port: { ...port, default: 24224 },
              tag: { type: 'string', minLength: 1, default: 'iptables' },
              tls: { anyOf: [{ type: 'boolean' }, clientTls], description: 'true, or CA/cert/key files, to connect over TLS.' },
              name: outputName,
              sharedKey: { type: 'string', minLength: 1, description: 'Forward-protocol shared key (secure forward). Never logged.' },
              username: { type: 'string' },
              password: { type: 'string' },
              ack: { type: 'boolean', default: true, description: 'Wait for the server ack of every chunk (at-least-once).' },
              timeout: { ...duration, description: 'Ack / connect timeout.' },
            },
          },
          console: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: {
              stream: { enum: ['stdout', 'stderr'], default: 'stdout' },
              name: outputName,
            },
          },
        },
      },
    },
    ops: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        address: {
          type: 'string',
          default: DEFAULT_OPS_ADDRESS,
          pattern: '^(off|(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):\\d{1,5})$',
          description: 'host:port for /healthz and /metrics; "off" disables the endpoint.',
        },
        unhealthyAfterFailures: { type: 'integer', minimum: 1, default: 5, description: '/healthz is 503 after this many consecutive failed exports of one output.' },
        unhealthyAfterStall: { ...duration, default: 60000, description: '/healthz is 503 when records wait and an output has had no success for this long.' },
        statusInterval: { ...duration, default: 10000, description: 'Status line on stderr when it is a TTY; 0 = off.' },
      },
    },
    logging: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['debug', 'info', 'warn', 'error', 'silent'], default: 'info' },
      },
    },
    elasticsearch: {
      type: 'object',
      additionalProperties: false,
      description: 'Where `iptables-otel setup elasticsearch` and `check elasticsearch` connect (the service itself does not use it).',
      properties: {
        endpoint: { type: 'string', format: 'url', description: 'Elasticsearch base URL, e.g. https://es.example:9200.' },
        apiKey: { type: 'string', minLength: 1, description: 'API key (base64 id:key, the "Encoded" form). ELASTIC_API_KEY and --api-key override it.' },
        username: { type: 'string', minLength: 1, description: 'Basic auth user, instead of an API key.' },
        password: { type: 'string', description: 'Basic auth password.' },
        caFile: { type: 'string', minLength: 1, description: 'PEM CA bundle the server certificate must chain to.' },
      },
    },
  },
} as const;

/** Plain text for the anyOf helpers, used in error messages. */
export const schemaDefMessages: Record<string, string> = {
  duration: 'must be a duration: milliseconds, or a string such as 500ms, 10s, 5m, 1h',
  size: 'must be a size: bytes, or a string such as 65536, 64KiB, 8MiB',
  threads: 'must be an integer from 0 to 256, or auto',
};
