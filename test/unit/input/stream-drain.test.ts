import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, sleep, waitFor } from './capture-sink.js';
import { connect, numberedLines, runCleanups, startTcp, write } from './stream-harness.js';

afterEach(runCleanups);

/** Writes numbered lines as fast as the socket takes them (respecting backpressure) until it closes. */
function keepWriting(s: net.Socket, tag: string): { written(): number; done: Promise<void> } {
  let n = 0;
  let closed = false;
  const done = new Promise<void>((resolve) => {
    s.on('close', () => {
      closed = true;
      resolve();
    });
  });
  s.on('error', () => {});
  const step = (): void => {
    if (closed || s.destroyed) return;
    let ok = true;
    for (let i = 0; i < 50 && ok; i++) ok = s.write(`<4>${tag} ${n++}\n`);
    if (ok) setImmediate(step);
    else s.once('drain', step);
  };
  step();
  return { written: () => n, done };
}

describe('stop() drains the connections before closing them', () => {
  it('every line written before stop() was called arrives, the sender still writing', async () => {
    const { input, sink, metrics, port } = await startTcp({ drainTimeoutMs: 500 });
    const senders = await Promise.all([0, 1, 2].map(() => connect(port)));
    const writers = senders.map((s, i) => keepWriting(s, `s${i}`));
    await waitFor(() => sink.records.length > 5000, 'traffic flowing');
    const before = writers.map((w) => w.written());
    await input.stop();
    const bodies = new Set(sink.bodies);
    for (let i = 0; i < writers.length; i++) {
      let missing = 0;
      for (let n = 0; n < before[i]!; n++) if (!bodies.has(`<4>s${i} ${n}`)) missing++;
      expect(missing, `lines of sender ${i} written before stop and lost`).toBe(0);
    }
    // The senders never went quiet: the deadline closed them, and that is counted.
    expect(await metricValue(metrics, 'iptables_otel_connections_closed_total', { reason: 'drain_deadline' })).toBe(3);
    await Promise.all(writers.map((w) => w.done));
  });

  it('reads what the kernel holds, emits the final frame without LF, and closes a quiet sender', async () => {
    const { input, sink, metrics, port } = await startTcp();
    const s = await connect(port);
    // Written in one go right before stop(): most of it is still in the kernel's buffers.
    await write(s, numberedLines('k', 20_000) + '<4>last line, no LF');
    await input.stop();
    expect(sink.records.length).toBe(20_001);
    expect(sink.bodies.at(-1)).toBe('<4>last line, no LF');
    expect(await metricValue(metrics, 'iptables_otel_connections_closed_total', { reason: 'drain_deadline' })).toBe(0);
    await waitFor(() => s.destroyed || s.readableEnded, 'sender closed');
  });

  it('drains connections that were waiting for a slot, and those paused by backpressure', async () => {
    const { input, sink, port } = await startTcp({ maxConnections: 1 });
    const a = await connect(port);
    await waitFor(() => input.connectionCount === 1, 'a read');
    sink.full = true;
    await write(a, numberedLines('a', 3000));
    await waitFor(() => input.pausedCount === 1, 'a paused by backpressure');
    const b = await connect(port);
    await write(b, numberedLines('b', 3000));
    await waitFor(() => input.waitingCount === 1, 'b waiting');
    await sleep(50);
    await input.stop();
    const bodies = new Set(sink.bodies);
    for (const tag of ['a', 'b']) for (let n = 0; n < 3000; n++) expect(bodies.has(`<4>${tag} ${n}`)).toBe(true);
  });

  it('drainTimeoutMs 0 closes at once, still flushing what was read', async () => {
    const { input, sink, port } = await startTcp({ drainTimeoutMs: 0 });
    const s = await connect(port);
    await write(s, '<4>read\n<4>partial');
    await waitFor(() => sink.records.length === 1, 'first line');
    await sleep(20);
    await input.stop();
    expect(sink.bodies).toEqual(['<4>read', '<4>partial']);
  });
});
