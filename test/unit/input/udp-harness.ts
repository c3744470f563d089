import { Metrics } from '../../../src/ops/metrics.js';
import { UDP_INPUT_DEFAULTS, type UdpInputConfig } from '../../../src/input/input-config.js';
import { createUdpInput } from '../../../src/input/udp-input.js';
import { CaptureSink, textDecoder } from './capture-sink.js';
import { captureLogger, cleanups } from './stream-harness.js';

/** A started UDP input named `udp-test` on a free port, into a CaptureSink; stopped by `runCleanups`. */
export async function startUdp(over: Partial<UdpInputConfig> = {}) {
  const sink = new CaptureSink();
  const metrics = new Metrics();
  const { logs, logger } = captureLogger();
  const input = createUdpInput({ type: 'udp', ...UDP_INPUT_DEFAULTS, port: 0, name: 'udp-test', ...over }, { decode: textDecoder, sink, metrics, logger });
  await input.start();
  cleanups.push(() => input.stop());
  return { input, sink, metrics, logs, port: input.address()!.port };
}
