/**
 * Every test gets a state directory of its own (`$STATE_DIRECTORY`, as systemd sets it), so the
 * spool of a service it starts, in this process or as a child process, is never shared with
 * another test's (a spool left by one test would be replayed into the next), nor with the
 * machine's own `/var/lib/iptables-otel`. A test that restarts a service on purpose passes the
 * same `--spool-dir` to both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach } from 'vitest';

const made: string[] = [];
function fresh(): void {
  const dir = mkdtempSync(join(tmpdir(), 'iptables-otel-state-'));
  made.push(dir);
  process.env.STATE_DIRECTORY = dir;
}
fresh();
beforeEach(fresh);
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
