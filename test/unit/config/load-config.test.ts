import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { parseDuration, parseSize } from '../../../src/config/units.js';
import { readOtelEnv } from '../../../src/config/otel-env.js';
import { errorsOf } from '../../helpers/config-errors.js';

describe('loadConfig defaults', () => {
  it('with nothing configured listens on UDP and TCP 127.0.0.1:9001 and writes to the console', () => {
    const c = loadConfig({ env: {} });
    expect(c.inputs.map((i) => `${i.type}://${i.host}:${i.port}`)).toEqual(['udp://127.0.0.1:9001', 'tcp://127.0.0.1:9001']);
    expect(c.outputs).toEqual([{ type: 'console', name: 'console', stream: 'stdout' }]);
    expect(c.notices.join(' ')).toMatch(/console/);
    expect(c.ops).toMatchObject({ enabled: true, host: '127.0.0.1', port: 9002 });
    expect(c.pipeline).toEqual({ maxRecords: 50000, maxBytes: 16 * 1024 * 1024, batchSize: 1024, batchMaxBytes: 4 * 1024 * 1024, lingerMs: 20, retryInitialMs: 500, retryMaxMs: 30000, shutdownDeadlineMs: 10000 });
    expect(c.logging.level).toBe('info');
    expect(c.parser).toEqual({ timezone: 'UTC', preserveOriginal: false, dataset: 'iptables.log', namespace: 'default' });
  });

  it('uses OTLP when only OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
    const c = loadConfig({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=ApiKey%20abc,x-a=b',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_SERVICE_NAME: 'fw1',
        OTEL_RESOURCE_ATTRIBUTES: 'host.name=fw1,deployment.environment=prod,service.name=ignored',
      },
    });
    expect(c.notices).toEqual([]);
    expect(c.outputs).toEqual([
      {
        type: 'otlp',
        name: 'otlp',
        url: 'http://collector:4318/v1/logs',
        headers: { Authorization: 'ApiKey abc', 'x-a': 'b' },
        compression: 'gzip',
        timeoutMs: 2500,
        protocol: 'json',
        mode: 'fast',
        resource: { 'service.name': 'fw1', 'host.name': 'fw1', 'deployment.environment': 'prod' },
      },
    ]);
  });
});

