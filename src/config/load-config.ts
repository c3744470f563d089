import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { configSchema, schemaDefMessages } from './schema.js';
import {
  DEFAULT_OTLP_LOGS_URL,
  DEFAULT_SERVICE_NAME,
  type ConsoleOutputSpec,
  type FluentOutputSpec,
  type ListenerSpec,
  type OpsSpec,
  type OtlpOutputSpec,
  type OutputSpec,
  type ClientTlsSpec,
  type ParserSpec,
  type ServiceConfig,
  type SourceInputSpec,
} from './service-config.js';
import { ParseOptionsError, validateParseOptions } from '../mapping/parse-options.js';
import { isHttpUrl, logsUrlFromBase, normalizeProtocol, readOtelEnv, type OtelEnvSettings } from './otel-env.js';
import { parseListenUrl, type ListenUrl } from '../input/listen-url.js';
import { parseDuration, parseSize } from './units.js';
import { toInputConfig, toPipelineConfig } from './component-configs.js';
import { InputConfigError, UDP_INPUT_DEFAULTS, validateInputConfig } from '../input/input-config.js';
import { SOURCE_INPUT_KINDS, sourceInputKind } from '../input/source-kinds.js';
import { defaultStateDirectory } from '../pipeline/spool/spool-config.js';
import { validatePipelineConfig } from '../pipeline/pipeline-config.js';
import { resolvePartialFrameBudgetConfig, validatePartialFrameBudgetConfig } from '../input/partial-frame-budget.js';
import { resolveSpoolConfig, validateSpoolConfig, type SpoolConfig, type SpoolFsyncPolicy } from '../pipeline/spool/spool-config.js';
import { resolvePipelineConfig } from '../pipeline/pipeline-config.js';
import { validateOutputConfig } from '../output/create-output.js';
import type { LogLevel } from '../ops/logger.js';
import { validateElasticsearchConfig, type ElasticsearchConfig } from '../output/elasticsearch/elasticsearch-config.js';

/** One problem found in the configuration, located as precisely as possible. */
export interface ConfigIssue {
  /** Config file, `environment`, or `command line`. */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** Key path, e.g. `outputs[0].otlp.endpoint`, or the variable / flag name. */
  path?: string;
  message: string;
}

/** Renders an issue as `config.yaml:12: outputs[0].otlp.endpoint: must be a URL`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.file === undefined ? '' : issue.line === undefined ? `${issue.file}: ` : `${issue.file}:${issue.line}: `;
  return `${where}${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

/** Thrown by `loadConfig()` with every problem it found (not just the first). */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Command-line settings; each wins over the file and the environment. */
export interface ConfigOverrides {
  /** `--listen` URLs (network listeners): with `inputs`, replace the file's inputs. */
  listen?: string[];
  /** `--input` URLs of any kind (`kmsg://`, `file:///...`, `udp://...`): with `listen`, replace the file's inputs. */
  inputs?: string[];
  /** `--state-dir DIR`: where checkpoints (and, by default, the spool) live. */
  stateDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** `--output` names: replace the file's outputs (a file output of the same kind lends its settings). */
  outputs?: string[];
  /** `--otlp-endpoint`: base URL (`/v1/logs` appended unless present). */
  otlpEndpoint?: string;
  logLevel?: string;
  /** `--ops-address host:port` or `off`. */
  opsAddress?: string;
  /** `--threads N|auto`: `pipeline.threads`. */
  threads?: string;
  /** `--spool-dir DIR`: `pipeline.spool.directory` (turns the spool on). */
  spoolDir?: string;
  /** `--no-spool`: `pipeline.spool: off`. */
  noSpool?: boolean;
}

/** Options of `loadConfig()`. */
export interface LoadConfigOptions {
  /** YAML config file; none = defaults (+ environment + overrides). */
  file?: string;
  /** YAML text instead of reading `file` (`file` still names it in messages). */
  text?: string;
  /** Environment for OTEL_* (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** Check that TLS files exist and are readable (default true). */
  checkFiles?: boolean;
}

let validator: ValidateFunction | undefined;
let itemValidator: ValidateFunction | undefined;

function getValidators(): { all: ValidateFunction; input: ValidateFunction } {
  if (!validator || !itemValidator) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false, allowUnionTypes: true });
    ajv.addFormat('url', { type: 'string', validate: isHttpUrl });
    validator = ajv.compile(configSchema);
    // The same item schema validates `--listen` URLs, so flags and file accept the same keys.
    itemValidator = ajv.compile({ $defs: configSchema.$defs, ...configSchema.properties.inputs.items });
  }
  return { all: validator, input: itemValidator };
}

