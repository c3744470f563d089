/**
 * Sequence-numbered firewall lines for the chaos suites: each line carries its number in ID and
 * SPT, so what the sink received can be tallied into unique, duplicate and missing lines.
 */
import type { NormRecord, OtlpSink } from '../../helpers/otlp-sink.js';

/** Line `seq`: ID and SPT together carry the sequence number. */
export function line(seq: number): string {
  return `iptables-dropped: IN=eth0 OUT= SRC=192.0.2.${1 + (seq % 250)} DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${seq % 65536} DF PROTO=TCP SPT=${1024 + Math.floor(seq / 65536)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0`;
}

/** The sequence number of a received record, or -1 when it has none. */
export function seqOf(r: NormRecord): number {
  const body = r.body !== null && 'string' in r.body ? r.body.string : '';
  const m = / ID=(\d+) .* SPT=(\d+) /.exec(body);
  return m ? (Number(m[2]) - 1024) * 65536 + Number(m[1]) : -1;
}

/** What the sink received of lines `0 .. n-1`. */
export interface Tally {
  unique: number;
  duplicates: number;
  missing: number[];
  /** Records that are not one of the lines. */
  stray: number;
}

/** Unique, duplicate and missing sequence numbers among what the sink received. */
export function tally(sink: OtlpSink, n: number): Tally {
  const seen = new Uint32Array(n);
  let stray = 0;
  for (const r of sink.records) {
    const s = seqOf(r);
    if (s >= 0 && s < n) seen[s]!++;
    else stray++;
  }
  let unique = 0;
  let duplicates = 0;
  const missing: number[] = [];
  seen.forEach((c, i) => {
    if (c > 0) unique++;
    if (c > 1) duplicates += c - 1;
    if (c === 0) missing.push(i);
  });
  return { unique, duplicates, missing, stray };
}
