/**
 * Effective OTLP/HTTP settings from the configuration and the standard OTEL_*
 * environment variables.
 *
 * Precedence, per setting: explicit configuration (file or CLI) > environment > default.
 * - URL: config `url` (verbatim) > config `endpoint` (+ /v1/logs) >
 *   OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (verbatim) > OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/logs) >
 *   http://localhost:4318/v1/logs (and `endpointConfigured` is false).
 * - headers: OTEL_EXPORTER_OTLP_HEADERS < OTEL_EXPORTER_OTLP_LOGS_HEADERS < config, merged per key;
 *   env values are percent-decoded (`Authorization=ApiKey%20abc`).
 * - compression, timeout, protocol: config > OTEL_EXPORTER_OTLP_LOGS_* > OTEL_EXPORTER_OTLP_* > default
 *   (none, 10000 ms, http/protobuf).
 * - resource: service.name=iptables-otel, service.version, host.name < OTEL_RESOURCE_ATTRIBUTES <
 *   OTEL_SERVICE_NAME < config `resource` < config `serviceName`.
 */
import os from 'node:os';
import { isHttpUrl, logsUrlFromBase, normalizeProtocol, parseKeyValueList, readOtelEnv } from '../config/otel-env.js';
import type { ConfigIssue } from '../pipeline/pipeline-config.js';
import type { InstrumentationScopeInfo, ResourceAttributes } from './otlp-protobuf.js';
import { packageInfo } from './package-info.js';

/** TLS for https endpoints: each of ca/cert/key is a file path or inline PEM. */
export interface OtlpTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  /** Default true. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** The OTLP output as a user writes it (every key optional). */
export interface OtlpOutputOptions {
  type?: 'otlp';
  name?: string;
  /** Base URL; `/v1/logs` is appended. */
  endpoint?: string;
  /** Full logs URL, used verbatim. Wins over `endpoint`. */
  url?: string;
  headers?: Record<string, string>;
  compression?: 'gzip' | 'none';
  timeoutMs?: number;
  /** `http/protobuf` (default) or `http/json`; the short forms `protobuf` / `json` work too. */
  protocol?: string;
  /** `fast` (default): our encoder; `sdk`: LoggerProvider + BackpressureLogRecordProcessor + OTLP exporter. */
  mode?: 'fast' | 'sdk';
  serviceName?: string;
  resource?: ResourceAttributes;
  /** Concurrent HTTP requests (the export delegate's limit). Default 8. */
  concurrency?: number;
  tls?: OtlpTlsOptions;
}

/**
 * The resolved OTLP output: what `createOutput` takes. `OtlpOutputSpec` from
 * src/config/service-config.ts is assignable to it.
 */
export interface OtlpOutputConfig {
  type: 'otlp';
  /** Metric label; default `otlp`. */
  name?: string;
  /** Full logs URL. */
  url: string;
  headers: Record<string, string>;
  compression: 'none' | 'gzip';
  timeoutMs: number;
  protocol: 'json' | 'protobuf';
  mode: 'fast' | 'sdk';
  /** Resource attributes; service.name / service.version / host.name are added when missing. */
  resource: ResourceAttributes;
  /** Default 8. */
  concurrency?: number;
  tls?: OtlpTlsOptions;
}

/** Defaults of the OTLP output. */
export const OTLP_DEFAULTS = Object.freeze({
  url: 'http://localhost:4318/v1/logs',
  compression: 'none' as const,
  timeoutMs: 10_000,
  protocol: 'protobuf' as const,
  mode: 'fast' as const,
  concurrency: 8,
  name: 'otlp',
});

/** What `resolveOtlpSettings` found. */
export interface ResolvedOtlpSettings {
  config: OtlpOutputConfig;
  /** False when neither the configuration nor the environment named an endpoint (the service then uses the console). */
  endpointConfigured: boolean;
  /** `url`, `endpoint`, the OTEL_* variable, or `default`. */
  endpointSource: string;
  /** Bad environment variables (key = variable name) or bad options (key = `prefix.option`). */
  issues: ConfigIssue[];
}

/** The instrumentation scope of our records: package name and version. */
export function instrumentationScope(): InstrumentationScopeInfo {
  const p = packageInfo();
  return { name: p.name, version: p.version };
}

/** Add service.name, service.version and host.name when `resource` does not have them. */
export function completeResource(resource: ResourceAttributes = {}): ResourceAttributes {
  return {
    'service.name': 'iptables-otel',
    'service.version': packageInfo().version,
    'host.name': os.hostname(),
    ...resource,
  };
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS merged per key with OTEL_EXPORTER_OTLP_LOGS_HEADERS (the
 * logs one wins), as the JS SDK does; a malformed list is reported by `readOtelEnv`.
 */
function envHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_LOGS_HEADERS']) {
    const text = env[name]?.trim();
    if (!text) continue;
    const parsed = parseKeyValueList(text);
    if (typeof parsed !== 'string') Object.assign(out, parsed);
  }
  return out;
}

