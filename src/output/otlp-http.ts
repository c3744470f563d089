/**
 * OTLP/HTTP output, fast path: our encoders (protobuf: otlp-protobuf.ts, JSON:
 * otlp-json-request.ts) plugged into the HTTP export delegate of
 * @opentelemetry/otlp-exporter-base, so we keep its transport: retries on
 * 429/502/503/504 honouring Retry-After (5 attempts, within `timeoutMs`), request
 * timeouts, gzip, headers, keep-alive agent, concurrency limit. What happens after each
 * other status is in otlp-http-status.ts; a 413 splits the batch (split-on-too-large.ts).
 * Failures are described by `describeOtlpFailure()` in the one-line form of export-failure.ts,
 * without credentials, for the export log and /healthz.
 *
 * Why this fits without wrapping records: `createOtlpHttpExportDelegate<Internal, Response>`
 * is generic in what it exports; only the serializer looks at `Internal`. We use
 * `Internal = FirewallLogRecord[]` with our own `ISerializer`, so no `ReadableLogRecord`
 * is ever built on this path.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPExporterError, type IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import { createOtlpHttpExportDelegate, httpAgentFactoryFromOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  JsonLogsSerializer,
  ProtobufLogsSerializer,
  type IExportLogsServiceResponse,
  type IExporterMetricsHelper,
  type ISerializer,
} from '@opentelemetry/otlp-transformer';
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import type { FirewallLogRecord } from '../mapping/record.js';
import type { Metrics } from '../ops/metrics.js';
import { endpointForLog, secretHeaderValues } from '../ops/redact.js';
import { PermanentExportError } from './export-error.js';
import { formatExportFailure, NOT_RETRIED, RETRYING } from './export-failure.js';
import { otlpStatusHandling, type StatusHandling } from './otlp-http-status.js';
import { responseExcerpt } from './response-body.js';
import { SplittingSender, type PartFailure } from './split-on-too-large.js';
import { OtlpJsonRequestEncoder } from './otlp-json-request.js';
import { OtlpProtobufEncoder, type EncodedRequest } from './otlp-protobuf.js';
import { EncodedLogRecord } from './otlp-direct.js';
import { completeResource, instrumentationScope, OTLP_DEFAULTS, type OtlpOutputConfig, type OtlpTlsOptions } from './otlp-settings.js';
import type { Output } from './output.js';
import { packageInfo } from './package-info.js';

/** What the OTLP outputs need besides their configuration. */
export interface OtlpOutputDeps {
  /** Where collector-side rejections (partial success) are counted. */
  metrics?: Metrics;
}

/** What the delegate exports: records, or records already encoded by `OtlpDirectEncoder` (protobuf only). */
type Batch = FirewallLogRecord[] | EncodedLogRecord[];

const METRICS_HELPER: IExporterMetricsHelper<Batch> = {
  name: 'log',
  countItems: (records) => records.length,
};

/** The delegate's configuration type (`OtlpNodeHttpConfiguration`, not exported by name). */
export type DelegateConfiguration = Parameters<typeof createOtlpHttpExportDelegate>[0];

function pem(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v.includes('-----BEGIN') ? v : readFileSync(v, 'utf8');
}

/** https.Agent options from our TLS settings (files read once, at start). */
export function tlsAgentOptions(tls: OtlpTlsOptions | undefined): https.AgentOptions {
  const o: https.AgentOptions = { keepAlive: true };
  if (!tls) return o;
  const ca = pem(tls.ca);
  const cert = pem(tls.cert);
  const key = pem(tls.key);
  if (ca !== undefined) o.ca = ca;
  if (cert !== undefined) o.cert = cert;
  if (key !== undefined) o.key = key;
  if (tls.rejectUnauthorized !== undefined) o.rejectUnauthorized = tls.rejectUnauthorized;
  if (tls.servername !== undefined) o.servername = tls.servername;
  return o;
}

/**
 * The delegate's settings for `config`. The transport does not add Content-Type, and
 * mutates the headers object it gets (User-Agent), hence a fresh object per request.
 */
export function delegateConfiguration(config: OtlpOutputConfig, contentType: string): DelegateConfiguration {
  const headers = { ...config.headers, 'Content-Type': contentType };
  return {
    url: config.url,
    headers: async () => ({ ...headers }),
    compression: config.compression,
    timeoutMillis: config.timeoutMs,
    concurrencyLimit: config.concurrency ?? OTLP_DEFAULTS.concurrency,
    agentFactory: httpAgentFactoryFromOptions(tlsAgentOptions(config.tls)),
    userAgent: `${packageInfo().name}/${packageInfo().version}`,
  };
}

