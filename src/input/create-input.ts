import type { Input } from './input.js';
import type { InputConfig } from './input-config.js';
import type { InputDeps } from './input-deps.js';
import { RelpInput } from './relp-input.js';
import { TcpInput } from './tcp-input.js';
import { TlsInput } from './tls-input.js';
import { UdpInput } from './udp-input.js';

/** Create the listener for a validated config (see `validateInputConfig()`); call `start()` to bind. */
export function createInput(config: InputConfig, deps: InputDeps): Input {
  switch (config.type) {
    case 'udp':
      return new UdpInput(config, deps);
    case 'tcp':
      return new TcpInput(config, deps);
    case 'tls':
      return new TlsInput(config, deps);
    case 'relp':
      return new RelpInput(config, deps);
  }
}

/**
 * Start several listeners. If one fails to bind, the ones already started are
 * stopped again and the error is rethrown.
 */
export async function startInputs(inputs: Input[]): Promise<void> {
  const started: Input[] = [];
  try {
    for (const input of inputs) {
      await input.start();
      started.push(input);
    }
  } catch (err) {
    await Promise.allSettled(started.map((i) => i.stop()));
    throw err;
  }
}