type PathElem = string | number;

function pathToString(path: PathElem[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/** `parser.prefixRules[1].action` -> ['parser', 'prefixRules', 1, 'action']. */
function keyToPath(key: string): PathElem[] {
  const out: PathElem[] = [];
  for (const m of key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

function pointerToPath(pointer: string): PathElem[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
}

/** Finds the source line of a key path in the YAML document: the deepest node that exists on the path. */
function locate(doc: Document, lc: LineCounter, path: PathElem[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as YamlNode | null)?.range?.[0];
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      // The key's own line: that is where a human looks for `endpoint: ...`.
      offset = (pair.key as YamlNode).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as YamlNode | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset === undefined ? undefined : lc.linePos(offset).line;
}

function ajvMessage(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    case 'enum':
      return `must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues).map(String).join(', ')}`;
    case 'format':
      return (e.params as { format: string }).format === 'url' ? 'must be a URL (http:// or https://)' : `must be a ${(e.params as { format: string }).format}`;
    case 'required':
      return `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'minProperties':
    case 'maxProperties':
      return `must have exactly one key, the kind (${listKinds(e.schemaPath)})`;
    case 'type': {
      const t = (e.params as { type: string | string[] }).type;
      const ts = Array.isArray(t) ? t : [t];
      return `must be ${ts.filter((x) => x !== 'null').map((x) => (x === 'object' ? 'a mapping' : x === 'array' ? 'a list' : `a ${x}`)).join(' or ')}`;
    }
    case 'pattern':
      return e.schemaPath.includes('/ops/') ? 'must be host:port (IPv6 in brackets) or off' : `must match ${(e.params as { pattern: string }).pattern}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function listKinds(schemaPath: string): string {
  if (schemaPath.includes('/outputs/')) return 'otlp, fluent or console';
  if (schemaPath.includes('/inputs/')) return ['udp', 'tcp', 'tls', 'relp', ...SOURCE_INPUT_KINDS.map((k) => k.type)].join(', ');
  return '';
}

/** Turns ajv errors into issues, collapsing the noise of anyOf (duration/size) into one message. */
function ajvIssues(errors: ErrorObject[], locateLine: (p: PathElem[]) => number | undefined, file: string | undefined, prefix: PathElem[] = []): ConfigIssue[] {
  const anyOfPaths = new Map<string, string>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const def = /#\/\$defs\/(\w+)\/anyOf$/.exec(e.schemaPath)?.[1];
    anyOfPaths.set(e.instancePath, def && schemaDefMessages[def] ? schemaDefMessages[def] : 'has the wrong type');
  }
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let path = [...prefix, ...pointerToPath(e.instancePath)];
    let message: string;
    if (anyOfPaths.has(e.instancePath)) {
      message = anyOfPaths.get(e.instancePath)!;
    } else {
      if (e.keyword === 'if') continue;
      message = ajvMessage(e);
      if (e.keyword === 'additionalProperties') path = [...path, (e.params as { additionalProperty: string }).additionalProperty];
    }
    const key = `${pathToString(path)}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ file, line: locateLine(path), path: pathToString(path) || '(top level)', message });
  }
  return issues;
}

/** YAML `key:` with nothing after it is null; treat `- console:` as `- console: {}`. */
function nullKindsToObjects(list: unknown): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) if (v === null) (item as Record<string, unknown>)[k] = {};
    }
  }
}

/* ---- raw (validated, defaulted) file shapes ---- */
interface RawListener {
  host: string;
  port: number;
  name?: string;
  framing?: ListenerSpec['framing'] | 'octet-counting';
  maxFrameSize: number | string;
  maxConnections?: number;
  maxPendingConnections?: number;
  idleTimeout?: number | string;
  drainTimeout?: number | string;
  recvBufferSize?: number | string;
  readerThread?: boolean;
  tls?: { cert: string; key: string; ca?: string; requireClientCert: boolean; watch?: boolean };
}
interface RawOtlp {
  endpoint?: string;
  logsEndpoint?: string;
  headers?: Record<string, string>;
  compression?: 'none' | 'gzip';
  timeout?: number | string;
  protocol?: string;
  mode?: 'fast' | 'sdk';
  serviceName?: string;
  resourceAttributes?: Record<string, string | number | boolean>;
  concurrency?: number;
  tls?: ClientTlsSpec;
  name?: string;
}
interface RawFluent {
  host: string;
  port: number;
  tag: string;
  tls?: FluentOutputSpec['tls'];
  sharedKey?: string;
  username?: string;
  password?: string;
  ack: boolean;
  timeout?: number | string;
  name?: string;
}
interface RawConfig {
  inputs?: Array<{ udp?: RawListener; tcp?: RawListener; tls?: RawListener; relp?: RawListener } & Record<string, unknown>>;
  stateDirectory?: string;
  parser: ParserSpec;
  pipeline: {
    queue: { maxRecords: number; maxBytes: number | string };
    batch: { size: number; maxBytes: number | string; linger: number | string };
    retry: { initialDelay: number | string; maxDelay: number | string };
    shutdownDeadline: number | string;
    threads: number | 'auto';
    spool?: 'off' | 'on' | boolean | { directory?: string; maxBytes?: number | string; segmentSize?: number | string; fsync?: SpoolFsyncPolicy; fsyncInterval?: number | string };
    partialFrames?: { maxBytes?: number | string; stall?: number | string };
  };
  outputs?: Array<{ otlp?: RawOtlp; fluent?: RawFluent; console?: { stream: 'stdout' | 'stderr' } }>;
  ops: { address: string; unhealthyAfterFailures: number; unhealthyAfterStall: number | string; statusInterval: number | string };
  logging: { level: LogLevel };
  elasticsearch?: ElasticsearchConfig;
}

/** `pipeline.spool` (and `--spool-dir` / `--no-spool`) over the spool defaults. */
function spoolFromRaw(raw: RawConfig['pipeline']['spool'], ov: ConfigOverrides, env: NodeJS.ProcessEnv): SpoolConfig {
  const obj = typeof raw === 'object' && raw !== null ? raw : {};
  let enabled = raw !== 'off' && raw !== false;
  if (ov.spoolDir !== undefined) enabled = true;
  if (ov.noSpool === true) enabled = false;
  return resolveSpoolConfig(
    {
      enabled,
      ...(ov.spoolDir !== undefined ? { directory: ov.spoolDir } : obj.directory !== undefined ? { directory: obj.directory } : {}),
      ...(obj.maxBytes !== undefined ? { maxBytes: parseSize(obj.maxBytes)! } : {}),
      ...(obj.segmentSize !== undefined ? { segmentBytes: parseSize(obj.segmentSize)! } : {}),
      ...(obj.fsync !== undefined ? { fsync: obj.fsync } : {}),
      ...(obj.fsyncInterval !== undefined ? { fsyncIntervalMs: parseDuration(obj.fsyncInterval)! } : {}),
    },
    env,
  );
}

function listenerFromRaw(type: ListenerSpec['type'], r: RawListener): ListenerSpec {
  const spec: ListenerSpec = {
    type,
    host: r.host,
    port: r.port,
    framing: r.framing === 'octet-counting' ? 'octet' : (r.framing ?? 'auto'),
    maxFrameSize: parseSize(r.maxFrameSize)!,
    maxConnections: r.maxConnections ?? 10000,
    maxPendingConnections: r.maxPendingConnections ?? 1000,
    idleTimeoutMs: parseDuration(r.idleTimeout) ?? 300000,
    drainTimeoutMs: parseDuration(r.drainTimeout) ?? 1000,
    recvBufferSize: parseSize(r.recvBufferSize) ?? UDP_INPUT_DEFAULTS.recvBufferSize,
    readerThread: r.readerThread ?? UDP_INPUT_DEFAULTS.readerThread,
  };
  if (r.name !== undefined) spec.name = r.name;
  if (r.tls) {
    spec.tls = { cert: r.tls.cert, key: r.tls.key, requireClientCert: r.tls.requireClientCert, watch: r.tls.watch ?? true, ...(r.tls.ca ? { ca: r.tls.ca } : {}) };
  }
  return spec;
}

function otlpFromRaw(o: RawOtlp, env: OtelEnvSettings, cliEndpoint: string | undefined): OtlpOutputSpec {
  const url = cliEndpoint
    ? logsUrlFromBase(cliEndpoint)
    : (o.logsEndpoint ?? (o.endpoint ? logsUrlFromBase(o.endpoint) : undefined) ?? env.url ?? DEFAULT_OTLP_LOGS_URL);
  // Per-key merge: an API key from the environment plus a header from the file both apply; the file wins a clash.
  const headers = { ...(env.headers ?? {}), ...(o.headers ?? {}) };
  const resource: Record<string, string | number | boolean> = { 'service.name': DEFAULT_SERVICE_NAME, ...(env.resourceAttributes ?? {}) };
  if (env.serviceName) resource['service.name'] = env.serviceName;
  Object.assign(resource, o.resourceAttributes ?? {});
  if (o.serviceName) resource['service.name'] = o.serviceName;
  return {
    type: 'otlp',
    name: o.name ?? 'otlp',
    url,
    headers,
    compression: o.compression ?? env.compression ?? 'none',
    timeoutMs: parseDuration(o.timeout) ?? env.timeoutMs ?? 10000,
    protocol: (o.protocol ? normalizeProtocol(o.protocol) : undefined) ?? env.protocol ?? 'protobuf',
    mode: o.mode ?? 'fast',
    resource,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
  };
}

function fluentFromRaw(f: RawFluent): FluentOutputSpec {
  const spec: FluentOutputSpec = { type: 'fluent', name: f.name ?? 'fluent', host: f.host, port: f.port, tag: f.tag, ack: f.ack };
  if (f.tls !== undefined) spec.tls = f.tls;
  if (f.sharedKey !== undefined) spec.sharedKey = f.sharedKey;
  if (f.username !== undefined) spec.username = f.username;
  if (f.password !== undefined) spec.password = f.password;
  const t = parseDuration(f.timeout);
  if (t !== undefined) spec.timeoutMs = t;
  return spec;
}

/** Parses `host:port`, `[v6]:port` or `off` for the ops endpoint. */
export function parseOpsAddress(text: string): { enabled: boolean; host: string; port: number } | undefined {
  if (text === 'off') return { enabled: false, host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { enabled: true, host: m[1] ?? m[2]!, port };
}

/** Converts `?framing=lf&maxConnections=10` query values to the types the schema expects. */
function coerceQuery(query: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) out[k] = /^\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  return out;
}

/**
 * Loads, validates and resolves the configuration: the YAML file (if any) with defaults, the
 * OTEL_* environment, then command-line overrides (precedence: CLI > file > OTEL_* > defaults).
 * Throws `ConfigError` listing every problem as `FILE:LINE: key.path: message`.
 */
export function loadConfig(options: LoadConfigOptions = {}): ServiceConfig {
  const file = options.file;
  const env = options.env ?? process.env;
  const ov = options.overrides ?? {};
  const issues: ConfigIssue[] = [];
  const cli = 'command line';

  let text = options.text;
  if (text === undefined && file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([{ file, message: `cannot read the config file: ${(err as Error).message}` }]);
    }
  }

  const lc = new LineCounter();
  const doc = parseDocument(text ?? '', { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    issues.push({ file, line, message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  let raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, message: 'the config file must be a mapping (key: value) at the top level' }]);
  }
  nullKindsToObjects((raw as Record<string, unknown>).inputs);
  nullKindsToObjects((raw as Record<string, unknown>).outputs);

  const { all, input: validateListener } = getValidators();
  const locateLine = (p: PathElem[]): number | undefined => locate(doc, lc, p);
  if (!all(raw)) issues.push(...ajvIssues(all.errors ?? [], locateLine, file));
  if (issues.length > 0) throw new ConfigError(issues);
  const cfg = raw as RawConfig;

  // Environment (lowest precedence above defaults).
  const otel = readOtelEnv(env);
  for (const i of otel.issues) issues.push({ file: 'environment', path: i.variable, message: i.message });

  // ---- inputs
  let inputs: ListenerSpec[] = [];
  const inputLines: Array<number | undefined> = [];
  const sources: SourceInputSpec[] = [];
  const sourceWhere: Array<{ line?: number; path: string }> = [];
  const networkUrls: string[] = [];
  for (const url of ov.listen ?? []) {
    const scheme = /^([a-z]+):/i.exec(url.trim())?.[1]?.toLowerCase();
    if (scheme === undefined || sourceInputKind(scheme) === undefined) networkUrls.push(url);
    else issues.push({ file: cli, path: '--listen', message: `${url}: --listen takes udp://, tcp://, tls:// or relp:// listeners; use --input for other kinds` });
  }
  for (const url of ov.inputs ?? []) {
    const scheme = /^([a-z]+):/i.exec(url.trim())?.[1]?.toLowerCase();
    if (scheme === 'udp' || scheme === 'tcp' || scheme === 'tls' || scheme === 'relp') {
      networkUrls.push(url);
      continue;
    }
    const kind = scheme !== undefined ? sourceInputKind(scheme) : undefined;
    if (kind === undefined) {
      const known = ['udp', 'tcp', 'tls', 'relp', ...SOURCE_INPUT_KINDS.map((k) => k.type)].map((k) => `${k}://`).join(', ');
      issues.push({ file: cli, path: '--input', message: `${url}: unknown kind of input (known: ${known})` });
      continue;
    }
    try {
      sources.push({ type: kind.type, config: kind.validate(kind.fromUrl(url), kind.type) });
      sourceWhere.push({ path: `--input ${url}` });
    } catch (err) {
      issues.push({ file: cli, path: `--input ${url}`, message: (err as Error).message });
    }
  }
  const fromUrls = (ov.listen?.length ?? 0) + (ov.inputs?.length ?? 0) > 0;
  if (fromUrls) {
    for (const url of networkUrls) {
      let parts: ListenUrl;
      try {
        parts = parseListenUrl(url);
      } catch (err) {
        issues.push({ file: cli, path: '--listen', message: (err as Error).message });
        continue;
      }
      const body: Record<string, unknown> = { host: parts.host, port: parts.port, ...coerceQuery(parts.query) };
      if (parts.transport === 'tls') {
        if (!ov.tlsCert || !ov.tlsKey) {
          issues.push({ file: cli, path: '--listen', message: `${url} needs --tls-cert and --tls-key` });
          continue;
        }
        body.tls = { cert: ov.tlsCert, key: ov.tlsKey, ...(ov.tlsCa ? { ca: ov.tlsCa, requireClientCert: true } : {}) };
      }
      const item = { [parts.transport]: body };
      if (!validateListener(item)) {
        for (const i of ajvIssues(validateListener.errors ?? [], () => undefined, cli)) issues.push({ ...i, path: `--listen ${url}: ${i.path}` });
        continue;
      }
      inputs.push(listenerFromRaw(parts.transport, (item as unknown as Record<string, RawListener>)[parts.transport]!));
      inputLines.push(undefined);
    }
    if ((ov.tlsCert || ov.tlsKey || ov.tlsCa) && !networkUrls.some((u) => u.trim().startsWith('tls://'))) {
      issues.push({ file: cli, path: '--tls-cert/--tls-key/--tls-ca', message: 'only apply to a --listen tls://HOST:PORT listener' });
    }
  } else if (ov.tlsCert || ov.tlsKey || ov.tlsCa) {
    issues.push({ file: cli, path: '--tls-cert/--tls-key/--tls-ca', message: 'only apply to a --listen tls://HOST:PORT listener' });
  } else if (cfg.inputs && cfg.inputs.length > 0) {
    cfg.inputs.forEach((item, i) => {
      const type = (['udp', 'tcp', 'tls', 'relp'] as const).find((t) => item[t] !== undefined);
      if (type !== undefined) {
        inputs.push(listenerFromRaw(type, item[type]!));
        inputLines.push(locateLine(['inputs', i, type]));
        return;
      }
      // The schema admits exactly one key, a registered kind.
      const key = Object.keys(item)[0]!;
      const kind = sourceInputKind(key)!;
      const path = `inputs[${i}].${key}`;
      try {
        sources.push({ type: kind.type, config: kind.validate(item[key], path) });
        sourceWhere.push({ line: locateLine(['inputs', i, key]), path });
      } catch (err) {
        if (!(err instanceof InputConfigError)) throw err;
        issues.push({ file, line: locateLine(keyToPath(err.key)) ?? locateLine(['inputs', i, key]), path: err.key, message: err.message.slice(err.key.length + 2) });
      }
    });
  } else {
    inputs = [
      listenerFromRaw('udp', { host: '127.0.0.1', port: 9001, maxFrameSize: 65536 }),
      listenerFromRaw('tcp', { host: '127.0.0.1', port: 9001, maxFrameSize: 65536 }),
    ];
  }
  // Two listeners of one transport on one address would fail at bind time; say so now, with the line.
  const bound = new Map<string, number>();
  inputs.forEach((l, i) => {
    if (l.port === 0) return;
    const key = `${l.type === 'udp' ? 'udp' : 'tcp'} ${l.host}:${l.port}`;
    if (bound.has(key)) {
      issues.push({ file: inputLines[i] === undefined ? cli : file, line: inputLines[i], path: inputLines[i] === undefined ? '--listen' : `inputs[${i}]`, message: `${key} is already used by another listener` });
    } else bound.set(key, i);
  });
  // The input factory's own validation (ranges the schema cannot express for `64KiB`-style sizes, mTLS needs a CA).
  inputs.forEach((l, i) => {
    const fromFile = inputLines[i] !== undefined;
    if (l.tls?.requireClientCert && !l.tls.ca) {
      issues.push({ file: fromFile ? file : cli, line: fromFile ? locateLine(['inputs', i, 'tls', 'tls', 'requireClientCert']) : undefined, path: fromFile ? `inputs[${i}].tls.tls.requireClientCert` : '--tls-ca', message: 'needs a ca file to verify client certificates' });
      return;
    }
    try {
      validateInputConfig(toInputConfig(l), fromFile ? `inputs[${i}].${l.type}` : `--listen ${l.type}://${l.host}:${l.port}`);
    } catch (err) {
      issues.push({ file: fromFile ? file : cli, line: fromFile ? inputLines[i] : undefined, message: (err as Error).message });
    }
  });
  if (options.checkFiles !== false) {
    inputs.forEach((l, i) => {
      if (!l.tls) return;
      for (const k of ['cert', 'key', 'ca'] as const) {
        const p = l.tls[k];
        if (!p) continue;
        try {
          accessSync(p, fsConstants.R_OK);
        } catch (err) {
          const fromFile = inputLines[i] !== undefined;
          issues.push({
            file: fromFile ? file : cli,
            line: fromFile ? locateLine(['inputs', i, 'tls', 'tls', k]) : undefined,
            path: fromFile ? `inputs[${i}].tls.tls.${k}` : `--tls-${k}`,
            message: `cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          });
        }
      }
    });
  }

  // ---- outputs
  if (ov.otlpEndpoint !== undefined && !isHttpUrl(ov.otlpEndpoint)) {
    issues.push({ file: cli, path: '--otlp-endpoint', message: 'must be a URL (http:// or https://)' });
  }
  const cliEndpoint = ov.otlpEndpoint !== undefined && isHttpUrl(ov.otlpEndpoint) ? ov.otlpEndpoint : undefined;
  const notices: string[] = [];
  const fileOutputs = cfg.outputs ?? [];
  const fromFile = (kind: 'otlp' | 'fluent' | 'console'): Record<string, unknown> | undefined =>
    fileOutputs.find((o) => o[kind] !== undefined)?.[kind] as Record<string, unknown> | undefined;
  const build = (kind: 'otlp' | 'fluent' | 'console', body: Record<string, unknown> | undefined): OutputSpec => {
    if (kind === 'otlp') return otlpFromRaw((body ?? {}) as RawOtlp, otel.settings, cliEndpoint);
    if (kind === 'fluent') return fluentFromRaw({ host: '127.0.0.1', port: 24224, tag: 'iptables', ack: true, ...(body ?? {}) } as RawFluent);
    const c = (body ?? {}) as { stream?: 'stdout' | 'stderr'; name?: string };
    return { type: 'console', name: c.name ?? 'console', stream: c.stream ?? 'stdout' } satisfies ConsoleOutputSpec;
  };
  let outputs: OutputSpec[] = [];
  if (ov.outputs && ov.outputs.length > 0) {
    const seen = new Set<string>();
    for (const name of ov.outputs) {
      if (name !== 'otlp' && name !== 'fluent' && name !== 'console') {
        issues.push({ file: cli, path: '--output', message: `"${name}" is not an output (otlp, fluent or console)` });
      } else if (seen.has(name)) {
        issues.push({ file: cli, path: '--output', message: `${name} is given twice` });
      } else {
        seen.add(name);
        outputs.push(build(name, fromFile(name)));
      }
    }
  } else if (fileOutputs.length > 0) {
    outputs = fileOutputs.map((o) => {
      const kind = (['otlp', 'fluent', 'console'] as const).find((k) => o[k] !== undefined)!;
      return build(kind, o[kind] as Record<string, unknown>);
    });
  } else if (cliEndpoint || otel.settings.url) {
    outputs = [build('otlp', undefined)];
  } else {
    outputs = [build('console', undefined)];
    notices.push(
      'no OTLP endpoint configured (outputs in the config file, --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT): writing records to the console (stdout) as OTLP/JSON lines',
    );
  }
  const names = new Set<string>();
  outputs.forEach((o, i) => {
    if (names.has(o.name)) {
      const fromFileOutputs = !(ov.outputs && ov.outputs.length > 0);
      issues.push({
        file: fromFileOutputs ? file : cli,
        line: fromFileOutputs ? locateLine(['outputs', i]) : undefined,
        path: fromFileOutputs ? `outputs[${i}]` : '--output',
        message: `two outputs are named "${o.name}"; give one a different name: key (metric labels must be unique)`,
      });
    }
    names.add(o.name);
  });
  // The output factory's own checks (e.g. TLS files of an https endpoint).
  const outputsFromFile = !(ov.outputs && ov.outputs.length > 0) && fileOutputs.length > 0;
  outputs.forEach((o, i) => {
    for (const issue of validateOutputConfig(o, `outputs[${i}]`)) {
      const rest = keyToPath(issue.key).slice(2);
      const path: PathElem[] = ['outputs', i, o.type, ...rest];
      issues.push(
        outputsFromFile
          ? { file, line: locateLine(path), path: pathToString(path), message: issue.message }
          : { file: cli, path: `--output ${o.type}: ${pathToString(rest) || o.type}`, message: issue.message },
      );
    }
  });
  if (cliEndpoint && !outputs.some((o) => o.type === 'otlp')) {
    issues.push({ file: cli, path: '--otlp-endpoint', message: 'is set but no otlp output is selected (add --output otlp)' });
  }

  // ---- ops, logging
  let ops: OpsSpec | undefined;
  const opsText = ov.opsAddress ?? cfg.ops.address;
  const opsAddr = parseOpsAddress(opsText);
  if (!opsAddr) {
    issues.push(
      ov.opsAddress !== undefined
        ? { file: cli, path: '--ops-address', message: 'must be host:port (IPv6 in brackets) or off' }
        : { file, line: locateLine(['ops', 'address']), path: 'ops.address', message: 'must be host:port (IPv6 in brackets) or off' },
    );
  } else {
    ops = {
      ...opsAddr,
      unhealthyAfterFailures: cfg.ops.unhealthyAfterFailures,
      unhealthyAfterStallMs: parseDuration(cfg.ops.unhealthyAfterStall)!,
      statusIntervalMs: parseDuration(cfg.ops.statusInterval)!,
    };
  }
  let level: LogLevel = cfg.logging.level;
  if (ov.logLevel !== undefined) {
    if (['debug', 'info', 'warn', 'error', 'silent'].includes(ov.logLevel)) level = ov.logLevel as LogLevel;
    else issues.push({ file: cli, path: '--log-level', message: 'must be one of: debug, info, warn, error, silent' });
  }

  const pipeline = {
    maxRecords: cfg.pipeline.queue.maxRecords,
    maxBytes: parseSize(cfg.pipeline.queue.maxBytes)!,
    batchSize: cfg.pipeline.batch.size,
    batchMaxBytes: parseSize(cfg.pipeline.batch.maxBytes)!,
    lingerMs: parseDuration(cfg.pipeline.batch.linger)!,
    retryInitialMs: parseDuration(cfg.pipeline.retry.initialDelay)!,
    retryMaxMs: parseDuration(cfg.pipeline.retry.maxDelay)!,
    shutdownDeadlineMs: parseDuration(cfg.pipeline.shutdownDeadline)!,
  };
  let threads: number | 'auto' = cfg.pipeline.threads;
  if (ov.threads !== undefined) {
    const t = ov.threads.trim();
    if (t === 'auto') threads = 'auto';
    else if (/^\d+$/.test(t) && Number(t) <= 256) threads = Number(t);
    else issues.push({ file: cli, path: '--threads', message: 'must be an integer from 0 to 256, or auto' });
  }
  const pipelineKeys: Record<string, PathElem[]> = {
    maxRecords: ['pipeline', 'queue', 'maxRecords'],
    maxBytes: ['pipeline', 'queue', 'maxBytes'],
    batchSize: ['pipeline', 'batch', 'size'],
    batchMaxBytes: ['pipeline', 'batch', 'maxBytes'],
    lingerMs: ['pipeline', 'batch', 'linger'],
    retryInitialMs: ['pipeline', 'retry', 'initialDelay'],
    retryMaxMs: ['pipeline', 'retry', 'maxDelay'],
    shutdownDeadlineMs: ['pipeline', 'shutdownDeadline'],
  };
  for (const i of validatePipelineConfig(resolvePipelineConfig(toPipelineConfig(pipeline)), '')) {
    const path = pipelineKeys[i.key] ?? ['pipeline'];
    issues.push({ file, line: locateLine(path), path: pathToString(path), message: i.message });
  }

  // The state directory comes from the process's own environment (systemd sets it there), not
  // from `env`, which carries the OTEL_* settings. An explicit one moves the spool's default too.
  const stateSetting = ov.stateDir ?? cfg.stateDirectory;
  const stateDirectory = stateSetting ?? defaultStateDirectory(process.env);
  const spool = spoolFromRaw(cfg.pipeline.spool, ov, stateSetting !== undefined ? { ...process.env, STATE_DIRECTORY: stateSetting } : process.env);

  // Source inputs: checkpoints advance on the worker pipeline's acknowledgements, which
  // threads: 0 does not report; and each name is a checkpoint file, so names must differ.
  const seenNames = new Map<string, number>();
  sources.forEach((src, i) => {
    const where = sourceWhere[i]!;
    const at = where.line !== undefined ? { file, line: where.line } : { file: cli };
    if (threads === 0) {
      issues.push({ ...at, path: where.path, message: 'needs pipeline.threads >= 1 (or auto, the default): its checkpoint advances on the acknowledgements of the worker pipeline, which threads: 0 does not report' });
    }
    if (seenNames.has(src.config.name)) {
      issues.push({ ...at, path: where.path, message: `the name "${src.config.name}" is already used by another input (it names the checkpoint file): set a distinct name` });
    } else seenNames.set(src.config.name, i);
  });
  const rawPartial = cfg.pipeline.partialFrames ?? {};
  const partialFrames = resolvePartialFrameBudgetConfig({
    ...(rawPartial.maxBytes !== undefined ? { maxBytes: parseSize(rawPartial.maxBytes)! } : {}),
    ...(rawPartial.stall !== undefined ? { stallMs: parseDuration(rawPartial.stall)! } : {}),
  });
  for (const i of validatePartialFrameBudgetConfig(partialFrames, '')) {
    const path: PathElem[] = ['pipeline', 'partialFrames', i.key === 'stallMs' ? 'stall' : i.key];
    issues.push({ file, line: locateLine(path), path: pathToString(path), message: i.message });
  }
  for (const i of validateSpoolConfig(spool, '')) {
    const key = i.key === 'segmentBytes' ? 'segmentSize' : i.key === 'fsyncIntervalMs' ? 'fsyncInterval' : i.key;
    const path: PathElem[] = ['pipeline', 'spool', key];
    issues.push({ file, line: locateLine(path), path: pathToString(path), message: i.message });
  }

  if (cfg.elasticsearch !== undefined) {
    for (const i of validateElasticsearchConfig(cfg.elasticsearch)) {
      const path: PathElem[] = ['elasticsearch', i.key];
      issues.push({ file, line: locateLine(path), path: pathToString(path), message: i.message });
    }
  }

  try {
    validateParseOptions(cfg.parser, 'parser');
  } catch (err) {
    if (!(err instanceof ParseOptionsError)) throw err;
    const path = keyToPath(err.key);
    issues.push({ file, line: locateLine(path), path: err.key, message: err.message.slice(err.key.length + 2) });
  }

  if (issues.length > 0) throw new ConfigError(issues);

  const p = cfg.parser;
  return {
    ...(file !== undefined ? { source: file } : {}),
    inputs,
    sources,
    stateDirectory,
    parser: {
      timezone: p.timezone,
      preserveOriginal: p.preserveOriginal,
      dataset: p.dataset,
      namespace: p.namespace,
      ...(p.prefixRules !== undefined ? { prefixRules: p.prefixRules } : {}),
    },
    pipeline,
    threads,
    spool,
    partialFrames,
    outputs,
    ops: ops!,
    logging: { level },
    ...(cfg.elasticsearch !== undefined ? { elasticsearch: cfg.elasticsearch } : {}),
    notices,
  };
}
