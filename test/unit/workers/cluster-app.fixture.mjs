// A tiny service run under runWorkers() by workers.test.ts (copied next to the
// transpiled workers.mjs). Behaviour is driven by environment variables.
import net from 'node:net';
import dgram from 'node:dgram';
import { runWorkers, WORKER_INDEX_ENV } from './workers.mjs';

const count = Number(process.env.WORKERS ?? '2');
const tcpPort = Number(process.env.TCP_PORT);
const udpPort = process.env.UDP_PORT ? Number(process.env.UDP_PORT) : undefined;
const index = Number(process.env[WORKER_INDEX_ENV] ?? '-1');
const say = (line) => process.stdout.write(`${line}\n`);

async function start() {
  if (process.env.FAIL_WORKER === String(index)) throw new Error(`boom in ${index}`);
  const server = net.createServer((s) => s.end(`${index} ${process.pid}\n`));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(tcpPort, '127.0.0.1', resolve);
  });
  let udp;
  if (udpPort !== undefined) {
    udp = dgram.createSocket('udp4');
    udp.on('message', (m) => say(`udp ${index} ${m.toString()}`));
    await new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(udpPort, '127.0.0.1', resolve);
    });
  }
  process.on('SIGHUP', () => say(`hup ${index}`));
  // The test sends SIGUSR2 once everything is up, to simulate a crash at a known moment.
  if (process.env.CRASH_WORKER === String(index)) process.on('SIGUSR2', () => process.exit(3));
  say(`worker-ready ${index} ${process.pid}`);
  return {
    async stop() {
      await new Promise((r) => server.close(() => r()));
      udp?.close();
      say(`stopped ${index}`);
    },
  };
}

// A worker that boots slowly (before runWorkers listens for the primary's messages).
if (process.env.BOOT_DELAY_WORKER === String(index)) await new Promise((r) => setTimeout(r, 1000));

try {
  const stopTimeoutMs = Number(process.env.STOP_TIMEOUT_MS ?? '5000');
  const handle = await runWorkers({ count, start, stopTimeoutMs, startTimeoutMs: 20000 });
  if (handle.role !== 'worker') say(`ready ${handle.role}`);
  const code = await handle.done;
  if (handle.role !== 'worker') say(`exit ${code}`);
  process.exitCode = code;
} catch (err) {
  say(`start-failed ${index} ${err.message}`);
  process.exitCode = 1;
}
