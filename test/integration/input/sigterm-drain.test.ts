/**
 * SIGTERM right after a sender wrote its last line: the service stops accepting, reads
 * what the connection (and the kernel) still holds, and delivers every line before it
 * exits. Before the drain, the inputs destroyed their sockets with bytes unread.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpSink, type OtlpSink } from '../../helpers/otlp-sink.js';
import { ensureBuilt, startServiceProcess } from '../service/service-process.js';

const LINES = 100_000;
const line = (i: number): string =>
  `<4>Nov 26 14:20:01 fw1 kernel: iptables-dropped: IN=eth0 OUT= SRC=192.0.2.9 DST=198.51.100.7 LEN=40 TTL=64 ID=${i} PROTO=TCP SPT=5555 DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0 \n`;

describe('SIGTERM drain', () => {
  let sink: OtlpSink;
  beforeAll(async () => {
    ensureBuilt();
    sink = await startOtlpSink();
  }, 300_000);
  afterAll(async () => {
    await sink?.stop();
  });

  it(`delivers all ${LINES} lines when SIGTERM follows the sender's last write`, async () => {
    const svc = await startServiceProcess(
      [
        'inputs:',
        '  - tcp: {host: 127.0.0.1, port: 0}',
        'outputs:',
        `  - otlp: {endpoint: "http://127.0.0.1:${sink.port}"}`,
        // A deadline long enough for the test's sink on a loaded machine: what is measured is the input's drain.
        'pipeline: {batch: {linger: 5ms}, shutdownDeadline: 90s}',
        'ops: {address: "127.0.0.1:0"}',
      ].join('\n'),
    );
    const s = net.connect(svc.port('tcp'), '127.0.0.1');
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('connect', () => r()));
    let i = 0;
    await new Promise<void>((resolve) => {
      const go = (): void => {
        while (i < LINES) {
          let chunk = '';
          for (let k = 0; k < 500 && i < LINES; k++) chunk += line(i++);
          if (i === LINES) {
            // SIGTERM as soon as the last bytes are in the kernel, most of them not read yet.
            s.write(chunk, () => {
              svc.kill('SIGTERM');
              resolve();
            });
            return;
          }
          if (!s.write(chunk)) {
            s.once('drain', go);
            return;
          }
        }
      };
      go();
    });
    const exit = await svc.exited;
    s.destroy();
    const problems = svc.logs().filter((l) => ['warn', 'error'].includes(String(l.level)));
    expect(problems.map((l) => String(l.msg))).toEqual([]);
    expect(exit.code).toBe(0);
    const ids = new Set<number>();
    for (const r of sink.records) {
      const m = /ID=(\d+) /.exec(JSON.stringify(r));
      if (m) ids.add(Number(m[1]));
    }
    expect(ids.size).toBe(LINES);
  }, 240_000);
});
