import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { feedUnixSocket, hasLogger, hasRsyslog, startRsyslog, type Daemon } from '../../helpers/peers.js';
import { metricValue, waitForAsync } from '../../unit/input/capture-sink.js';
import { expectAll, lines, listen, runId, type Listener } from './sender-harness.js';

const req = requirement(hasRsyslog() && hasLogger() && process.platform === 'linux', 'rsyslog and logger are needed (and Linux, for the UDP reader thread)');

/**
 * rsyslog's omfwd over UDP, the drop-in case: one forwarder, one source port, busy enough to be
 * moved to a socket of its own. Every line arrives once, with rsyslog's address and port.
 */
describe.skipIf(!shouldRun(req))('rsyslog omfwd over UDP, read by the reader thread', () => {
  let udp: Listener;
  let daemon: Daemon | undefined;
  const run = runId();
  const N = 3000;

  beforeAll(async () => {
    assertRequirement(req);
    udp = await listen({ type: 'udp' });
    daemon = await startRsyslog(`action(type="omfwd" target="127.0.0.1" port="${udp.port}" protocol="udp")`);
    await feedUnixSocket(daemon, lines(run, N), 'kernel');
  });

  afterAll(async () => {
    await daemon?.stop();
    await udp?.input.stop();
  });

  it(`${N} lines: each once, from one sender socket, and the sender moved to the reader thread`, async () => {
    await expectAll(udp, run, /^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: iptables-dropped: /, 'udp', N, 30_000, 1000);
    const ports = new Set(udp.sink.records.map((r) => r.ctx.peerPort));
    expect(ports.size, `sender ports ${[...ports].join(',')}`).toBe(1);
    const name = udp.input.name;
    // The move waits for the thread to take the socket; under vitest its first start transpiles the worker (slow once).
    await waitForAsync(async () => (await metricValue(udp.metrics, 'iptables_otel_udp_reader_thread_senders', { input: name })) === 1, 'rsyslog read by the thread', 15_000);
    expect(await metricValue(udp.metrics, 'iptables_otel_dropped_total', { reason: 'udp_receive_buffer' }), 'kernel drops').toBe(0);
  });
});
