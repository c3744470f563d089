/**
 * Experiment, not the product: how fast can ONE TCP connection go if the work is
 * spread over threads the way rsyslog does it? The main thread only reads the
 * socket and cuts the stream at the last LF of each chunk; worker threads get the
 * raw bytes (transferred, not cloned), frame, parse (src/mapping/parse-frame.ts),
 * encode (src/output/otlp-protobuf.ts) and POST OTLP/protobuf themselves.
 * It skips the pipeline's queue, retries, metrics and octet-counting, so it is an
 * upper bound for that architecture with today's parser and encoder.
 *
 * Run: node dist/bench/e2e/threaded-prototype.js PORT ENDPOINT THREADS
 */
import { createServer, type Socket } from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseFrame } from '../../src/mapping/parse-frame.js';
import { OtlpProtobufEncoder } from '../../src/output/otlp-protobuf.js';
import type { FirewallLogRecord, ReceiveContext } from '../../src/mapping/record.js';

interface Job {
  id: number;
  bytes: ArrayBuffer;
  peerAddress: string;
  peerPort: number;
}

const BATCH = 1024;
/** Chunks a thread may hold before the socket is paused. */
const MAX_OUTSTANDING = 8;

function workerMain(): void {
  const { endpoint } = workerData as { endpoint: string };
  const url = new URL(endpoint.replace(/\/$/, '') + '/v1/logs');
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  const encoder = new OtlpProtobufEncoder({ 'service.name': 'iptables-otel' }, { name: 'iptables-otel', version: 'prototype' });
  let records: FirewallLogRecord[] = [];
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const post = (body: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const flush = async (): Promise<void> => {
    if (records.length === 0) return;
    const body = encoder.encode(records);
    records = [];
    while (inFlight >= 2) await new Promise<void>((r) => waiting.push(r));
    inFlight++;
    void post(body)
      .catch((e: unknown) => process.stderr.write(`prototype: export failed: ${String(e)}\n`))
      .finally(() => {
        inFlight--;
        waiting.shift()?.();
      });
  };
  parentPort!.on('message', (job: Job) => {
    void (async () => {
      const buf = Buffer.from(job.bytes);
      const ctx: ReceiveContext = { transport: 'tcp', peerAddress: job.peerAddress, peerPort: job.peerPort };
      let start = 0;
      for (let i = buf.indexOf(10, 0); i !== -1; i = buf.indexOf(10, start)) {
        if (i > start) {
          records.push(parseFrame(buf.subarray(start, i), ctx));
          if (records.length >= BATCH) await flush();
        }
        start = i + 1;
      }
      await flush();
      parentPort!.postMessage(job.id);
    })();
  });
}

function mainThread(): void {
  const [portArg, endpoint, threadsArg] = process.argv.slice(2);
  const threads = Math.max(1, Number(threadsArg ?? 2));
  const workers = Array.from({ length: threads }, () => new Worker(fileURLToPath(import.meta.url), { workerData: { endpoint } }));
  const outstanding = workers.map(() => 0);
  const paused = new Set<Socket>();
  let next = 0;
  let jobId = 0;
  const total = () => outstanding.reduce((a, b) => a + b, 0);
  workers.forEach((w, i) =>
    w.on('message', () => {
      outstanding[i]!--;
      if (total() < MAX_OUTSTANDING * threads) for (const s of paused) (paused.delete(s), s.resume());
    }),
  );
  const server = createServer((sock) => {
    let carry: Buffer | undefined;
    const peerAddress = sock.remoteAddress ?? '';
    const peerPort = sock.remotePort ?? 0;
    const ship = (data: Buffer) => {
      // One copy into a transferable buffer; the worker gets it without cloning.
      const ab = new ArrayBuffer(data.length);
      new Uint8Array(ab).set(data);
      const i = next++ % threads;
      outstanding[i]!++;
      workers[i]!.postMessage({ id: jobId++, bytes: ab, peerAddress, peerPort } satisfies Job, [ab]);
      if (total() >= MAX_OUTSTANDING * threads) (paused.add(sock), sock.pause());
    };
    sock.on('data', (chunk: Buffer) => {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const last = data.lastIndexOf(10);
      if (last === -1) {
        carry = data;
        return;
      }
      carry = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : undefined;
      ship(data.subarray(0, last + 1));
    });
    sock.on('end', () => {
      if (carry) ship(Buffer.concat([carry, Buffer.from('\n')]));
      carry = undefined;
    });
    sock.on('error', () => {});
  });
  server.listen(Number(portArg), '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    // Give in-flight exports a moment; the benchmark only stops it after the last record arrived.
    setTimeout(() => process.exit(0), 200).unref();
    void Promise.all(workers.map((w) => w.terminate())).then(() => process.exit(0));
  });
}

if (isMainThread) mainThread();
else workerMain();
