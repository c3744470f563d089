/**
 * A second, independent guard for backpressure pausing (backpressure.test.ts drives a stopped
 * endpoint and retries): here the OTLP endpoint HANGS — it takes the requests and does not answer
 * — so the exports stay in flight, the queue fills, and the service must pause the TCP socket:
 *
 * - the paused-connections gauge on /metrics reaches 1;
 * - the service stops reading: its socket's kernel receive queue holds unread bytes, the sender's
 *   kernel holds unsent ones, and the sender's writes stop completing;
 * - while paused nothing is read, nothing is dropped;
 * - once the endpoint answers, every line arrives exactly once and the connection resumes.
 */
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpSink, type NormRecord, type OtlpSink } from '../../helpers/otlp-sink.js';
import { tcpConnection } from '../../helpers/sockets.js';
import { holdsFor, waitFor, waitForStable } from '../../helpers/wait.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from './service-process.js';

/** 40k lines of ~330 bytes: 13 MB, far more than the queue (2000 records) and loopback's socket buffers hold. */
const N = 40_000;
const PAD = 'x'.repeat(100);

function line(i: number): string {
  return `<4>Nov 26 14:20:01 fw1 kernel: iptables-dropped: IN=eth0 OUT= SRC=192.0.2.${1 + (i % 250)} DST=198.51.100.7 LEN=60 TTL=64 ID=${i % 60000} DF PROTO=TCP SPT=${1000 + Math.floor(i / 60000)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 PAD=${PAD}\n`;
}

const keyOf = (r: NormRecord): number =>
  (Number((r.attributes['source.port'] as { int: string }).int) - 1000) * 60000 + Number((r.attributes['iptables.id'] as { int: string }).int);

function config(sinkPort: number): string {
  return [
    'inputs:',
    '  - tcp: {host: 127.0.0.1, port: 0}',
    'outputs:',
    // A timeout longer than the test: the hanging requests stay in flight (no retry, no duplicate).
    `  - otlp: {endpoint: "http://127.0.0.1:${sinkPort}", timeout: 120s}`,
    'pipeline:',
    '  queue: {maxRecords: 2000, maxBytes: 8MiB}',
    '  batch: {size: 200, linger: 5ms}',
    'ops: {address: "127.0.0.1:0"}',
  ].join('\n');
}

describe.each(['0', 'auto'])('backpressure pauses the socket of a TCP sender (threads %s)', (threads) => {
  let sink: OtlpSink | undefined;
  let svc: ServiceProcess | undefined;
  let sock: net.Socket | undefined;

  beforeAll(() => ensureBuilt(), 300_000);
  afterEach(async () => {
    sock?.destroy();
    svc?.kill('SIGKILL');
    await sink?.stop();
    sock = svc = sink = undefined;
  });

  it('a hanging endpoint: paused gauge 1, the sender blocks, nothing read or dropped meanwhile; then every line once', async () => {
    sink = await startOtlpSink();
    sink.hold();
    // The memory queue is the bound that pauses here: with the spool on (the default with
    // threads), an outage fills the spool first (backpressure.test.ts covers that mode).
    svc = await startServiceProcess(config(sink.port), ['--threads', threads, ...(threads === '0' ? [] : ['--no-spool'])]);
    const s = svc;
    const port = s.port('tcp');

    sock = await new Promise<net.Socket>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => resolve(c));
      c.once('error', reject);
    });
    const c = sock;
    let queued = 0;
    let completed = 0;
    let ended = false;
    const pump = (): void => {
      while (queued < N) {
        let chunk = '';
        const end = Math.min(N, queued + 100);
        const lines = end - queued;
        for (; queued < end; queued++) chunk += line(queued);
        if (!c.write(chunk, () => (completed += lines))) {
          c.once('drain', pump);
          return;
        }
      }
      c.end(() => (ended = true));
    };
    pump();

    // 1. The service pauses the connection (the gauge on /metrics); its exports hang at the sink.
    // (With threads the bound can fill before a worker's first request is out: wait for both.)
    await waitFor(async () => (await s.metric('iptables_otel_paused_connections')) === 1, { what: 'paused_connections 1', timeoutMs: 30_000 });
    await waitFor(() => sink!.heldCount > 0, { what: 'an export hanging at the sink', timeoutMs: 30_000 });
    expect(sink.records).toEqual([]);

    // 2. The sender blocks: its writes stop completing, the kernel queues on both ends hold bytes.
    const stalledAt = await waitForStable(() => completed, { stableMs: 300, what: "the sender's writes to stop completing", timeoutMs: 30_000 });
    expect(stalledAt).toBeLessThan(N);
    const local = c.localPort!;
    await waitFor(() => (tcpConnection(port, local)?.rxQueue ?? 0) > 0 && (tcpConnection(local, port)?.txQueue ?? 0) > 0, {
      what: "unread bytes in the service's receive queue and unsent bytes in the sender's",
    });

    // 3. While paused: nothing more is read (received_total stays), nothing dropped, nothing delivered.
    const receivedAt = await s.metric('iptables_otel_received_total');
    expect(receivedAt).toBeLessThan(N);
    await holdsFor(
      async () =>
        completed === stalledAt &&
        sink!.records.length === 0 &&
        (await s.metric('iptables_otel_received_total')) === receivedAt &&
        (await s.metric('iptables_otel_paused_connections')) === 1,
      { forMs: 1000, what: 'no progress while paused', intervalMs: 50 },
    );
    expect(await s.metric('iptables_otel_dropped_total')).toBe(0);

    // 4. The endpoint answers again: the connection resumes, every line arrives exactly once.
    sink.release();
    await sink.waitForRecords(N, 120_000);
    await waitFor(() => ended, { what: 'the sender to finish writing', timeoutMs: 30_000 });
    // Settled: everything acknowledged and nothing queued, so no late duplicate can follow.
    await waitFor(async () => (await s.metric('iptables_otel_exported_total')) === N && (await s.metric('iptables_otel_queue_records')) === 0, {
      what: 'all records exported and the queue empty',
      timeoutMs: 30_000,
    });
    expect(sink.records).toHaveLength(N);
    const seen = new Uint8Array(N);
    for (const r of sink.records) seen[keyOf(r)]!++;
    expect(seen.every((n) => n === 1)).toBe(true);
    expect(sink.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(await s.metric('iptables_otel_dropped_total')).toBe(0);
    expect(await s.metric('iptables_otel_received_total')).toBe(N);
    expect(await s.metric('iptables_otel_paused_connections')).toBe(0);
  }, 240_000);
});
