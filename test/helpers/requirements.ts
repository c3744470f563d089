/**
 * Tests that need root, a network namespace, an installed peer (rsyslog, syslog-ng,
 * the reference Collector) call `requirement()` first. Outside CI a missing
 * requirement skips the test with a printed reason; under CI (any non-empty CI other than
 * "false"/"0", as CI services set it: "true", "1", "yes", ...) it fails, so CI can never go
 * green by skipping.
 *
 * Use it for every conditional skip: `describe.skipIf(!shouldRun(req))` / `it.skipIf(!shouldRun(req))`
 * plus `assertRequirement(req)` first thing inside, never a bare `skipIf(!ok)`, an early `return`
 * or a `console.warn` (those pass silently in CI).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** True under CI: CI is set to anything but "", "false" or "0" (case-insensitive). */
export function isCI(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return v !== '' && v !== 'false' && v !== '0';
}

export const inCI = isCI(process.env.CI);

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
 * requirement is missing (use with `describe.skipIf(!shouldRun(req))`). In CI it returns
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

/**
 * Can this machine listen on and connect to `::1` (TCP and UDP)? Some containers have no IPv6
 * loopback; tests of IPv6 peers require it (await at module level, before `it.skipIf`).
 */
export async function ipv6LoopbackRequirement(): Promise<Requirement> {
  const { createServer } = await import('node:net');
  const { createSocket } = await import('node:dgram');
  const tcp = await new Promise<string | undefined>((resolve) => {
    const srv = createServer();
    srv.once('error', (e) => resolve(`TCP listen on [::1]: ${e.message}`));
    srv.listen(0, '::1', () => srv.close(() => resolve(undefined)));
  });
  const udp = await new Promise<string | undefined>((resolve) => {
    const s = createSocket('udp6');
    s.once('error', (e) => {
      s.close();
      resolve(`UDP bind on [::]: ${e.message}`);
    });
    s.bind(0, '::', () => s.close(() => resolve(undefined)));
  });
  const why = [tcp, udp].filter((w) => w !== undefined).join('; ');
  return requirement(why === '', `no IPv6 loopback (${why})`);
}
