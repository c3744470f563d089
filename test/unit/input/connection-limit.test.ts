import { afterEach, describe, expect, it } from 'vitest';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { run } from '../../helpers/peers.js';
import { metricValue, sleep, waitFor } from './capture-sink.js';
import { connect, numberedLines, runCleanups, startTcp, write } from './stream-harness.js';

afterEach(runCleanups);

describe('maxConnections: connections above it wait unread, none is accepted-then-closed', () => {
  it('reads every connection when exactly maxConnections are open', async () => {
    const { input, sink, metrics, port } = await startTcp({ maxConnections: 5 });
    const sockets = await Promise.all([0, 1, 2, 3, 4].map(() => connect(port)));
    await Promise.all(sockets.map((s, i) => write(s, numberedLines(`c${i}`, 20))));
    await waitFor(() => sink.records.length === 100, '100 records');
    expect(input.connectionCount).toBe(5);
    expect(input.waitingCount).toBe(0);
    expect(await metricValue(metrics, 'iptables_otel_connections_refused_total')).toBe(0);
    expect(await metricValue(metrics, 'iptables_otel_open_connections', { input: 'tcp-test' })).toBe(5);
  });

  it('the N+1th connection waits, is read once a slot frees, and loses nothing', async () => {
    const { input, sink, metrics, port } = await startTcp({ maxConnections: 3 });
    const first = await Promise.all([0, 1, 2].map(() => connect(port)));
    await waitFor(() => input.connectionCount === 3, '3 connections read');
    const extra = await connect(port);
    await write(extra, numberedLines('extra', 1000));
    extra.end('<4>extra tail without LF');
    await waitFor(() => input.waitingCount === 1, 'the 4th connection waiting');
    await sleep(100);
    // Waiting, not read: its sender's bytes are still in the kernel.
    expect(sink.records.length).toBe(0);
    expect(extra.destroyed).toBe(false);
    expect(await metricValue(metrics, 'iptables_otel_waiting_connections', { input: 'tcp-test' })).toBe(1);
    first[0]!.destroy();
    await waitFor(() => sink.records.length === 1001, 'all 1001 lines of the waiting connection');
    expect(sink.bodies.slice(0, 3)).toEqual(['<4>extra 0', '<4>extra 1', '<4>extra 2']);
    expect(sink.bodies.at(-1)).toBe('<4>extra tail without LF');
    expect(input.waitingCount).toBe(0);
    expect(await metricValue(metrics, 'iptables_otel_connections_refused_total')).toBe(0);
    expect(await metricValue(metrics, 'iptables_otel_connections_closed_total')).toBe(0);
  });

  it('serves waiting connections in arrival order', async () => {
    const { input, sink, port } = await startTcp({ maxConnections: 1 });
    const holder = await connect(port);
    await waitFor(() => input.connectionCount === 1, 'holder read');
    const waiting = [];
    for (let i = 0; i < 4; i++) {
      const s = await connect(port);
      await write(s, `<4>w${i}\n`);
      s.end();
      waiting.push(s);
      await waitFor(() => input.waitingCount === i + 1, `${i + 1} waiting`);
    }
    holder.destroy();
    await waitFor(() => sink.records.length === 4, '4 lines');
    expect(sink.bodies).toEqual(['<4>w0', '<4>w1', '<4>w2', '<4>w3']);
  });

  it('refuses (counts and logs with the peer) only above maxConnections + maxPendingConnections', async () => {
    const { input, metrics, logs, port } = await startTcp({ maxConnections: 2, maxPendingConnections: 1 });
    await connect(port);
    await connect(port);
    await connect(port);
    await waitFor(() => input.connectionCount === 2 && input.waitingCount === 1, '2 read, 1 waiting');
    const refused = await connect(port);
    const refusedPort = refused.localPort;
    await new Promise<void>((r) => (refused.destroyed ? r() : refused.on('close', () => r())));
    expect(await metricValue(metrics, 'iptables_otel_connections_refused_total', { input: 'tcp-test' })).toBe(1);
    const warn = logs.find((l) => l.msg.startsWith('connection refused'));
    expect(warn?.fields).toMatchObject({ input: 'tcp-test', peer: '127.0.0.1', peerPort: refusedPort, maxConnections: 2, maxPendingConnections: 1 });
    expect(input.connectionCount).toBe(2);
  });

  it('rate-limits the refusal log, counting every refusal', async () => {
    const { metrics, logs, port } = await startTcp({ maxConnections: 1, maxPendingConnections: 0 });
    await connect(port);
    for (let i = 0; i < 20; i++) {
      const s = await connect(port);
      await new Promise<void>((r) => (s.destroyed ? r() : s.on('close', () => r())));
    }
    expect(await metricValue(metrics, 'iptables_otel_connections_refused_total')).toBe(20);
    expect(logs.filter((l) => l.msg.startsWith('connection refused')).length).toBe(5);
  });

  const loggerReq = requirement(hasCommand('logger'), 'util-linux logger is not installed');
  it.skipIf(!shouldRun(loggerReq))('logger --tcp above maxConnections: its 1000 lines wait and all arrive', async () => {
    assertRequirement(loggerReq);
    const { input, sink, port } = await startTcp({ maxConnections: 1 });
    const holder = await connect(port);
    await waitFor(() => input.connectionCount === 1, 'holder read');
    const lines = Array.from({ length: 1000 }, (_, i) => `limit-test ${i}`);
    // logger writes into a connected socket and exits: the lines wait in the kernel, unread.
    await run('logger', ['--tcp', '-n', '127.0.0.1', '-P', String(port), '-t', 'kernel', '-p', 'kern.warning'], { input: lines.join('\n') + '\n' });
    await waitFor(() => input.waitingCount === 1, 'logger waiting');
    expect(sink.records.length).toBe(0);
    holder.destroy();
    await waitFor(() => sink.records.length === 1000, '1000 logger lines');
    const got = new Set(sink.bodies.map((b) => b.slice(b.indexOf('limit-test'))));
    expect(lines.every((l) => got.has(l))).toBe(true);
  });
});
