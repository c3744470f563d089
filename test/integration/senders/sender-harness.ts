import { expect } from 'vitest';
import { createInput } from '../../../src/input/create-input.js';
import type { Input } from '../../../src/input/input.js';
import { validateInputConfig } from '../../../src/input/input-config.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { CaptureSink, textDecoder, waitFor } from '../../unit/input/capture-sink.js';

/** Messages each test sends. */
export const N = 30;

/** A started listener with its own sink. */
export interface Listener {
  input: Input;
  sink: CaptureSink;
  metrics: Metrics;
  port: number;
}

/** Start a listener from a raw config (validated like the config file's) on 127.0.0.1 and port 0. */
export async function listen(raw: Record<string, unknown>): Promise<Listener> {
  const sink = new CaptureSink();
  const metrics = new Metrics();
  const input = createInput(validateInputConfig({ host: '127.0.0.1', port: 0, ...raw }), { decode: textDecoder, sink, metrics });
  await input.start();
  return { input, sink, metrics, port: input.address()!.port };
}

/** `N` distinct lines tagged with `run` and a sequence number. */
export function lines(run: string, n = N): string[] {
  return Array.from({ length: n }, (_, i) => `iptables-dropped: run=${run} seq=${i} IN=eth0 OUT= SRC=192.0.2.${i % 250} DST=198.51.100.1 PROTO=TCP SPT=4${i} DPT=22 SYN URGP=0`);
}

/**
 * Wait for `n` frames of `run`, then for the stream to settle, then check that every sequence
 * number arrived exactly once, that every frame matches `shape`, and the receive context.
 *
 * Settled: no frame of the run arrived for `settleMs` (a late duplicate, e.g. a sender re-sending
 * after a reconnect, would otherwise go unseen), or, for TCP/TLS, the sender has closed its
 * connections (then nothing more can come).
 */
export async function expectAll(l: Listener, run: string, shape: RegExp, transport: 'udp' | 'tcp' | 'tls' | 'relp', n = N, timeoutMs = 20_000, settleMs = 500): Promise<void> {
  const mine = () => l.sink.records.filter((r) => r.body.includes(`run=${run} `));
  await waitFor(() => mine().length >= n, `${n} frames of run ${run} on ${l.input.name} (have ${mine().length})`, timeoutMs);
  const closed = (): boolean => transport !== 'udp' && (l.input as { connectionCount?: number }).connectionCount === 0;
  let last = mine().length;
  let quietSince = Date.now();
  await waitFor(
    () => {
      const now = mine().length;
      if (now !== last) {
        last = now;
        quietSince = Date.now();
      }
      return closed() || Date.now() - quietSince >= settleMs;
    },
    `frames of run ${run} to settle`,
    timeoutMs,
  );
  expect(mine().length, `frames of run ${run} (a duplicate or a stray frame if more than ${n})`).toBe(n);
  const seen = new Map<number, number>();
  for (const r of mine()) {
    expect(r.body).toMatch(shape);
    const seq = Number(/ seq=(\d+) /.exec(r.body)![1]);
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    expect(r.ctx.transport).toBe(transport);
    expect(r.ctx.peerAddress).toBe('127.0.0.1');
    expect(r.ctx.peerPort).toBeGreaterThan(0);
    expect(r.ctx.receivedAt![0]).toBeGreaterThan(1_600_000_000);
  }
  expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect([...seen.values()].every((c) => c === 1)).toBe(true);
  // Frames are byte-exact: the whole line is there, with the kernel's trailing "URGP=0".
  for (const r of mine()) expect(r.body).toMatch(/ SYN URGP=0\n?$/);
}

/** A unique run id. */
export function runId(): string {
  return Math.random().toString(36).slice(2, 10);
}
