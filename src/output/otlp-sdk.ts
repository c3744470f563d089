/**
 * The standard OpenTelemetry SDK path (`mode: sdk`), and helpers for library users who
 * bring their own `LoggerProvider`.
 *
 * Records are emitted through a `Logger` of an SDK `LoggerProvider` whose processor is
 * our `BackpressureLogRecordProcessor`, exporting with `OTLPLogExporter`
 * (exporter-logs-otlp-http, OTLP/JSON) or, for http/protobuf, the same export delegate
 * with the SDK's `ProtobufLogsSerializer` (which is what exporter-logs-otlp-proto does;
 * that package is not a dependency).
 *
 * The fast path encodes exactly what this path sends: a record without an event time gets
 * `time = observedTimestamp` on both, and every numeric attribute in the table is an int
 * (the SDK picks int vs double with `Number.isInteger`, so the table has no doubles).
 */
import type { Logger, LogRecord } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { CompressionAlgorithm, OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { LogsExporterMetricsHelper, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { FirewallLogRecord } from '../mapping/record.js';
import { ExportLog } from '../ops/export-log.js';
import type { Logger as ServiceLogger } from '../ops/logger.js';
import {
  BackpressureLogRecordProcessor,
  type BackpressureLogRecordProcessorOptions,
} from '../pipeline/backpressure-log-record-processor.js';
import { delegateConfiguration, describeOtlpFailure, otlpSecrets, tlsAgentOptions, type FailureContext } from './otlp-http.js';
import { completeResource, instrumentationScope, OTLP_DEFAULTS, type OtlpOutputConfig } from './otlp-settings.js';
import type { Output } from './output.js';

/** A standard api-logs `LogRecord` with the same content as `record`. */
export function toSdkLogRecord(record: FirewallLogRecord): LogRecord {
  const out: LogRecord = {
    timestamp: record.timestamp ?? record.observedTimestamp,
    observedTimestamp: record.observedTimestamp,
    body: record.body,
    attributes: record.attributes,
  };
  if (record.severityNumber) out.severityNumber = record.severityNumber;
  if (record.severityText) out.severityText = record.severityText;
  return out;
}

/** Emit `record` through any api-logs `Logger` (e.g. from the application's own `LoggerProvider`). */
export function emitToLogger(logger: Logger, record: FirewallLogRecord): void {
  logger.emit(toSdkLogRecord(record));
}

/** The SDK's OTLP/HTTP log exporter for `config` (JSON: `OTLPLogExporter`; protobuf: delegate + `ProtobufLogsSerializer`). */
export function createSdkLogExporter(config: OtlpOutputConfig): LogRecordExporter {
  if (config.protocol === 'json') {
    return new OTLPLogExporter({
      url: config.url,
      headers: { ...config.headers },
      compression: config.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
      timeoutMillis: config.timeoutMs,
      concurrencyLimit: config.concurrency ?? OTLP_DEFAULTS.concurrency,
      httpAgentOptions: tlsAgentOptions(config.tls),
    });
  }
  return new OTLPExporterBase<ReadableLogRecord[]>(
    createOtlpHttpExportDelegate(
      delegateConfiguration(config, 'application/x-protobuf'),
      ProtobufLogsSerializer,
      'otlp_http_log_exporter',
      LogsExporterMetricsHelper,
      undefined,
    ),
  );
}

/** Options of the SDK-path output beyond its OTLP configuration. */
export interface SdkOtlpOutputOptions {
  /** Overrides for the processor (queue sizes, batch size, linger, retry). */
  processor?: Omit<BackpressureLogRecordProcessorOptions, 'exporter'>;
  /** An exporter to use instead of the OTLP/HTTP one (tests, custom transports). */
  exporter?: LogRecordExporter;
  /**
   * Where this output logs its export failures and recoveries (rate-limited, src/ops/export-log.ts).
   * Needed because the processor retries failures itself: `export()` only waits, so they never
   * reach the pipeline or the health tracker. Without it, they are only counted.
   */
  logger?: ServiceLogger;
}

/**
 * Passes every export through and tells `log` how it went, with the failure in the text of
 * export-failure.ts (endpoint without credentials, status or code, response body masked).
 */
class LoggedLogExporter implements LogRecordExporter {
  constructor(
    private readonly inner: LogRecordExporter,
    private readonly name: string,
    private readonly log: ExportLog,
    private readonly context: FailureContext,
  ) {}

  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.inner.export(records, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.log.succeeded(this.name);
      else this.log.failed(this.name, describeOtlpFailure(result.error, { ...this.context, records: records.length }).error);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * OTLP output through the OpenTelemetry SDK (`mode: sdk`): LoggerProvider +
 * BackpressureLogRecordProcessor + the SDK's OTLP/HTTP exporter. `export()` emits the
 * batch and resolves once the processor has exported all of it; the processor retries
 * failed exports itself, so a down collector keeps the pipeline's batch in flight and
 * the pipeline's queue fills (backpressure) rather than losing records.
 */
export class SdkOtlpOutput implements Output {
  readonly name: string;
  readonly provider: LoggerProvider;
  readonly processor: BackpressureLogRecordProcessor;
  private readonly logger: Logger;

  constructor(config: OtlpOutputConfig, options: SdkOtlpOutputOptions = {}) {
    this.name = config.name ?? OTLP_DEFAULTS.name;
    let exporter = options.exporter ?? createSdkLogExporter(config);
    if (options.logger !== undefined) {
      // The processor retries every failure (413 and 400 included): the text says so.
      const context: FailureContext = { url: config.url, secrets: otlpSecrets(config), timeoutMs: config.timeoutMs, handling: () => 'retry' };
      exporter = new LoggedLogExporter(exporter, this.name, new ExportLog(options.logger), context);
    }
    // The pipeline bounds what is in here (batchSize × in-flight), so the processor's own
    // caps only have to be generous; its private Metrics avoid double-counting `exported`.
    this.processor = new BackpressureLogRecordProcessor({
      maxQueueSize: 1_000_000,
      maxQueueBytes: 2 ** 31,
      scheduledDelayMillis: 5,
      name: this.name,
      ...options.processor,
      exporter,
    });
    this.provider = new LoggerProvider({
      resource: resourceFromAttributes(completeResource(config.resource)),
      processors: [this.processor],
      logRecordLimits: { attributeCountLimit: 1024 },
    });
    const scope = instrumentationScope();
    this.logger = this.provider.getLogger(scope.name, scope.version);
  }

  /** Emit the batch and wait until the processor has exported it. */
  async export(records: FirewallLogRecord[]): Promise<void> {
    for (const r of records) emitToLogger(this.logger, r);
    await this.processor.whenExported(this.processor.acceptedCount);
  }

  /** Export what is left and shut the provider down. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
