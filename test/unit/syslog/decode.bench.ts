// Micro-benchmark, not a test: `npx vitest bench --run test/unit/syslog/decode.bench.ts`.
// Each iteration decodes 1000 frames, so the mean in ms is the per-frame time in µs.
import { bench, describe } from 'vitest';
import { createSyslogDecoder, decodeSyslog } from '../../../src/syslog/decode.js';

const tail =
  'IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=192.0.2.2 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ';
const lines = {
  rfc3164: `<4>Nov 26 14:20:01 fw1 kernel: iptables-dropped: ${tail}`,
  rfc3164Printk: `<4>Nov 26 14:20:01 fw1 kernel: [12345.678901] iptables-dropped: ${tail}`,
  rfc5424: `<4>1 2026-11-26T14:19:13.283484+00:00 fw1 kernel - - -  iptables-dropped: ${tail}\n`,
  rfc5424Sd: `<12>1 2026-11-26T14:19:40+00:00 vm kernel - 1079 [meta sequenceId="1"] iptables-dropped: ${tail}\n`,
  kmsg: `4,345,296341291,-;iptables-dropped: ${tail}`,
  bare: `iptables-dropped: ${tail}`,
};
const berlin = createSyslogDecoder({ timezone: 'Europe/Berlin' });
const buf = Buffer.from(lines.rfc3164);

const N = 1000;
let sink = 0;
function times(fn: () => { msg: string }): () => void {
  return () => {
    for (let i = 0; i < N; i++) sink += fn().msg.length;
  };
}

describe('decodeSyslog x1000', () => {
  for (const [name, line] of Object.entries(lines)) bench(name, times(() => decodeSyslog(line)));
  bench('rfc3164 Europe/Berlin', times(() => berlin(lines.rfc3164)));
  bench('rfc3164 from Buffer', times(() => decodeSyslog(buf)));
  bench('sink', () => void (sink > 0));
});
