import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRequirement, requirement, shouldRun } from '../../helpers/requirements.js';
import { hasLogger, sendWithLogger } from '../../helpers/peers.js';
import { createInput } from '../../../src/input/create-input.js';
import type { Input } from '../../../src/input/input.js';
import { validateInputConfig } from '../../../src/input/input-config.js';
import { parseFrame } from '../../../src/mapping/parse-frame.js';
import { Metrics } from '../../../src/ops/metrics.js';
import { CaptureSink, waitFor } from '../../unit/input/capture-sink.js';
import { lines, runId } from './sender-harness.js';

const req = requirement(hasLogger(), 'util-linux logger is not installed');

/** The listeners with the real decoder: frames from a real sender become parsed records. */
describe.skipIf(!shouldRun(req))('inputs with parseFrame as the decoder', () => {
  const sink = new CaptureSink();
  const inputs: Input[] = [];
  beforeAll(async () => {
    assertRequirement(req);
    for (const type of ['udp', 'tcp']) {
      const input = createInput(validateInputConfig({ type, port: 0 }), { decode: (f, ctx) => parseFrame(f, ctx), sink, metrics: new Metrics() });
      await input.start();
      inputs.push(input);
    }
  });
  afterAll(async () => {
    for (const i of inputs) await i.stop();
  });

  it.each([
    ['udp', 0, ['--udp']],
    ['tcp', 1, ['--tcp', '--octet-count']],
  ] as const)('%s: every logger message becomes a record with the peer and the packet fields', async (_t, idx, flags) => {
    const run = runId();
    await sendWithLogger([...flags, '-n', '127.0.0.1', '-P', String(inputs[idx]!.address()!.port), '-t', 'kernel'], lines(run));
    const mine = () => sink.records.filter((r) => r.body.includes(`run=${run} `));
    await waitFor(() => mine().length === 30, '30 records');
    for (const r of mine()) {
      expect(r.attributes['error.type']).toBeUndefined();
      expect(r.attributes['network.peer.address']).toBe('127.0.0.1');
      expect(JSON.stringify(r.attributes)).toContain('198.51.100.1');
    }
  });
});