/** What `describeOtlpFailure()` needs to know about the output and the request. */
export interface FailureContext {
  /** The configured URL (credentials and query are stripped before it is shown). */
  url: string;
  /** Values that must not appear in the text (header values, URL password). */
  secrets?: readonly string[];
  /** The request timeout, for the text of a timeout. */
  timeoutMs?: number;
  /** Bytes of the refused request. */
  requestBytes?: number;
  /** Records in the refused request. */
  records?: number;
  /**
   * What follows a status (default `otlpStatusHandling`). The SDK path passes `() => 'retry'`:
   * its processor retries every failure, so that is what the text must say.
   */
  handling?: (status: number) => StatusHandling;
}

/** Error messages of the delegate and its transport that have no code of their own. */
const RETRYABLE_STATUS_EXHAUSTED = 'Export failed with retryable status';
const TIMED_OUT = 'Request timed out';

/**
 * The delegate's failure as a `PartFailure`: the error the pipeline gets (retryable, or a
 * `PermanentExportError` after HTTP 400/422, see otlp-http-status.ts), with the text of
 * export-failure.ts: status or code, endpoint without credentials, retry state, and the
 * response body truncated to 512 bytes with the credentials we sent masked.
 */
export function describeOtlpFailure(error: Error | undefined, ctx: FailureContext): PartFailure {
  const endpoint = endpointForLog(ctx.url);
  const secrets = ctx.secrets ?? [];
  let cause: string;
  let response: string | undefined;
  let handling: StatusHandling = 'retry';
  if (error instanceof OTLPExporterError && error.code !== undefined) {
    handling = (ctx.handling ?? otlpStatusHandling)(error.code);
    cause = `HTTP ${error.code}${error.message ? ` ${error.message}` : ''}`;
    response = responseExcerpt(error.data, secrets);
  } else if (error?.message === RETRYABLE_STATUS_EXHAUSTED) {
    // The transport does not keep the status of a retryable answer, only that it was one.
    cause = 'HTTP 429/502/503/504 (busy or unavailable, still after the exporter\'s own retries)';
  } else if (error?.message === TIMED_OUT) {
    cause = `TIMEOUT (no response within ${ctx.timeoutMs ?? '?'} ms)`;
  } else if (error !== undefined) {
    const code = (error as { code?: unknown }).code;
    const detail = maskSecretText(error.message, secrets);
    cause = typeof code === 'string' && code !== '' ? `${code}${detail && detail !== code ? ` (${detail})` : ''}` : `ERROR (${detail || error.name})`;
  } else {
    cause = 'ERROR (export failed)';
  }
  const parts = { cause, endpoint, ...(response !== undefined ? { response } : {}) };
  const size = ctx.requestBytes;
  if (handling === 'reject') {
    const what = ctx.records !== undefined ? `batch of ${ctx.records} record${ctx.records === 1 ? '' : 's'}` : 'batch';
    const text = formatExportFailure({ ...parts, retry: `${NOT_RETRIED}, ${what} dropped (export_rejected)` });
    return { tooLarge: false, retryable: false, error: new PermanentExportError(text, { cause: error }), parts, ...(size !== undefined ? { requestBytes: size } : {}) };
  }
  const retryable = new Error(formatExportFailure({ ...parts, retry: RETRYING }), { cause: error });
  return { tooLarge: handling === 'split', retryable: true, error: retryable, parts, ...(size !== undefined ? { requestBytes: size } : {}) };
}

/** An error message of our own transport, cleaned like a response body (it may quote a header). */
function maskSecretText(text: string, secrets: readonly string[]): string {
  return responseExcerpt(text, secrets, 1024) ?? '';
}

/**
 * Our request serializer. Requests are encoded into buffers on loan from the encoder
 * (no copy per request); the output takes the loan right after `delegate.export()` has
 * serialised (synchronously) and returns it when the export has finished, retries
 * included. Responses are parsed with the SDK's own deserializers; a partial success
 * (records the collector rejected) is counted in `dropped{reason="rejected_by_collector"}`
 * because the delegate itself only logs it.
 */
export class FastLogsSerializer implements ISerializer<Batch, IExportLogsServiceResponse> {
  private readonly encoder: OtlpProtobufEncoder | OtlpJsonRequestEncoder;
  private readonly base: ISerializer<never, IExportLogsServiceResponse>;
  private lastLease: EncodedRequest | undefined;

  constructor(
    config: OtlpOutputConfig,
    private readonly metrics?: Metrics,
  ) {
    const resource = completeResource(config.resource);
    const scope = instrumentationScope();
    // Same type rule as logRecordToOtlpJson and the SDK (int when Number.isInteger), so the
    // two protocols and the two paths agree; `doubleKeys` exists should the table's types win later.
    this.encoder =
      config.protocol === 'json' ? new OtlpJsonRequestEncoder(resource, scope) : new OtlpProtobufEncoder(resource, scope);
    this.base = config.protocol === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  }

