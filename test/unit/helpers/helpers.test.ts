/** The test helpers that decide whether a test may skip, and the waits that replace sleeps. */
import { describe, expect, it } from 'vitest';
import { isCI } from '../../helpers/requirements.js';
import { holdsFor, waitFor, waitForValue } from '../../helpers/wait.js';

describe('isCI', () => {
  it('is true for any non-empty CI except false/0', () => {
    for (const v of ['true', '1', 'yes', 'TRUE', 'woodpecker']) expect(isCI(v), v).toBe(true);
    for (const v of [undefined, '', ' ', 'false', 'FALSE', '0']) expect(isCI(v), String(v)).toBe(false);
  });
});

describe('waitFor / holdsFor', () => {
  it('waitFor resolves once the condition holds and names what it waited for on timeout', async () => {
    let n = 0;
    const t = setInterval(() => n++, 5);
    try {
      await waitFor(() => n >= 3, { what: 'n >= 3' });
      expect(n).toBeGreaterThanOrEqual(3);
      await expect(waitFor(() => false, { what: 'never', timeoutMs: 30 })).rejects.toThrow(/timed out after 30 ms waiting for never/);
      await expect(waitFor(async () => n < 0, { what: 'async never', timeoutMs: 30 })).rejects.toThrow(/async never/);
      expect(await waitForValue(() => (n >= 5 ? n : undefined), { what: 'n >= 5' })).toBeGreaterThanOrEqual(5);
    } finally {
      clearInterval(t);
    }
  });

  it('holdsFor fails at the first poll where the condition is false', async () => {
    await holdsFor(() => true, { forMs: 30, what: 'always' });
    let ok = true;
    setTimeout(() => (ok = false), 20);
    await expect(holdsFor(() => ok, { forMs: 2000, what: 'ok' })).rejects.toThrow(/no longer true .*: ok/);
  });
});
