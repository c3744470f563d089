import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { ConfigIssue } from '../pipeline/pipeline-config.js';
import { ConsoleOutput, type ConsoleOutputConfig } from './console.js';
import { FLUENT_DEFAULTS, FluentOutput, validateFluentOutputConfig, type FluentOutputConfig } from './fluent.js';
import { OtlpHttpOutput } from './otlp-http.js';
import { SdkOtlpOutput } from './otlp-sdk.js';
import { validateOtlpOutputConfig, type OtlpOutputConfig } from './otlp-settings.js';
import type { Output } from './output.js';

/** Any output's configuration, told apart by `type`. */
export type OutputConfig = OtlpOutputConfig | FluentOutputConfig | ConsoleOutputConfig;

/** What outputs need besides their configuration. */
export interface OutputDeps {
  /** Collector-side rejections (OTLP partial success) are counted here. */
  metrics?: Metrics;
  /** Replaces process.stdout / process.stderr for the console output. */
  stream?: NodeJS.WritableStream;
  /**
   * The output's logger. Only `mode: sdk` logs by itself (its processor retries failures, so
   * they never reach the health tracker, which logs every other output's failures).
   */
  logger?: Logger;
}

/** A Fluent output config from partial options over `FLUENT_DEFAULTS`. */
export function resolveFluentOutputConfig(options: Partial<FluentOutputConfig> = {}): FluentOutputConfig {
  return {
    type: 'fluent',
    host: options.host ?? FLUENT_DEFAULTS.host,
    port: options.port ?? FLUENT_DEFAULTS.port,
    tag: options.tag ?? FLUENT_DEFAULTS.tag,
    ack: options.ack ?? FLUENT_DEFAULTS.ack,
    timeoutMs: options.timeoutMs ?? FLUENT_DEFAULTS.timeoutMs,
    eventMode: options.eventMode ?? FLUENT_DEFAULTS.eventMode,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.sharedKey !== undefined ? { sharedKey: options.sharedKey } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.clientHostname !== undefined ? { clientHostname: options.clientHostname } : {}),
    ...(options.reconnect !== undefined ? { reconnect: options.reconnect } : {}),
  };
}

/** Check one output's configuration; keys are named under `prefix` (e.g. `outputs[1]`). */
export function validateOutputConfig(config: OutputConfig, prefix = 'outputs[0]'): ConfigIssue[] {
  switch (config.type) {
    case 'otlp':
      return validateOtlpOutputConfig(config, prefix);
    case 'fluent':
      return validateFluentOutputConfig(config, prefix);
    case 'console':
      if (config.stream !== undefined && config.stream !== 'stdout' && config.stream !== 'stderr') {
        return [{ key: `${prefix}.stream`, message: 'must be stdout or stderr' }];
      }
      return [];
    default:
      return [{ key: `${prefix}.type`, message: `must be otlp, fluent or console (got ${JSON.stringify((config as { type?: unknown }).type)})` }];
  }
}

/**
 * Build an output. OTLP: `mode: fast` -> `OtlpHttpOutput`, `mode: sdk` -> `SdkOtlpOutput`.
 * Validate first; this reads TLS files and throws if they are missing.
 */
export function createOutput(config: OutputConfig, deps: OutputDeps = {}): Output {
  switch (config.type) {
    case 'otlp':
      return config.mode === 'sdk'
        ? new SdkOtlpOutput(config, deps.logger !== undefined ? { logger: deps.logger } : {})
        : new OtlpHttpOutput(config, { metrics: deps.metrics });
    case 'fluent':
      return new FluentOutput(config);
    case 'console':
      return new ConsoleOutput(config, { stream: deps.stream });
  }
}
