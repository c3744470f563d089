import net from 'node:net';
import type { TcpInputConfig } from './input-config.js';
import type { InputDeps } from './input-deps.js';
import { formatListenUrl } from './listen-url.js';
import { StreamInput } from './stream-input.js';

/**
 * TCP syslog listener (RFC 6587): framing per connection (`auto` by default),
 * connection limit, idle timeout, pause/resume on the sink's backpressure.
 */
export class TcpInput extends StreamInput {
  constructor(config: TcpInputConfig, deps: InputDeps) {
    super('tcp', config.name ?? formatListenUrl('tcp', config.host, config.port), config, deps);
  }

  protected override createServer(): net.Server {
    // pauseOnConnect: a socket is not read before accept() decides it has a slot.
    // highWaterMark 0: a paused socket does not read ahead to fill its stream buffer (see stop-reading.ts).
    return net.createServer({ noDelay: true, pauseOnConnect: true, highWaterMark: 0 }, (socket) => this.accept(socket));
  }
}

/** Create a TCP listener (not yet bound: call `start()`). */
export function createTcpInput(config: TcpInputConfig, deps: InputDeps): TcpInput {
  return new TcpInput(config, deps);
}
