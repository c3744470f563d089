import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import { TLS_INPUT_DEFAULTS, type TlsInputConfig } from '../../../src/input/input-config.js';
import { createTlsInput } from '../../../src/input/tls-input.js';
import { hasCommand, requirement, shouldRun, assertRequirement } from '../../helpers/requirements.js';
import { makeTlsCerts, type TlsCerts } from '../../helpers/tls-certs.js';
import { CaptureSink, metricValue, textDecoder, waitFor, waitForAsync } from './capture-sink.js';

const req = requirement(hasCommand('openssl'), 'the openssl CLI is needed to make test certificates');

describe.skipIf(!shouldRun(req))('TlsInput', () => {
  let certs: TlsCerts;
  let other: TlsCerts;
  const cleanups: Array<() => unknown> = [];
  beforeAll(() => {
    assertRequirement(req);
    certs = makeTlsCerts();
    other = makeTlsCerts();
  });
  afterAll(() => {
    certs?.cleanup();
    other?.cleanup();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function startTls(over: Partial<TlsInputConfig> = {}) {
    const sink = new CaptureSink();
    const metrics = new Metrics();
    const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
    const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => void logs.push({ level, msg, ...(fields ? { fields } : {}) });
    const input = createTlsInput(
      { type: 'tls', ...TLS_INPUT_DEFAULTS, port: 0, name: 'tls-test', certFile: certs.certFile, keyFile: certs.keyFile, ...over },
      { decode: textDecoder, sink, metrics, logger: { info: log('info'), warn: log('warn'), error: log('error') } },
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

  it('receives octet-counted and LF frames over TLS', async () => {
    const { sink, port } = await startTls();
    const s = await connect(port);
    const m = '<12>1 2026-11-26T14:20:06+00:00 vm kernel - - - via TLS\n';
    s.write(`${Buffer.byteLength(m)} ${m}<12>Nov 26 14:20:06 vm kernel: gtls style\n`);
    await waitFor(() => sink.records.length === 2, '2 records');
    expect(sink.bodies).toEqual([m, '<12>Nov 26 14:20:06 vm kernel: gtls style']);
    expect(sink.records[0]!.ctx).toMatchObject({ transport: 'tls', peerAddress: '127.0.0.1' });
  });

  it('requires a client certificate signed by the CA when requireClientCert is set', async () => {
    const { sink, port, metrics } = await startTls({ caFile: certs.caFile, requireClientCert: true });
    const ok = await connect(port, { cert: certs.clientCert, key: certs.clientKey });
    ok.write('<4>with client cert\n');
    await waitFor(() => sink.records.length === 1, 'mTLS record');
    // Without a certificate, and with one from another CA: the handshake fails (TLS 1.3 reports it after connect).
    for (const opts of [{}, { cert: other.clientCert, key: other.clientKey }]) {
      const failed = await new Promise<boolean>((resolve) => {
        const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...opts }, () => {
          s.write('<4>should not arrive\n');
        });
        cleanups.push(() => s.destroy());
        s.on('error', () => resolve(true));
        s.on('close', () => resolve(true));
        s.on('data', () => resolve(false));
      });
      expect(failed).toBe(true);
    }
    // Both handshakes failed on the receiver's side (counted), so nothing of theirs can still arrive.
    await waitForAsync(async () => (await metricValue(metrics, 'iptables_otel_connections_closed_total', { reason: 'tls_handshake' })) === 2, '2 failed handshakes counted');
    expect(sink.bodies).toEqual(['<4>with client cert']);
  });

  it('reloads the certificate when the files change, and keeps it when the new one is broken', async () => {
    // Private copies of the files, replaced by rename like certbot does.
    const dir = path.join(certs.dir, 'live');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    copyFileSync(certs.certFile, certFile);
    copyFileSync(certs.keyFile, keyFile);
    const { port, logs } = await startTls({ certFile, keyFile });
    const fingerprint = async (ca: Buffer): Promise<string> => {
      const s = await connect(port, { ca });
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      return fp;
    };
    const first = await fingerprint(certs.ca);

    // 1. Swap in the other CA's server certificate.
    writeFileSync(path.join(dir, 'cert.tmp'), other.cert);
    writeFileSync(path.join(dir, 'key.tmp'), other.key);
    renameSync(path.join(dir, 'key.tmp'), keyFile);
    renameSync(path.join(dir, 'cert.tmp'), certFile);
    await waitFor(() => logs.some((l) => l.msg === 'TLS certificate reloaded'), 'reload log', 5000);
    const second = await fingerprint(other.ca);
    expect(second).not.toBe(first);

    // 2. A broken certificate: logged as an error, the previous one stays in service.
    writeFileSync(certFile, '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n');
    await waitFor(() => logs.some((l) => l.level === 'error' && /reload failed/.test(l.msg)), 'error log', 5000);
    expect(await fingerprint(other.ca)).toBe(second);

    // 3. A key that does not match the certificate is refused too.
    writeFileSync(certFile, certs.cert);
    await waitFor(() => logs.filter((l) => l.level === 'error').length >= 2, 'mismatch error', 5000);
    expect(await fingerprint(other.ca)).toBe(second);
    expect(logs.filter((l) => l.msg === 'TLS certificate reloaded')).toHaveLength(1);
  });

  it('start() fails with the file name when the certificate is missing', async () => {
    await expect(startTls({ certFile: '/nonexistent/cert.pem' })).rejects.toThrow(/\/nonexistent\/cert\.pem/);
  });
});