/** Resolve the effective OTLP settings from the configuration and the environment (see the file comment). */
export function resolveOtlpSettings(
  options: OtlpOutputOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  prefix = 'outputs.otlp',
): ResolvedOtlpSettings {
  const { settings: e, issues: envIssues } = readOtelEnv(env);
  const issues: ConfigIssue[] = envIssues.map((i) => ({ key: i.variable, message: i.message }));

  let url: string = OTLP_DEFAULTS.url;
  let endpointSource = 'default';
  if (options.url !== undefined) {
    url = options.url;
    endpointSource = 'url';
  } else if (options.endpoint !== undefined) {
    endpointSource = 'endpoint';
    if (isHttpUrl(options.endpoint)) url = logsUrlFromBase(options.endpoint);
    else {
      url = options.endpoint;
      issues.push({ key: `${prefix}.endpoint`, message: `must be an http(s) URL (got ${JSON.stringify(options.endpoint)})` });
    }
  } else if (e.url !== undefined) {
    url = e.url;
    endpointSource = e.urlSource ?? 'environment';
  }

  let protocol: 'json' | 'protobuf' = e.protocol ?? OTLP_DEFAULTS.protocol;
  if (options.protocol !== undefined) {
    const p = normalizeProtocol(options.protocol);
    if (p) protocol = p;
    else issues.push({ key: `${prefix}.protocol`, message: `must be http/protobuf or http/json (got ${JSON.stringify(options.protocol)})` });
  }

  const resource: ResourceAttributes = completeResource({
    ...(e.resourceAttributes ?? {}),
    ...(e.serviceName ? { 'service.name': e.serviceName } : {}),
    ...(options.resource ?? {}),
    ...(options.serviceName ? { 'service.name': options.serviceName } : {}),
  });

  const config: OtlpOutputConfig = {
    type: 'otlp',
    name: options.name ?? OTLP_DEFAULTS.name,
    url,
    headers: { ...envHeaders(env), ...(options.headers ?? {}) },
    compression: options.compression ?? e.compression ?? OTLP_DEFAULTS.compression,
    timeoutMs: options.timeoutMs ?? e.timeoutMs ?? OTLP_DEFAULTS.timeoutMs,
    protocol,
    mode: options.mode ?? OTLP_DEFAULTS.mode,
    resource,
    concurrency: options.concurrency ?? OTLP_DEFAULTS.concurrency,
  };
  if (options.tls) config.tls = options.tls;
  issues.push(...validateOtlpOutputConfig(config, prefix).filter((i) => !issues.some((j) => j.key === i.key)));
  return { config, endpointConfigured: endpointSource !== 'default', endpointSource, issues };
}

/** Check a resolved OTLP output; one issue per bad key, named with `prefix`. */
export function validateOtlpOutputConfig(config: OtlpOutputConfig, prefix = 'outputs.otlp'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const k = (n: string): string => `${prefix}.${n}`;
  if (typeof config.url !== 'string' || !isHttpUrl(config.url)) {
    issues.push({ key: k('url'), message: `must be an http(s) URL (got ${JSON.stringify(config.url)})` });
  }
  if (config.compression !== 'gzip' && config.compression !== 'none') {
    issues.push({ key: k('compression'), message: `must be gzip or none (got ${JSON.stringify(config.compression)})` });
  }
  if (config.protocol !== 'json' && config.protocol !== 'protobuf') {
    issues.push({ key: k('protocol'), message: `must be http/protobuf or http/json (got ${JSON.stringify(config.protocol)})` });
  }
  if (config.mode !== 'fast' && config.mode !== 'sdk') {
    issues.push({ key: k('mode'), message: `must be fast or sdk (got ${JSON.stringify(config.mode)})` });
  }
  if (!Number.isInteger(config.timeoutMs) || config.timeoutMs <= 0) {
    issues.push({ key: k('timeoutMs'), message: `must be a positive integer (got ${JSON.stringify(config.timeoutMs)})` });
  }
  if (config.concurrency !== undefined && (!Number.isInteger(config.concurrency) || config.concurrency < 1)) {
    issues.push({ key: k('concurrency'), message: `must be an integer >= 1 (got ${JSON.stringify(config.concurrency)})` });
  }
  for (const [h, v] of Object.entries(config.headers ?? {})) {
    if (typeof v !== 'string' || /[\r\n]/.test(v)) {
      issues.push({ key: k(`headers.${h}`), message: 'must be a single-line string' });
    }
  }
  return issues;
}
