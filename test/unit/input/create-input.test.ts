import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createInput, startInputs } from '../../../src/input/create-input.js';
import { validateInputConfig } from '../../../src/input/input-config.js';
import { parseListenUrl } from '../../../src/input/listen-url.js';
import { TcpInput } from '../../../src/input/tcp-input.js';
import { UdpInput } from '../../../src/input/udp-input.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { CaptureSink, textDecoder, waitFor } from './capture-sink.js';

describe('createInput / startInputs', () => {
  it('runs UDP and TCP on the same port number at once, named by URL', async () => {
    const sink = new CaptureSink();
    const deps = { decode: textDecoder, sink, metrics: new Metrics() };
    const tcp = createInput(validateInputConfig({ type: 'tcp', port: 0 }), deps);
    await tcp.start();
    const port = tcp.address()!.port;
    const { transport, host } = parseListenUrl(`udp://127.0.0.1:${port}`);
    const udp = createInput(validateInputConfig({ type: transport, host, port }), deps);
    try {
      await startInputs([udp]);
      expect(tcp).toBeInstanceOf(TcpInput);
      expect(udp).toBeInstanceOf(UdpInput);
      expect(udp.name).toBe(`udp://127.0.0.1:${port}`);
      expect(tcp.name).toBe('tcp://127.0.0.1:0');
      const s = dgram.createSocket('udp4');
      s.send('<4>over udp', port, '127.0.0.1', () => s.close());
      const c = net.connect({ port, host: '127.0.0.1' }, () => c.end('<4>over tcp\n'));
      await waitFor(() => sink.records.length === 2, 'both');
      expect(new Set(sink.records.map((r) => r.ctx.transport))).toEqual(new Set(['udp', 'tcp']));
    } finally {
      await udp.stop();
      await tcp.stop();
    }
  });

  it('startInputs stops the started listeners when a later one cannot bind', async () => {
    const deps = { decode: textDecoder, sink: new CaptureSink(), metrics: new Metrics() };
    const blocker = createInput(validateInputConfig({ type: 'tcp', port: 0 }), deps);
    await blocker.start();
    const taken = blocker.address()!.port;
    const first = createInput(validateInputConfig({ type: 'tcp', port: 0 }), deps);
    const second = createInput(validateInputConfig({ type: 'tcp', port: taken }), deps);
    try {
      await expect(startInputs([first, second])).rejects.toThrow(/EADDRINUSE/);
      expect(first.address()).toBeUndefined();
    } finally {
      await blocker.stop();
    }
  });
});
