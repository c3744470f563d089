import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { hasLogger, sendWithLogger } from '../../helpers/peers.js';
import { expectAll, lines, listen, runId, type Listener } from './sender-harness.js';

const req = requirement(hasLogger(), 'util-linux logger is not installed');

describe.skipIf(!shouldRun(req))('util-linux logger as sender', () => {
  let udp: Listener;
  let tcp: Listener;
  beforeAll(async () => {
    assertRequirement(req);
    udp = await listen({ type: 'udp' });
    tcp = await listen({ type: 'tcp' });
  });
  afterAll(async () => {
    await udp?.input.stop();
    await tcp?.input.stop();
  });

  const rfc5424 = /^<12>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \S+ kernel - - \[timeQuality [^\]]*\] iptables-dropped: /;
  const rfc3164 = /^<12>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: iptables-dropped: /;
  const base = (l: () => Listener) => ['-n', '127.0.0.1', '-P', String(l().port), '-t', 'kernel', '-p', 'kern.warning'];

  it('UDP, RFC 5424 (default)', async () => {
    const run = runId();
    await sendWithLogger(['--udp', ...base(() => udp)], lines(run));
    await expectAll(udp, run, rfc5424, 'udp');
  });

  it('UDP, --rfc3164', async () => {
    const run = runId();
    await sendWithLogger(['--udp', '--rfc3164', ...base(() => udp)], lines(run));
    await expectAll(udp, run, rfc3164, 'udp');
  });

  it('TCP, RFC 5424 with LF framing', async () => {
    const run = runId();
    await sendWithLogger(['--tcp', ...base(() => tcp)], lines(run));
    await expectAll(tcp, run, rfc5424, 'tcp');
  });

  it('TCP, --octet-count', async () => {
    const run = runId();
    await sendWithLogger(['--tcp', '--octet-count', ...base(() => tcp)], lines(run));
    await expectAll(tcp, run, rfc5424, 'tcp');
  });

  it('TCP, --rfc3164 --octet-count', async () => {
    const run = runId();
    await sendWithLogger(['--tcp', '--rfc3164', '--octet-count', ...base(() => tcp)], lines(run));
    await expectAll(tcp, run, rfc3164, 'tcp');
  });

  it('TCP, --rfc3164 with LF framing', async () => {
    const run = runId();
    await sendWithLogger(['--tcp', '--rfc3164', ...base(() => tcp)], lines(run));
    await expectAll(tcp, run, rfc3164, 'tcp');
  });
});
