import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProcNetUdp, procLocalAddress } from '../../../src/input/udp-kernel-drops.js';
import { KERNEL_BYTES_PER_240_BYTE_DATAGRAM, readRmemMax, receiveBufferReport } from '../../../src/input/udp-receive-buffer.js';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { metricValue } from './capture-sink.js';
import { startUdp } from './udp-harness.js';
import { runCleanups } from './stream-harness.js';

afterEach(runCleanups);

/**
 * Send `n` 240-byte datagrams from a child process, synchronously: this process's event loop
 * is blocked meanwhile, so the input reads nothing and the kernel queues (or drops) them all.
 */
function sendBlocking(port: number, n: number): void {
  const script = `
    const c = require('node:dgram').createSocket('udp4');
    let i = 0, sent = 0;
    const done = () => { if (++sent === ${n}) c.close(); };
    (function go() {
      for (let k = 0; k < 50 && i < ${n}; k++, i++) {
        const line = Buffer.alloc(240, 'x');
        Buffer.from('<4>d ' + String(i).padStart(6, '0')).copy(line);
        c.send(line, ${port}, '127.0.0.1', done);
      }
      if (i < ${n}) setImmediate(go);
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { stdio: 'inherit', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`sender failed: ${String(r.status)} ${String(r.error)}`);
}

describe('/proc/net/udp', () => {
  it('formats local addresses as the kernel prints them', () => {
    expect(procLocalAddress('127.0.0.1', 9001, true)).toBe('0100007F:2329');
    expect(procLocalAddress('127.0.0.1', 9001, false)).toBe('7F000001:2329');
    expect(procLocalAddress('0.0.0.0', 514, true)).toBe('00000000:0202');
    expect(procLocalAddress('::1', 9001, true)).toBe('00000000000000000000000001000000:2329');
    expect(procLocalAddress('::', 9001, true)).toBe('00000000000000000000000000000000:2329');
    expect(procLocalAddress('2001:db8::1', 1, true)).toBe('B80D0120000000000000000001000000:0001');
    expect(procLocalAddress('::ffff:192.0.2.1', 1, true)).toBe('0000000000000000FFFF0000010200C0:0001');
    expect(procLocalAddress('localhost', 1)).toBeUndefined();
  });

  it('parses the socket lines and skips the header', () => {
    const text =
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n' +
      '  123: 0100007F:2329 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 14097 2 0000000000000000 42\n';
    expect(parseProcNetUdp(text)).toEqual([{ local: '0100007F:2329', inode: 14097, drops: 42 }]);
  });
});

describe('receive buffer report', () => {
  it('warns naming net.core.rmem_max and the value to set when the sysctl caps the request', () => {
    const r = receiveBufferReport(8_388_608, 425_984, 212_992, 'linux');
    expect(r.level).toBe('warn');
    expect(r.msg).toContain('net.core.rmem_max');
    expect(r.msg).toContain('sysctl -w net.core.rmem_max=8388608');
    expect(r.fields).toMatchObject({ granted: 425_984, datagrams240: Math.floor(425_984 / KERNEL_BYTES_PER_240_BYTE_DATAGRAM) });
  });

  it('reports the granted size and the datagrams it holds when the request fits', () => {
    const r = receiveBufferReport(1_048_576, 2_097_152, 4_194_304, 'linux');
    expect(r.level).toBe('info');
    expect(r.fields).toMatchObject({ recvBufferSize: 1_048_576, granted: 2_097_152, datagrams240: 1820 });
  });
});

const procReq = requirement(process.platform === 'linux' && existsSync('/proc/net/udp'), 'Linux /proc/net/udp is needed for kernel drop counts');

describe.skipIf(!shouldRun(procReq))('UdpInput and the kernel', () => {
  it('logs the receive buffer the kernel granted at start-up', async () => {
    assertRequirement(procReq);
    const { logs, metrics } = await startUdp({ recvBufferSize: 262_144 });
    const line = logs.find((l) => l.msg.startsWith('UDP receive buffer'));
    expect(line?.fields).toMatchObject({ input: 'udp-test', recvBufferSize: 262_144 });
    const granted = line!.fields.granted as number;
    expect(granted).toBeGreaterThanOrEqual(262_144);
    expect(line!.fields.datagrams240).toBe(Math.floor(granted / KERNEL_BYTES_PER_240_BYTE_DATAGRAM));
    expect(line!.msg).toContain(`about ${line!.fields.datagrams240} datagrams of 240 bytes`);
    // The same size on /metrics, for dashboards next to dropped{udp_receive_buffer}.
    expect(await metricValue(metrics, 'iptables_otel_udp_receive_buffer_bytes', { input: 'udp-test' })).toBe(granted);
  });

  it('warns with the sysctl to set when net.core.rmem_max caps the request', async () => {
    const rmemMax = readRmemMax();
    if (rmemMax === undefined || rmemMax > 2 ** 29) return; // cannot ask for more than the cap here
    const { logs } = await startUdp({ recvBufferSize: rmemMax * 2 });
    const warn = logs.find((l) => l.level === 'warn');
    expect(warn?.msg).toContain(`sysctl -w net.core.rmem_max=${rmemMax * 2}`);
  });

  it('counts datagrams the kernel dropped (receive buffer full) as dropped{udp_receive_buffer}', async () => {
    assertRequirement(procReq);
    // The smallest buffer Linux grants (a few KiB): a handful of datagrams fit.
    const { input, sink, metrics, port } = await startUdp({ recvBufferSize: 1024 });
    sendBlocking(port, 2000);
    await input.stop(); // reads what the kernel kept, then the drop count a last time
    const dropped = await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'udp_receive_buffer' });
    expect(dropped).toBeGreaterThan(0);
    // Every datagram is accounted for: read by us or counted as dropped by the kernel.
    expect(sink.records.length + dropped).toBe(2000);
  });

  it('stop() reads the datagrams the kernel already holds', async () => {
    assertRequirement(procReq);
    const { input, sink, metrics, port } = await startUdp({ recvBufferSize: 4 * 1024 * 1024 });
    sendBlocking(port, 1000);
    // Called before the event loop has read any of them.
    await input.stop();
    expect(sink.records.length).toBe(1000);
    expect(await metricValue(metrics, 'iptables_otel_dropped_total', { reason: 'udp_receive_buffer' })).toBe(0);
  });
});
