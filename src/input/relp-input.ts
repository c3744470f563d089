import net from 'node:net';
import type { Framer, FramerOptions } from '../framing/framer.js';
import { RelpFramer } from '../framing/relp.js';
import type { RelpInputConfig } from './input-config.js';
import type { InputDeps } from './input-deps.js';
import { formatListenUrl } from './listen-url.js';
import { StreamInput } from './stream-input.js';

/** `relp_software` we offer (informational; librelp only logs it). */
const SOFTWARE = 'iptables-otel';

/**
 * RELP listener (rsyslog `omrelp`): the TCP listener's connection limit, idle timeout,
 * backpressure, partial-frame budget and drain, with a RELP session per connection.
 *
 * When a message counts as received: its `rsp 200 OK` is sent after the read that brought
 * it was handed to the frame sink. With the spool (the default) that hand-over writes the
 * read's frames to the spool before it returns (`ThreadedPipeline.offered()` cuts a batch per
 * stream read), so an answered message survives a SIGKILL of the service; an unanswered one
 * is still held by rsyslog, which resends it on its next session: at-least-once, and the
 * duplicates are the messages read and spooled whose answer the kill prevented. Without the
 * spool the answer means "in the in-memory queue" only.
 *
 * Backpressure: when the sink is full the connection stops being read, as for TCP; what
 * rsyslog sends meanwhile waits in its RELP window (unanswered) and its action queue.
 */
export class RelpInput extends StreamInput {
  constructor(config: RelpInputConfig, deps: InputDeps) {
    super('relp', config.name ?? formatListenUrl('relp', config.host, config.port), config, deps);
  }

  protected override createServer(): net.Server {
    // As for TCP: not read before accept() gives it a slot; a paused socket does not read ahead.
    return net.createServer({ noDelay: true, pauseOnConnect: true, highWaterMark: 0 }, (socket) => this.accept(socket));
  }

  protected override newFramer(options: FramerOptions): Framer {
    return new RelpFramer({ ...options, software: SOFTWARE });
  }

  /** Answer what the read completed (its frames are now safe); end a closed, broken or stopped session. */
  protected override afterDelivery(socket: net.Socket, framer: Framer): void {
    const relp = framer as RelpFramer;
    const replies = relp.takeReplies();
    if (socket.destroyed) return;
    if (replies !== undefined) socket.write(replies);
    if (!relp.closing) return;
    // Ended by us (stop, budget cut): librelp's hint to close the session and reconnect.
    if (relp.endedByServer && socket.writable) socket.write(RelpFramer.serverClose());
    socket.end();
  }
}