describe('precedence: CLI > file > OTEL_* > defaults', () => {
  const env = {
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://env-logs:4318/custom',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env-base:4318',
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    OTEL_EXPORTER_OTLP_HEADERS: 'a=env,b=env',
  };
  it('env: the logs-specific endpoint wins and is used verbatim', () => {
    const c = loadConfig({ env, text: 'outputs:\n  - otlp:\n' });
    expect(c.outputs[0]).toMatchObject({ type: 'otlp', url: 'http://env-logs:4318/custom', timeoutMs: 1000 });
  });
  it('file beats env, per key for headers', () => {
    const c = loadConfig({ env, text: 'outputs:\n  - otlp:\n      endpoint: https://file:4318/\n      timeout: 3s\n      headers: {b: file}\n' });
    expect(c.outputs[0]).toMatchObject({ url: 'https://file:4318/v1/logs', timeoutMs: 3000, headers: { a: 'env', b: 'file' } });
  });
  it('an endpoint that already ends in /v1/logs is not extended', () => {
    const c = loadConfig({ env: {}, text: 'outputs:\n  - otlp: {endpoint: "https://es.example:9200/_otlp/v1/logs"}\n' });
    expect(c.outputs[0]).toMatchObject({ url: 'https://es.example:9200/_otlp/v1/logs' });
  });
  it('CLI beats file', () => {
    const c = loadConfig({
      env,
      text: 'outputs:\n  - otlp: {endpoint: "http://file:4318"}\nlogging: {level: warn}\n',
      overrides: { otlpEndpoint: 'http://cli:4318', logLevel: 'debug', opsAddress: 'off' },
    });
    expect(c.outputs[0]).toMatchObject({ url: 'http://cli:4318/v1/logs' });
    expect(c.logging.level).toBe('debug');
    expect(c.ops.enabled).toBe(false);
  });
  it('--output replaces the file outputs and borrows the settings of a file output of the same kind', () => {
    const c = loadConfig({
      env: {},
      text: 'outputs:\n  - otlp: {endpoint: "http://file:4318"}\n  - fluent: {host: fluent.example, port: 24000}\n',
      overrides: { outputs: ['fluent', 'console'] },
    });
    expect(c.outputs).toEqual([
      { type: 'fluent', name: 'fluent', host: 'fluent.example', port: 24000, tag: 'iptables', ack: true },
      { type: 'console', name: 'console', stream: 'stdout' },
    ]);
  });
  it('--listen replaces the inputs; query keys are validated like the file', () => {
    const c = loadConfig({ env: {}, overrides: { listen: ['udp://0.0.0.0:514', 'tcp://[::1]:0?framing=lf&maxConnections=5'] } });
    expect(c.inputs).toMatchObject([
      { type: 'udp', host: '0.0.0.0', port: 514 },
      { type: 'tcp', host: '::1', port: 0, framing: 'lf', maxConnections: 5 },
    ]);
    expect(errorsOf(() => loadConfig({ env: {}, overrides: { listen: ['tcp://127.0.0.1:1?framing=xml', 'http://x'] } }))).toEqual([
      'command line: --listen tcp://127.0.0.1:1?framing=xml: tcp.framing: must be one of: auto, octet-counting, octet, lf, nul',
      'command line: --listen: invalid listen address "http://x": unknown transport "http", expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT or relp://HOST:PORT (IPv6 as [ADDR])',
    ]);
  });
  it('tls:// needs --tls-cert and --tls-key, and the files must be readable', () => {
    expect(errorsOf(() => loadConfig({ env: {}, overrides: { listen: ['tls://127.0.0.1:6514'] } }))).toEqual([
      'command line: --listen: tls://127.0.0.1:6514 needs --tls-cert and --tls-key',
    ]);
    expect(
      errorsOf(() => loadConfig({ env: {}, overrides: { listen: ['tls://127.0.0.1:6514'], tlsCert: '/nonexistent/c.pem', tlsKey: '/nonexistent/k.pem' } })),
    ).toEqual(['command line: --tls-cert: cannot read /nonexistent/c.pem: ENOENT', 'command line: --tls-key: cannot read /nonexistent/k.pem: ENOENT']);
  });
});

