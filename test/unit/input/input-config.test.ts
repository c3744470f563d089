import { describe, expect, it } from 'vitest';
import { defaultInputConfigs, validateInputConfig, InputConfigError } from '../../../src/input/input-config.js';
import { formatListenUrl, parseListenUrl } from '../../../src/input/listen-url.js';
import { canonicalPeerAddress, receiveTime } from '../../../src/input/receive-context.js';

describe('validateInputConfig', () => {
  it('fills defaults', () => {
    expect(validateInputConfig({ type: 'tcp' })).toEqual({
      type: 'tcp',
      host: '127.0.0.1',
      port: 9001,
      maxFrameSize: 65536,
      framing: 'auto',
      maxConnections: 10000,
      idleTimeoutMs: 300000,
    });
    expect(validateInputConfig({ type: 'udp' })).toMatchObject({ port: 9001, recvBufferSize: 32 * 1024 * 1024 });
    expect(validateInputConfig({ type: 'tls', certFile: 'c', keyFile: 'k' })).toMatchObject({ port: 6514, requireClientCert: false, watchCertificates: true });
    expect(validateInputConfig({ type: 'udp', host: '[::1]' }).host).toBe('::1');
  });

  it.each([
    [{ type: 'tcp', port: 70000 }, 'inputs[2].port'],
    [{ type: 'tcp', port: '9001' }, 'inputs[2].port'],
    [{ type: 'tcp', framing: 'cr' }, 'inputs[2].framing'],
    [{ type: 'udp', framing: 'lf' }, 'inputs[2].framing'],
    [{ type: 'sctp' }, 'inputs[2].type'],
    [{ type: 'tcp', idleTimeout: 5 }, 'inputs[2].idleTimeout'],
    [{ type: 'tls', keyFile: 'k' }, 'inputs[2].certFile'],
    [{ type: 'tls', certFile: 'c', keyFile: 'k', requireClientCert: true }, 'inputs[2].caFile'],
    [{ type: 'tls', certFile: 'c', keyFile: 'k', requireClientCert: 'yes' }, 'inputs[2].requireClientCert'],
    [{ type: 'tcp', host: 'fe80::1::2' }, 'inputs[2].host'],
    [{ type: 'tcp', maxFrameSize: 10 }, 'inputs[2].maxFrameSize'],
    ['tcp', 'inputs[2]'],
  ])('names the bad key: %j', (raw, key) => {
    try {
      validateInputConfig(raw, 'inputs[2]');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputConfigError);
      expect((e as InputConfigError).key).toBe(key);
      expect((e as Error).message.startsWith(`${key}: `)).toBe(true);
    }
  });

  it('defaults to UDP and TCP on 127.0.0.1:9001', () => {
    expect(defaultInputConfigs().map((c) => formatListenUrl(c.type, c.host, c.port))).toEqual(['udp://127.0.0.1:9001', 'tcp://127.0.0.1:9001']);
  });
});

describe('parseListenUrl', () => {
  it.each([
    ['udp://127.0.0.1:9001', { transport: 'udp', host: '127.0.0.1', port: 9001, query: {} }],
    ['TCP://0.0.0.0:514', { transport: 'tcp', host: '0.0.0.0', port: 514, query: {} }],
    ['tls://[::1]:6514', { transport: 'tls', host: '::1', port: 6514, query: {} }],
    ['tcp://[::]:0', { transport: 'tcp', host: '::', port: 0, query: {} }],
    ['udp://localhost:5514/', { transport: 'udp', host: 'localhost', port: 5514, query: {} }],
    ['tcp://0.0.0.0:9001?framing=lf&maxConnections=500', { transport: 'tcp', host: '0.0.0.0', port: 9001, query: { framing: 'lf', maxConnections: '500' } }],
  ])('%s', (url, want) => {
    expect(parseListenUrl(url)).toEqual(want);
  });

  it.each([
    ['127.0.0.1:9001', /expected udp:\/\/HOST:PORT/],
    ['http://127.0.0.1:80', /unknown transport "http"/],
    ['tcp://127.0.0.1', /missing ":PORT"/],
    ['tcp://::1:514', /IPv6 address in brackets/],
    ['tcp://[::1]', /missing ":PORT"/],
    ['tcp://[::1:514', /missing "\]"/],
    ['tcp://[1.2.3.4]:514', /not an IPv6 address/],
    ['udp://:514', /missing host/],
    ['udp://host:65536', /port "65536"/],
    ['udp://host:abc', /port "abc"/],
    ['udp://bad_host!:1', /not an IP address or host name/],
  ])('rejects %s', (url, msg) => {
    expect(() => parseListenUrl(url)).toThrow(msg);
  });

  it('formats IPv6 in brackets', () => {
    expect(formatListenUrl('tcp', '::1', 9001)).toBe('tcp://[::1]:9001');
  });
});

describe('receive context helpers', () => {
  it('strips ::ffff: from IPv4-mapped addresses only', () => {
    expect(canonicalPeerAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(canonicalPeerAddress('::ffff:c000:207')).toBe('::ffff:c000:207');
    expect(canonicalPeerAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(canonicalPeerAddress(undefined)).toBeUndefined();
  });

  it('receiveTime follows the wall clock', () => {
    const [s, ns] = receiveTime();
    expect(Math.abs(s * 1000 + ns / 1e6 - Date.now())).toBeLessThan(50);
    expect(ns).toBeGreaterThanOrEqual(0);
    expect(ns).toBeLessThan(1e9);
  });
});