  /** Encode a batch (called by the delegate). */
  serializeRequest(records: Batch): Uint8Array | undefined {
    if (records.length === 0) return undefined;
    this.lastLease?.release();
    if (records[0] instanceof EncodedLogRecord) {
      if (!(this.encoder instanceof OtlpProtobufEncoder)) throw new Error('pre-encoded records need the protobuf protocol');
      this.lastLease = this.encoder.encodeEncodedLeased(records as EncodedLogRecord[]);
    } else {
      this.lastLease = this.encoder.encodeLeased(records as FirewallLogRecord[]);
    }
    return this.lastLease.bytes;
  }

  /** The loan of the request just serialised, if any; the caller releases it when the export is over. */
  takeLease(): EncodedRequest | undefined {
    const l = this.lastLease;
    this.lastLease = undefined;
    return l;
  }

  /** Parse the collector's answer and count partial-success rejections. */
  deserializeResponse(data: Uint8Array): IExportLogsServiceResponse {
    const res = this.base.deserializeResponse(data);
    const rejected = Number(res.partialSuccess?.rejectedLogRecords ?? 0);
    if (rejected > 0) this.metrics?.dropped.inc({ reason: 'rejected_by_collector' }, rejected);
    return res;
  }
}

/** The credentials an OTLP output sends: header values and the URL's userinfo (also as the Basic token Node derives from it). */
export function otlpSecrets(config: Pick<OtlpOutputConfig, 'url' | 'headers'>): string[] {
  const secrets = secretHeaderValues(config.headers);
  try {
    const u = new URL(config.url);
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    if (password !== '') secrets.push(password, u.password, Buffer.from(`${user}:${password}`).toString('base64'));
    if (user !== '') secrets.push(user);
    for (const v of u.searchParams.values()) if (v !== '') secrets.push(v);
  } catch {
    // validateOtlpOutputConfig reports a bad URL; nothing to add here.
  }
  return secrets;
}

/** OTLP/HTTP output on the fast path (`mode: fast`). */
export class OtlpHttpOutput implements Output {
  readonly name: string;
  readonly config: OtlpOutputConfig;
  private readonly delegate: IOtlpExportDelegate<Batch>;
  private readonly serializer: FastLogsSerializer;
  private readonly failureContext: FailureContext;
  private readonly records: SplittingSender<FirewallLogRecord>;
  private readonly encoded: SplittingSender<EncodedLogRecord>;

  constructor(config: OtlpOutputConfig, deps: OtlpOutputDeps = {}) {
    this.config = config;
    this.name = config.name ?? OTLP_DEFAULTS.name;
    const contentType = config.protocol === 'json' ? 'application/json' : 'application/x-protobuf';
    this.delegate = createOtlpHttpExportDelegate(
      delegateConfiguration(config, contentType),
      (this.serializer = new FastLogsSerializer(config, deps.metrics)),
      'otlp_http_log_exporter',
      METRICS_HELPER,
      undefined,
    );
    this.failureContext = { url: config.url, secrets: otlpSecrets(config), timeoutMs: config.timeoutMs };
    this.records = new SplittingSender((part) => this.sendOnce(part));
    this.encoded = new SplittingSender((part) => this.sendOnce(part));
  }

  /**
   * Send one batch; resolves on HTTP 2xx (after the delegate's own retries), rejects otherwise.
   * On HTTP 413 the batch is split (see split-on-too-large.ts): a record refused even alone is
   * dropped, and the export rejects with a `PartialExportError` once the rest is delivered.
   */
  export(records: FirewallLogRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.records.deliver(records);
  }

  /**
   * Send records already encoded by `OtlpDirectEncoder` (the threaded pipeline's direct path),
   * with the same transport, retries, splitting and outcome as `export`. Protobuf only.
   */
  exportEncoded(records: EncodedLogRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.encoded.deliver(records);
  }

  /** True when `exportEncoded` can be used (protocol protobuf). */
  get acceptsEncoded(): boolean {
    return this.config.protocol === 'protobuf';
  }

  /** One request for `records`; resolves undefined on success, or what went wrong. */
  private sendOnce(records: Batch): Promise<PartFailure | undefined> {
    return new Promise((resolve) => {
      let lease: EncodedRequest | undefined;
      let requestBytes: number | undefined;
      let finished = false;
      this.delegate.export(records, (result: ExportResult) => {
        finished = true;
        requestBytes ??= lease?.bytes.length;
        lease?.release();
        if (result.code === ExportResultCode.SUCCESS) resolve(undefined);
        else resolve(describeOtlpFailure(result.error, { ...this.failureContext, records: records.length, ...(requestBytes !== undefined ? { requestBytes } : {}) }));
      });
      // delegate.export serialises synchronously; the bytes are ours again once the callback ran.
      lease = this.serializer.takeLease();
      requestBytes = lease?.bytes.length;
      if (finished) lease?.release();
    });
  }

  /** Wait for requests in flight, then release the transport. */
  shutdown(): Promise<void> {
    return this.delegate.shutdown();
  }
}
