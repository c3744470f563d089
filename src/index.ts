/**
 * iptables-otel as a library: parse netfilter LOG lines into OpenTelemetry log records,
 * run the pieces of the service (listeners, queue, outputs) yourself, or start the whole
 * service from a configuration.
 */

// Parsing: frame -> record
export { parseFrame, validateParseOptions, ParseOptionsError, DEFAULT_PARSE_OPTIONS, type ParseOptions } from './mapping/parse-frame.js';
export type { FirewallLogRecord, ReceiveContext, AttributeValue, RecordAttributes } from './mapping/record.js';
export { ATTRIBUTES, ATTRIBUTE_BY_NAME, type AttributeSpec, type AttributeType, type AttributeOrigin } from './mapping/attribute-table.js';
export { decodeSyslog, createSyslogDecoder } from './syslog/decode.js';
export type { SyslogMessage, SyslogFormat, SyslogDecodeOptions } from './syslog/syslog-message.js';

// Framing and listeners
export { createFramer } from './framing/create-framer.js';
export { FRAMING_MODES, DEFAULT_MAX_FRAME_SIZE, type Framer, type FramerOptions, type FramingMode, type FramingError } from './framing/framer.js';
export { createInput, startInputs } from './input/create-input.js';
export type { Input, FrameDecoder } from './input/input.js';
export { validateInputConfig, InputConfigError, type InputConfig, type UdpInputConfig, type TcpInputConfig, type TlsInputConfig } from './input/input-config.js';
export { parseListenUrl, ListenUrlError } from './input/listen-url.js';
export { SOURCE_INPUT_KINDS, sourceInputKind } from './input/source-kinds.js';
export type { SourceInputKind, SourceInputDeps, SourceInputConfigBase } from './input/source-input.js';
export { AckTracker } from './input/ack-tracker.js';
export { AckRouter } from './input/ack-router.js';
export { CheckpointStore, CheckpointError } from './input/checkpoint-store.js';
export { KmsgInput, type KmsgCheckpoint } from './input/kmsg/kmsg-input.js';
export { validateKmsgInputConfig, type KmsgInputConfig } from './input/kmsg/kmsg-config.js';
export { parseKmsgRecord, decodeKmsgEscapes, type KmsgRecord } from './input/kmsg/kmsg-record.js';

// Queue and SDK processor
export type { RecordSink } from './pipeline/record-sink.js';
export { createPipeline, Pipeline, metricsObserver, type PipelineDeps, type PipelineShutdownResult } from './pipeline/pipeline.js';
export { DEFAULT_PIPELINE_CONFIG, validatePipelineConfig, type PipelineConfig } from './pipeline/pipeline-config.js';
export { BackpressureLogRecordProcessor, type BackpressureLogRecordProcessorOptions } from './pipeline/backpressure-log-record-processor.js';

// Outputs
export type { Output } from './output/output.js';
export { createOutput } from './output/create-output.js';
export { OtlpHttpOutput } from './output/otlp-http.js';
export { resolveOtlpSettings, type OtlpOutputConfig, type OtlpOutputOptions } from './output/otlp-settings.js';
export { toSdkLogRecord, emitToLogger, createSdkLogExporter, SdkOtlpOutput } from './output/otlp-sdk.js';
export { FluentOutput, type FluentOutputConfig } from './output/fluent.js';
export { logRecordToOtlpJson } from './output/otlp-json.js';

// Configuration
export { loadConfig, ConfigError, formatConfigIssue, type ConfigIssue, type ConfigOverrides, type LoadConfigOptions } from './config/load-config.js';
export { configSchema } from './config/schema.js';
export type {
  ServiceConfig,
  ListenerSpec,
  SourceInputSpec,
  ParserSpec,
  PipelineSpec,
  OutputSpec,
  OtlpOutputSpec,
  FluentOutputSpec,
  ConsoleOutputSpec,
  OpsSpec,
} from './config/service-config.js';
export { readOtelEnv, type OtelEnvSettings } from './config/otel-env.js';

// Operations
export { Metrics } from './ops/metrics.js';
export { createLogger, nullLogger, type Logger, type LogLevel, type RootLogger } from './ops/logger.js';
export { HealthTracker, type HealthReport, type HealthPolicy } from './ops/health.js';
export { startOpsServer, type OpsServer } from './ops/ops-server.js';

// The service
export { startService, type Service, type ServiceOptions, type ServiceComponents, type StopResult, type ReloadResult } from './service.js';
