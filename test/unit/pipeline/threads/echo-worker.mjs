// A stand-in pipeline worker for tests: it reports each batch it receives (frames as latin1
// text, one context range per read) in a `log` message and acknowledges it at once.
import { parentPort } from 'node:worker_threads';

let delivered = 0;
parentPort.postMessage({ t: 'ready' });
parentPort.on('message', (msg) => {
  if (msg.t === 'batch') {
    const bytes = Buffer.from(msg.bytes);
    const ends = new Uint32Array(msg.ends);
    const frames = [];
    for (let i = 0; i < msg.count; i++) frames.push(bytes.toString('latin1', i === 0 ? 0 : ends[i - 1], ends[i]));
    const reads = msg.ctxs.map((ctx, k) => ({ peerPort: ctx.peerPort, first: msg.ctxFirst[k] }));
    parentPort.postMessage({ t: 'log', level: 'info', msg: 'batch', fields: { frames, reads, urgent: msg.urgent } });
    delivered += msg.count;
    parentPort.postMessage({ t: 'done', count: 1 });
  } else if (msg.t === 'shutdown') {
    parentPort.postMessage({ t: 'stopped', delivered, undelivered: 0 });
    process.exit(0);
  }
});
