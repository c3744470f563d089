import type { InputConfig } from '../input/input-config.js';
import type { PipelineConfig } from '../pipeline/pipeline-config.js';
import type { ListenerSpec, PipelineSpec } from './service-config.js';

/** The input factory's config for one listener of the resolved service config. */
export function toInputConfig(l: ListenerSpec): InputConfig {
  const base = { host: l.host, port: l.port, maxFrameSize: l.maxFrameSize, drainTimeoutMs: l.drainTimeoutMs, ...(l.name !== undefined ? { name: l.name } : {}) };
  if (l.type === 'udp') return { type: 'udp', ...base, recvBufferSize: l.recvBufferSize, readerThread: l.readerThread };
  const connections = { maxConnections: l.maxConnections, maxPendingConnections: l.maxPendingConnections, idleTimeoutMs: l.idleTimeoutMs };
  if (l.type === 'relp') return { type: 'relp', ...base, ...connections };
  const stream = { ...base, framing: l.framing, ...connections };
  if (l.type === 'tcp') return { type: 'tcp', ...stream };
  const tls = l.tls!;
  return {
    type: 'tls',
    ...stream,
    certFile: tls.cert,
    keyFile: tls.key,
    ...(tls.ca !== undefined ? { caFile: tls.ca } : {}),
    requireClientCert: tls.requireClientCert,
    watchCertificates: tls.watch,
  };
}

/** The pipeline's config from the resolved service config (the rest keeps the pipeline defaults). */
export function toPipelineConfig(p: PipelineSpec): Partial<PipelineConfig> {
  return {
    maxRecords: p.maxRecords,
    maxBytes: p.maxBytes,
    batchSize: p.batchSize,
    batchMaxBytes: p.batchMaxBytes,
    lingerMs: p.lingerMs,
    retryInitialMs: p.retryInitialMs,
    retryMaxMs: p.retryMaxMs,
    shutdownDeadlineMs: p.shutdownDeadlineMs,
  };
}
