import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { createOutput, validateOutputConfig, resolveFluentOutputConfig } from '../../../src/output/create-output.js';
import { ConsoleOutput } from '../../../src/output/console.js';
import { FluentOutput } from '../../../src/output/fluent.js';
import { OtlpHttpOutput } from '../../../src/output/otlp-http.js';
import { SdkOtlpOutput } from '../../../src/output/otlp-sdk.js';
import { resolveOtlpSettings } from '../../../src/output/otlp-settings.js';
import { packageInfo } from '../../../src/output/package-info.js';

describe('resolveOtlpSettings', () => {
  it('uses the defaults and reports that no endpoint was configured', () => {
    const r = resolveOtlpSettings({}, {});
    expect(r.endpointConfigured).toBe(false);
    expect(r.endpointSource).toBe('default');
    expect(r.issues).toEqual([]);
    expect(r.config).toMatchObject({
      url: 'http://localhost:4318/v1/logs',
      protocol: 'protobuf',
      compression: 'none',
      timeoutMs: 10_000,
      mode: 'fast',
      headers: {},
    });
    expect(r.config.resource).toEqual({
      'service.name': 'iptables-otel',
      'service.version': packageInfo().version,
      'host.name': os.hostname(),
    });
    expect(packageInfo()).toEqual({ name: 'iptables-otel', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('honours the OTEL_* variables: base endpoint + /v1/logs, logs endpoint verbatim, decoded headers', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=ApiKey%20abc%3D%3D,x-a=1',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-a=2',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'fw-edge',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,deployment.environment.name=prod',
    };
    const r = resolveOtlpSettings({}, env);
    expect(r.endpointConfigured).toBe(true);
    expect(r.endpointSource).toBe('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(r.config.url).toBe('https://collector.example:4318/v1/logs');
    expect(r.config.headers).toEqual({ Authorization: 'ApiKey abc==', 'x-a': '2' });
    expect(r.config.compression).toBe('gzip');
    expect(r.config.timeoutMs).toBe(2500);
    expect(r.config.protocol).toBe('json');
    expect(r.config.resource['service.name']).toBe('fw-edge');
    expect(r.config.resource['deployment.environment.name']).toBe('prod');

    const v = resolveOtlpSettings({}, { ...env, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/custom/path' });
    expect(v.config.url).toBe('http://c:4318/custom/path');
    expect(v.endpointSource).toBe('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT');
  });

  it('lets explicit configuration win over the environment', () => {
    const env = { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://env:4318/v1/logs', OTEL_EXPORTER_OTLP_HEADERS: 'a=env,b=env', OTEL_SERVICE_NAME: 'env' };
    const r = resolveOtlpSettings(
      { endpoint: 'http://cfg:4318/', headers: { a: 'cfg' }, protocol: 'http/protobuf', serviceName: 'cfg', compression: 'none' },
      env,
    );
    expect(r.config.url).toBe('http://cfg:4318/v1/logs');
    expect(r.endpointSource).toBe('endpoint');
    expect(r.config.headers).toEqual({ a: 'cfg', b: 'env' });
    expect(r.config.resource['service.name']).toBe('cfg');
    expect(resolveOtlpSettings({ url: 'http://x/verbatim' }, env).config.url).toBe('http://x/verbatim');
  });

  it('names bad variables and keys', () => {
    const r = resolveOtlpSettings({ protocol: 'grpc', timeoutMs: -1 }, { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' });
    expect(r.issues.map((i) => i.key).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_COMPRESSION',
      'outputs.otlp.protocol',
      'outputs.otlp.timeoutMs',
    ]);
  });
});

describe('createOutput', () => {
  it('builds each kind of output from its config', async () => {
    const base = resolveOtlpSettings({ url: 'http://127.0.0.1:9/v1/logs' }, {}).config;
    const fast = createOutput(base);
    const sdk = createOutput({ ...base, mode: 'sdk' });
    const fluentCfg = resolveFluentOutputConfig({ port: 9, timeoutMs: 100 });
    const fluent = createOutput(fluentCfg);
    const con = createOutput({ type: 'console' });
    expect(fast).toBeInstanceOf(OtlpHttpOutput);
    expect(sdk).toBeInstanceOf(SdkOtlpOutput);
    expect(fluent).toBeInstanceOf(FluentOutput);
    expect(con).toBeInstanceOf(ConsoleOutput);
    expect([fast.name, sdk.name, fluent.name, con.name]).toEqual(['otlp', 'otlp', 'fluent', 'console']);
    expect(fluentCfg).toMatchObject({ host: '127.0.0.1', tag: 'iptables', ack: true, eventMode: 'PackedForward' });
    await Promise.all([fast, sdk, fluent, con].map((o) => o.shutdown()));
  });

  it('validates by type, naming the key', () => {
    expect(validateOutputConfig({ type: 'console', stream: 'stdlog' as 'stdout' }, 'outputs[2]')).toEqual([
      { key: 'outputs[2].stream', message: 'must be stdout or stderr' },
    ]);
    const base = resolveOtlpSettings({}, {}).config;
    expect(validateOutputConfig({ ...base, url: 'ftp://x' }, 'outputs[0]')[0]?.key).toBe('outputs[0].url');
  });
});
