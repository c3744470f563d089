/**
 * The OTLP exporter settings the standard OTEL_* environment variables give, with the
 * logs-specific variable winning over the generic one (OTel spec). Only what is set appears.
 */
export interface OtelEnvSettings {
  /** Full logs URL: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT verbatim, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/logs. */
  url?: string;
  /** Which variable gave `url` (for messages). */
  urlSource?: string;
  headers?: Record<string, string>;
  compression?: 'none' | 'gzip';
  timeoutMs?: number;
  protocol?: 'json' | 'protobuf';
  serviceName?: string;
  resourceAttributes?: Record<string, string>;
}

/** A problem with one environment variable. */
export interface EnvIssue {
  variable: string;
  message: string;
}

function pick(env: NodeJS.ProcessEnv, logsName: string, name: string): [string, string] | undefined {
  const specific = env[logsName];
  if (specific !== undefined && specific.trim() !== '') return [logsName, specific.trim()];
  const generic = env[name];
  if (generic !== undefined && generic.trim() !== '') return [name, generic.trim()];
  return undefined;
}

/** Appends `/v1/logs` to a base OTLP/HTTP endpoint unless the path already ends with it. */
export function logsUrlFromBase(base: string): string {
  const u = new URL(base);
  if (/\/v1\/logs\/?$/.test(u.pathname)) return u.toString();
  u.pathname = u.pathname.replace(/\/+$/, '') + '/v1/logs';
  return u.toString();
}

/** True when `s` parses as an http(s) URL. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Parses the W3C-baggage-like `k1=v1,k2=v2` lists of OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES (values percent-decoded). */
export function parseKeyValueList(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return `"${part.trim()}" is not key=value`;
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      return `the value of "${key}" is not valid percent-encoding`;
    }
    out[key] = value;
  }
  return out;
}

/** Normalizes OTEL_EXPORTER_OTLP_PROTOCOL values and the config file's short forms. */
export function normalizeProtocol(p: string): 'json' | 'protobuf' | undefined {
  switch (p) {
    case 'json':
    case 'http/json':
      return 'json';
    case 'protobuf':
    case 'http/protobuf':
      return 'protobuf';
    default:
      return undefined;
  }
}

/** Reads the OTEL_* variables that configure the OTLP logs exporter. Never throws; problems go to `issues`. */
export function readOtelEnv(env: NodeJS.ProcessEnv): { settings: OtelEnvSettings; issues: EnvIssue[] } {
  const settings: OtelEnvSettings = {};
  const issues: EnvIssue[] = [];

  const specificUrl = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?.trim();
  const baseUrl = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (specificUrl) {
    if (isHttpUrl(specificUrl)) {
      settings.url = specificUrl;
      settings.urlSource = 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT';
    } else issues.push({ variable: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', message: 'must be an http(s) URL' });
  } else if (baseUrl) {
    if (isHttpUrl(baseUrl)) {
      settings.url = logsUrlFromBase(baseUrl);
      settings.urlSource = 'OTEL_EXPORTER_OTLP_ENDPOINT';
    } else issues.push({ variable: 'OTEL_EXPORTER_OTLP_ENDPOINT', message: 'must be an http(s) URL' });
  }

  const headers = pick(env, 'OTEL_EXPORTER_OTLP_LOGS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS');
  if (headers) {
    const parsed = parseKeyValueList(headers[1]);
    if (typeof parsed === 'string') issues.push({ variable: headers[0], message: parsed });
    else settings.headers = parsed;
  }

  const compression = pick(env, 'OTEL_EXPORTER_OTLP_LOGS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION');
  if (compression) {
    if (compression[1] === 'gzip' || compression[1] === 'none') settings.compression = compression[1];
    else issues.push({ variable: compression[0], message: 'must be gzip or none' });
  }

  const timeout = pick(env, 'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT');
  if (timeout) {
    const n = Number(timeout[1]);
    if (Number.isInteger(n) && n > 0) settings.timeoutMs = n;
    else issues.push({ variable: timeout[0], message: 'must be a positive integer (milliseconds)' });
  }

  const protocol = pick(env, 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol) {
    const p = normalizeProtocol(protocol[1]);
    if (p) settings.protocol = p;
    else issues.push({ variable: protocol[0], message: 'must be http/protobuf or http/json (grpc is not supported)' });
  }

  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  if (serviceName) settings.serviceName = serviceName;

  const resource = env.OTEL_RESOURCE_ATTRIBUTES?.trim();
  if (resource) {
    const parsed = parseKeyValueList(resource);
    if (typeof parsed === 'string') issues.push({ variable: 'OTEL_RESOURCE_ATTRIBUTES', message: parsed });
    else settings.resourceAttributes = parsed;
  }
  return { settings, issues };
}
