/**
 * The kmsg input's privilege: as an unprivileged user with kernel.dmesg_restrict=1, start-up fails
 * with a message naming CAP_SYSLOG; the same user with CAP_SYSLOG as an ambient capability (what
 * the systemd unit's AmbientCapabilities=CAP_SYSLOG gives it) starts and reads.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertRequirement, hasCommand, isRoot, requirement, shouldRun } from '../../helpers/requirements.js';
import { ensureBuilt, mainJs } from '../service/service-process.js';

const restricted = (() => {
  try {
    return readFileSync('/proc/sys/kernel/dmesg_restrict', 'utf8').trim() === '1';
  } catch {
    return false;
  }
})();
const req = !isRoot
  ? requirement(false, 'switching to an unprivileged user needs root')
  : !hasCommand('setpriv')
    ? requirement(false, 'setpriv (util-linux) is missing')
    : requirement(restricted, 'kernel.dmesg_restrict is not 1: every user may read /dev/kmsg here, so there is no privilege to test');

/** Runs the service as uid/gid 65534 with `caps` ambient; resolves at the `started` line (then stops it) or at exit. */
function runAsNobody(caps: string[]): Promise<{ started: boolean; code: number | null; output: string }> {
  const state = mkdtempSync(path.join(tmpdir(), 'kmsg-priv-'));
  chmodSync(state, 0o777);
  const capArgs = caps.length > 0 ? [`--inh-caps=${caps.map((c) => `+${c}`).join(',')}`, `--ambient-caps=${caps.map((c) => `+${c}`).join(',')}`] : [];
  const child = spawn(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', ...capArgs, process.execPath, mainJs, '--input', 'kmsg://?prefixes=NO-SUCH-PREFIX', '--no-spool', '--state-dir', state, '--ops-address', 'off', '-o', 'console'],
    { cwd: state, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: state }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let started = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    output += d;
    if (!started && output.includes('"msg":"started"')) {
      started = true;
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ started, code, output })));
}

describe.runIf(shouldRun(req))('kmsg input privileges', () => {
  beforeAll(() => {
    assertRequirement(req);
    ensureBuilt();
  });

  it('without CAP_SYSLOG: start-up fails and names the capability', async () => {
    const r = await runAsNobody([]);
    expect(r.started).toBe(false);
    expect(r.code).toBe(1);
    expect(r.output).toContain('reading /dev/kmsg needs CAP_SYSLOG');
  });

  it('with CAP_SYSLOG as an ambient capability (the systemd unit): it starts', async () => {
    const r = await runAsNobody(['syslog']);
    expect(r.output).toContain('"msg":"reading the kernel log"');
    expect(r.started).toBe(true);
    expect(r.output).not.toContain('needs CAP_SYSLOG');
  });
});
