import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import { TLS_INPUT_DEFAULTS, type TlsInputConfig } from '../../../src/input/input-config.js';
import { createTlsInput } from '../../../src/input/tls-input.js';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { makeTlsCerts, type TlsCerts } from '../../helpers/tls-certs.js';
import { CaptureSink, metricValue, textDecoder, waitFor } from './capture-sink.js';
import { captureLogger, cleanups, numberedLines, runCleanups } from './stream-harness.js';

const req = requirement(hasCommand('openssl'), 'the openssl CLI is needed to make test certificates');

describe.skipIf(!shouldRun(req))('TlsInput: client certificate failures, connection limit, drain', () => {
  let certs: TlsCerts;
  let other: TlsCerts;
  beforeAll(() => {
    assertRequirement(req);
    certs = makeTlsCerts();
    other = makeTlsCerts();
  });
  afterAll(() => {
    certs?.cleanup();
    other?.cleanup();
  });
  afterEach(runCleanups);

  async function startTls(over: Partial<TlsInputConfig> = {}) {
    const sink = new CaptureSink();
    const metrics = new Metrics();
    const { logs, logger } = captureLogger();
    const input = createTlsInput(
      { type: 'tls', ...TLS_INPUT_DEFAULTS, port: 0, name: 'tls-test', certFile: certs.certFile, keyFile: certs.keyFile, watchCertificates: false, ...over },
      { decode: textDecoder, sink, metrics, logger },
    );
    await input.start();
    cleanups.push(() => input.stop());
    return { input, sink, metrics, logs, port: input.address()!.port };
  }

  function connect(port: number, opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...opts }, () => resolve(s));
      s.on('error', reject);
      cleanups.push(() => s.destroy());
    });
  }

  /** Connect with `opts` and wait until the server closes the connection. */
  function rejected(port: number, opts: tls.ConnectionOptions): Promise<number | undefined> {
    return new Promise((resolve) => {
      const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...opts }, () => s.write('<4>should not arrive\n'));
      let localPort: number | undefined;
      s.on('connect', () => (localPort = s.localPort));
      cleanups.push(() => s.destroy());
      s.on('error', () => {});
      s.on('close', () => resolve(localPort));
    });
  }

  it('logs a client whose certificate fails verification with its peer and the reason, and counts it', async () => {
    const { sink, metrics, logs, port } = await startTls({ caFile: certs.caFile, requireClientCert: true });
    const wrongCa = await rejected(port, { cert: other.clientCert, key: other.clientKey });
    const none = await rejected(port, {});
    await waitFor(() => logs.filter((l) => l.msg === 'TLS client certificate rejected').length === 2, '2 rejections logged');
    const [first, second] = logs.filter((l) => l.msg === 'TLS client certificate rejected');
    expect(first!.fields).toMatchObject({ input: 'tls-test', peer: '127.0.0.1', peerPort: wrongCa, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(second!.fields).toMatchObject({ input: 'tls-test', peer: '127.0.0.1', peerPort: none, error: 'no client certificate' });
    expect(await metricValue(metrics, 'iptables_otel_connections_closed_total', { input: 'tls-test', reason: 'tls_handshake' })).toBe(2);
    expect(sink.records).toEqual([]);
    const ok = await connect(port, { cert: certs.clientCert, key: certs.clientKey });
    ok.write('<4>with a good certificate\n');
    await waitFor(() => sink.records.length === 1, 'mTLS record');
  });

  it('rate-limits the rejection log but counts every rejection', async () => {
    const { metrics, logs, port } = await startTls({ caFile: certs.caFile, requireClientCert: true });
    for (let i = 0; i < 8; i++) await rejected(port, { cert: other.clientCert, key: other.clientKey });
    await waitFor(() => logs.filter((l) => l.msg === 'TLS client certificate rejected').length >= 5, 'logs');
    expect(logs.filter((l) => l.msg === 'TLS client certificate rejected').length).toBe(5);
    expect(await metricValue(metrics, 'iptables_otel_connections_closed_total', { reason: 'tls_handshake' })).toBe(8);
  });

  it('a TLS connection above maxConnections waits and is read once a slot frees', async () => {
    const { input, sink, port } = await startTls({ maxConnections: 1 });
    const holder = await connect(port);
    await waitFor(() => input.connectionCount === 1, 'holder read');
    const extra = await connect(port);
    extra.write(numberedLines('t', 500));
    await waitFor(() => input.waitingCount === 1, 'waiting');
    expect(sink.records.length).toBe(0);
    holder.destroy();
    await waitFor(() => sink.records.length === 500, '500 lines');
  });

  it('stop() drains a TLS connection: lines written before stop arrive, the last one without LF', async () => {
    const { input, sink, port } = await startTls();
    const s = await connect(port);
    s.on('error', () => {});
    await new Promise<void>((r) => s.write(numberedLines('d', 20_000) + '<4>tls last', () => r()));
    await input.stop();
    expect(sink.records.length).toBe(20_001);
    expect(sink.bodies.at(-1)).toBe('<4>tls last');
  });
});
