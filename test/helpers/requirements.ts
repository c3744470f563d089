/**
 * Tests that need root, a network namespace, an installed peer (rsyslog, syslog-ng,
 * the reference Collector) call `requirement()` first. Outside CI a missing
 * requirement skips the test with a printed reason; with CI=true it fails, so CI can
 * never go green by skipping.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export interface Requirement {
  ok: boolean;
  reason: string;
}

/** Evaluate a requirement; prints the reason when it is not met. */
export function requirement(ok: boolean, reason: string): Requirement {
  if (!ok) {
    const msg = inCI
      ? `REQUIREMENT MISSING IN CI (test will fail): ${reason}`
      : `skipping: ${reason}`;
    // eslint-disable-next-line no-console
    console.warn(msg);
  }
  return { ok, reason };
}

/**
 * Returns true when the suite should run. Outside CI, returns false when the
 * requirement is missing (use with `describe.skipIf(!runIf(...))`). In CI it returns
 * true regardless, and `assertRequirement` inside the suite then fails loudly.
 */
export function shouldRun(req: Requirement): boolean {
  return req.ok || inCI;
}

/** Throws with the reason when the requirement is not met (call it in beforeAll). */
export function assertRequirement(req: Requirement): void {
  if (!req.ok) throw new Error(`requirement not met: ${req.reason}`);
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** True when `cmd` is on PATH (or is an existing absolute path). */
export function hasCommand(cmd: string): boolean {
  if (cmd.startsWith('/')) return existsSync(cmd);
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
