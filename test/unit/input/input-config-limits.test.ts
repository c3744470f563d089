import { describe, expect, it } from 'vitest';
import { DRAIN_DEFAULTS, TCP_INPUT_DEFAULTS, validateInputConfig } from '../../../src/input/input-config.js';

describe('validateInputConfig: connection limit and drain keys', () => {
  it('has defaults for the new keys', () => {
    expect(TCP_INPUT_DEFAULTS.maxPendingConnections).toBe(1000);
    expect(DRAIN_DEFAULTS).toEqual({ drainTimeoutMs: 1000, drainQuietMs: 150 });
  });

  it('keeps an absent optional key absent (the component applies its default)', () => {
    const c = validateInputConfig({ type: 'tcp' });
    expect('maxPendingConnections' in c).toBe(false);
    expect('drainTimeoutMs' in c).toBe(false);
  });

  it('accepts the keys on the listener types they belong to', () => {
    expect(validateInputConfig({ type: 'tcp', maxPendingConnections: 5, drainTimeoutMs: 0, drainQuietMs: 50 })).toMatchObject({
      maxPendingConnections: 5,
      drainTimeoutMs: 0,
      drainQuietMs: 50,
    });
    expect(validateInputConfig({ type: 'tls', certFile: 'c', keyFile: 'k', maxPendingConnections: 0 })).toMatchObject({ maxPendingConnections: 0 });
    expect(validateInputConfig({ type: 'udp', drainTimeoutMs: 2000 })).toMatchObject({ drainTimeoutMs: 2000 });
  });

  it.each([
    [{ type: 'tcp', maxPendingConnections: -1 }, 'inputs[0].maxPendingConnections'],
    [{ type: 'tcp', maxPendingConnections: 1.5 }, 'inputs[0].maxPendingConnections'],
    [{ type: 'tcp', drainTimeoutMs: 'soon' }, 'inputs[0].drainTimeoutMs'],
    [{ type: 'tcp', drainTimeoutMs: 120_000 }, 'inputs[0].drainTimeoutMs'],
    [{ type: 'udp', drainQuietMs: 0 }, 'inputs[0].drainQuietMs'],
    [{ type: 'udp', maxPendingConnections: 10 }, 'inputs[0].maxPendingConnections'],
  ])('names the key of a bad value: %j', (raw, key) => {
    expect(() => validateInputConfig(raw, 'inputs[0]')).toThrow(expect.objectContaining({ key }));
  });
});