describe('errors name file, line and key path', () => {
  it('reports every problem with its line', () => {
    const text = [
      'inputs:', //1
      '  - tcp:', //2
      '      port: 70000', //3
      '  - udp: {host: 127.0.0.1, colour: red}', //4
      '  - ftp: {}', //5
      'pipeline:', //6
      '  batch: {linger: soon}', //7
      'outputs:', //8
      '  - otlp:', //9
      '      endpoint: not a url', //10
      '      compression: brotli', //11
      '  - otlp: {}', //12
      '    console: {}', //13
      'ops: {address: "localhost"}', //14
    ].join('\n');
    expect(errorsOf(() => loadConfig({ file: 'config.yaml', text, env: {} }))).toEqual([
      'config.yaml:3: inputs[0].tcp.port: must be <= 65535',
      'config.yaml:4: inputs[1].udp.colour: unknown key "colour"',
      'config.yaml:5: inputs[2].ftp: unknown key "ftp"',
      'config.yaml:7: pipeline.batch.linger: must be a duration: milliseconds, or a string such as 500ms, 10s, 5m, 1h',
      'config.yaml:10: outputs[0].otlp.endpoint: must be a URL (http:// or https://)',
      'config.yaml:11: outputs[0].otlp.compression: must be one of: none, gzip',
      'config.yaml:12: outputs[1]: must have exactly one key, the kind (otlp, fluent or console)',
      'config.yaml:14: ops.address: must be host:port (IPv6 in brackets) or off',
    ]);
  });
  it('reports YAML syntax errors and duplicate keys with a line', () => {
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: 'logging:\n  level: info\n  level: debug\n', env: {} }))[0]).toMatch(/^c\.yaml:3: YAML: /);
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: 'inputs: [\n', env: {} }))[0]).toMatch(/^c\.yaml:\d+: YAML: /);
  });
  it('reports a missing required key at its parent', () => {
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: 'inputs:\n  - tls:\n      port: 6514\n', env: {} }))).toEqual([
      'c.yaml:2: inputs[0].tls: missing required key "tls"',
    ]);
  });
  it('reports unreadable TLS files at their line', () => {
    const text = 'inputs:\n  - tls:\n      tls:\n        cert: /nonexistent/cert.pem\n        key: /nonexistent/key.pem\n';
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text, env: {} }))).toEqual([
      'c.yaml:4: inputs[0].tls.tls.cert: cannot read /nonexistent/cert.pem: ENOENT',
      'c.yaml:5: inputs[0].tls.tls.key: cannot read /nonexistent/key.pem: ENOENT',
    ]);
  });
  it('reports bad OTEL_* variables by name', () => {
    expect(errorsOf(() => loadConfig({ env: { OTEL_EXPORTER_OTLP_TIMEOUT: 'ten', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } }))).toEqual([
      'environment: OTEL_EXPORTER_OTLP_TIMEOUT: must be a positive integer (milliseconds)',
      'environment: OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf or http/json (grpc is not supported)',
    ]);
  });
  it('reports a missing file', () => {
    expect(errorsOf(() => loadConfig({ file: '/nonexistent/config.yaml', env: {} }))[0]).toMatch(/^\/nonexistent\/config\.yaml: cannot read the config file/);
  });
  it('applies the pipeline and input validators with lines', () => {
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: 'inputs:\n  - tcp: {maxFrameSize: 1GiB}\npipeline:\n  queue: {maxRecords: 10}\n  batch: {size: 20}\n', env: {} }))).toEqual([
      'c.yaml:2: inputs[0].tcp.maxFrameSize: must be an integer from 64 to 16777216, got 1073741824',
      'c.yaml:5: pipeline.batch.size: must be <= maxRecords (10)',
    ]);
  });
  it('pipeline.partialFrames: defaults, sizes and durations, and errors at their line', () => {
    expect(loadConfig({ env: {} }).partialFrames).toEqual({ maxBytes: 8 * 1024 * 1024, stallMs: 1000 });
    expect(loadConfig({ file: 'c.yaml', text: 'pipeline:\n  partialFrames: {maxBytes: 8MiB, stall: 250ms}\n', env: {} }).partialFrames).toEqual({ maxBytes: 8 * 1024 * 1024, stallMs: 250 });
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: 'pipeline:\n  partialFrames:\n    maxBytes: 1MiB\n    stall: 0\n', env: {} }))).toEqual([
      'c.yaml:4: pipeline.partialFrames.stall: must be an integer >= 1 (got 0)',
    ]);
  });
  it('applies the parser validator with lines', () => {
    const text = 'parser:\n  timezone: Mars/Olympus\n';
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text, env: {} }))[0]).toMatch(/^c\.yaml:2: parser\.timezone: /);
    const rules = 'parser:\n  prefixRules:\n    - {match: "x", action: drop}\n    - {regex: "(", action: drop}\n';
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: rules, env: {} }))[0]).toMatch(/^c\.yaml:4: parser\.prefixRules\[1\]\.regex: invalid regular expression/);
  });
  it('rejects two outputs with one name', () => {
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: 'outputs:\n  - otlp: {endpoint: "http://a:4318"}\n  - otlp: {endpoint: "http://b:4318"}\n', env: {} }))).toEqual([
      'c.yaml:3: outputs[1]: two outputs are named "otlp"; give one a different name: key (metric labels must be unique)',
    ]);
  });
  it('rejects duplicate listeners', () => {
    expect(errorsOf(() => loadConfig({ file: 'c.yaml', text: 'inputs:\n  - tcp: {port: 9100}\n  - tcp: {port: 9100}\n', env: {} }))).toEqual([
      'c.yaml:3: inputs[1]: tcp 127.0.0.1:9100 is already used by another listener',
    ]);
  });
});

describe('units and env parsing', () => {
  it('parses durations and sizes', () => {
    expect([parseDuration(5), parseDuration('500ms'), parseDuration('1.5s'), parseDuration('2m'), parseDuration('1h'), parseDuration('x')]).toEqual([
      5, 500, 1500, 120000, 3600000, undefined,
    ]);
    expect([parseSize(10), parseSize('64KiB'), parseSize('1MB'), parseSize('2M'), parseSize('1 GiB')]).toEqual([10, 65536, 1e6, 2097152, 1024 ** 3]);
  });
  it('ignores empty OTEL_* values', () => {
    expect(readOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ', OTEL_SERVICE_NAME: '' })).toEqual({ settings: {}, issues: [] });
  });
});
