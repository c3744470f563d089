/**
 * The benchmark's sender: streams an LF-framed file over one TCP connection per
 * file. `nc -N` (netcat-openbsd) is used when installed, so the sender is a
 * separate, C-speed process; otherwise a node sender writes 1 MiB chunks.
 */
import { spawn } from 'node:child_process';
import { createReadStream, openSync, closeSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { hasCommandOnPath } from './spawn-util.js';

/** Which sender is in use. */
export function senderName(): string {
  return hasCommandOnPath('nc') ? 'nc -N (netcat-openbsd)' : 'node (1 MiB chunks)';
}

function sendWithNc(path: string, port: number): Promise<void> {
  const fd = openSync(path, 'r');
  const child = spawn('nc', ['-N', '127.0.0.1', String(port)], { stdio: [fd, 'ignore', 'pipe'] });
  closeSync(fd);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nc exited ${code}: ${err.trim()}`))));
  });
}

async function sendWithNode(path: string, port: number): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  const rs = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of rs) {
    if (!sock.write(chunk as Buffer)) await once(sock, 'drain');
  }
  sock.end();
  await once(sock, 'close');
}

/**
 * Send each file over its own connection, all at once. Resolves when every
 * sender has finished writing (the receiver may still be processing).
 */
export async function sendFiles(paths: readonly string[], port: number): Promise<void> {
  const useNc = hasCommandOnPath('nc');
  await Promise.all(paths.map((p) => (useNc ? sendWithNc(p, port) : sendWithNode(p, port))));
}

/**
 * Rate of the sender alone: the files into a TCP server that discards the bytes.
 * Returns lines per second (lines = total lines across the files).
 */
export async function measureSenderRate(paths: readonly string[], lines: number): Promise<number> {
  const total = paths.reduce((n, p) => n + statSync(p).size, 0);
  let received = 0;
  let done: () => void = () => {};
  const allIn = new Promise<void>((r) => (done = r));
  const server = createServer((s) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= total) done();
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const t0 = performance.now();
  await Promise.all([sendFiles(paths, port), allIn]);
  const secs = (performance.now() - t0) / 1000;
  server.close();
  return lines / secs;
}
