import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { feedUnixSocket, hasLogger, hasRsyslog, startRsyslog, type Daemon } from '../../helpers/peers.js';
import { expectAll, lines, listen, runId, type Listener } from './sender-harness.js';

/** rsyslog's RELP output module (Debian package rsyslog-relp). */
const OMRELP = '/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so';
const req = requirement(hasRsyslog() && existsSync(OMRELP) && hasLogger(), 'rsyslog with omrelp (rsyslog-relp) and logger are needed');

/** rsyslog omrelp -> our RELP listener: every message once, byte-exact, with `transport=relp`. */
describe.skipIf(!shouldRun(req))('rsyslog omrelp as sender', () => {
  let relp: Listener;
  let daemon: Daemon | undefined;
  const run = runId();
  const N = 2000;

  beforeAll(async () => {
    assertRequirement(req);
    relp = await listen({ type: 'relp' });
    daemon = await startRsyslog(['module(load="omrelp")', `action(type="omrelp" target="127.0.0.1" port="${relp.port}")`].join('\n'));
    await feedUnixSocket(daemon, lines(run, N), 'kernel');
  });

  afterAll(async () => {
    await daemon?.stop();
    await relp?.input.stop();
  });

  it(`${N} messages (more than omrelp's window of 128 unanswered), each exactly once, RSYSLOG_ForwardFormat`, async () => {
    await expectAll(relp, run, /^<13>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \S+ kernel: iptables-dropped: /, 'relp', N);
    // No framing error on the way.
    const errors = await relp.metrics.framingErrors.get();
    expect(errors.values.reduce((sum, v) => sum + v.value, 0)).toBe(0);
  });
});
