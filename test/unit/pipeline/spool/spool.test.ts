/**
 * The spool on its own: append / read / acknowledge, segment rotation and deletion, recovery
 * across a reopen (acknowledged batches stay gone, the rest comes back in order), damage from a
 * crash mid-write or a flipped bit (skipped, counted, the rest recovered), the lock, the bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSpoolConfig, validateSpoolConfig, defaultStateDirectory, type SpoolConfig } from '../../../../src/pipeline/spool/spool-config.js';
import { decodeRecord, encodeRecord, type SpoolBatch } from '../../../../src/pipeline/spool/spool-record.js';
import { Spool, SpoolLockedError, spoolSegmentFiles } from '../../../../src/pipeline/spool/spool.js';
import { waitFor } from '../../../helpers/wait.js';

const dirs: string[] = [];
const open: Spool[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'spool-test-'));
  dirs.push(d);
  return d;
}
function config(dir: string, over: Partial<SpoolConfig> = {}): SpoolConfig {
  return resolveSpoolConfig({ directory: dir, segmentBytes: 64 * 1024, maxBytes: 1024 * 1024, fsync: 'never', ...over });
}
function openSpool(cfg: SpoolConfig, observer = {}): Spool {
  const s = Spool.open(cfg, { observer });
  open.push(s);
  return s;
}

/** A batch of `n` frames `frame <tag>-<i>`, with two receive contexts. */
function batch(tag: string, n: number): SpoolBatch {
  const frames = Array.from({ length: n }, (_, i) => Buffer.from(`frame ${tag}-${i}`));
  const bytes = Buffer.concat(frames);
  const ends = new Uint32Array(n);
  let at = 0;
  frames.forEach((f, i) => (ends[i] = at += f.length));
  const half = Math.floor(n / 2);
  return {
    bytes,
    ends,
    count: n,
    ctxs: [
      { transport: 'tcp', peerAddress: '192.0.2.1', peerPort: 5000, receivedAt: [1_700_000_000, 5] },
      { transport: 'udp', peerAddress: '2001:db8::1', receivedAt: [1_700_000_001, 0] },
    ],
    ctxFirst: [0, half],
  };
}
function framesOf(b: SpoolBatch): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < b.count; i++) {
    out.push(Buffer.from(b.bytes.subarray(start, b.ends[i])).toString());
    start = b.ends[i]!;
  }
  return out;
}

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('spool record', () => {
  it('round-trips frames, ends and receive contexts, and rejects any flipped byte', () => {
    const b = batch('a', 7);
    const { parts, length } = encodeRecord(b, 42);
    const buf = Buffer.concat(parts);
    expect(buf.length).toBe(length);
    const rec = decodeRecord(buf, 0, 16);
    expect(rec.ok).toBe(true);
    if (!rec.ok) return;
    expect(rec.index).toBe(42);
    expect(rec.batch.ends.length).toBe(16);
    expect(framesOf(rec.batch)).toEqual(framesOf(b));
    expect(rec.batch.ctxs).toEqual(b.ctxs);
    expect(rec.batch.ctxFirst).toEqual([0, 3]);
    for (const at of [1, 5, 9, 13, 17, 21, 30, length - 1]) {
      const bad = Buffer.from(buf);
      bad[at] = bad[at]! ^ 0x10;
      expect(decodeRecord(bad, 0).ok, `byte ${at}`).toBe(false);
    }
    expect(decodeRecord(buf.subarray(0, length - 1), 0)).toEqual({ ok: false, reason: 'truncated' });
  });
});

describe('Spool', () => {
  it('reads back what it wrote, counts frames until acknowledged, and deletes a sealed segment once all of it is acknowledged', async () => {
    const dir = tmp();
    const s = openSpool(config(dir));
    const refs = Array.from({ length: 40 }, (_, i) => s.append(batch(`b${i}`, 100)));
    expect(s.frames).toBe(4000);
    // 40 batches of ~2.6 KB in 64 KiB segments: more than one segment.
    const files = spoolSegmentFiles(dir);
    expect(files.length).toBeGreaterThan(1);
    expect(framesOf(s.read(refs[17]!))).toEqual(framesOf(batch('b17', 100)));
    const first = refs.filter((r) => r.segment === refs[0]!.segment);
    for (const r of first) s.ack(r);
    expect(s.frames).toBe(4000 - first.length * 100);
    // Deleted off the main thread: the segment first, then its ack file.
    await waitFor(() => !existsSync(files[0]!.replace(/\.seg$/, '.ack')), { timeoutMs: 5000, what: 'the acknowledged segment deleted' });
    expect(existsSync(files[0]!)).toBe(false);
    expect(existsSync(files[1]!)).toBe(true);
  });

  it('after a restart hands back exactly the batches not acknowledged, oldest first', async () => {
    const dir = tmp();
    const s = openSpool(config(dir));
    const refs = Array.from({ length: 30 }, (_, i) => s.append(batch(`b${i}`, 50)));
    // Out of order, as workers finish: every third batch acknowledged.
    for (let i = 29; i >= 0; i--) if (i % 3 === 0) s.ack(refs[i]!);
    // No close(): a SIGKILL leaves the lock and the files as they are.
    writeFileSync(join(dir, 'lock'), '999999999\n');
    open.splice(open.indexOf(s), 1);
    const again = openSpool(config(dir));
    const back = again.recovery.refs.map((r) => framesOf(again.read(r))[0]);
    expect(back).toEqual(refs.map((_, i) => i).filter((i) => i % 3 !== 0).map((i) => `frame b${i}-0`));
    expect(again.recovery.frames).toBe(20 * 50);
    expect(again.recovery.corruptBytes).toBe(0);
    expect(again.frames).toBe(20 * 50);
    // New batches go to a new segment after the recovered ones.
    const next = again.append(batch('new', 1));
    expect(next.segment.id).toBeGreaterThan(Math.max(...again.recovery.refs.map((r) => r.segment.id)));
    // Acknowledging everything recovered deletes those segments.
    for (const r of again.recovery.refs) again.ack(r);
    await waitFor(() => spoolSegmentFiles(dir).length === 1, { timeoutMs: 5000, what: 'the acknowledged segments deleted' });
    expect(spoolSegmentFiles(dir)).toEqual([next.segment.path]);
  });

  it('a segment damaged mid-file and torn at its end: the damage is skipped and counted, every other batch comes back', () => {
    const dir = tmp();
    const s = openSpool(config(dir, { segmentBytes: 1024 * 1024 }));
    const refs = Array.from({ length: 10 }, (_, i) => s.append(batch(`b${i}`, 20)));
    s.close();
    open.splice(open.indexOf(s), 1);
    const file = spoolSegmentFiles(dir)[0]!;
    const data = readFileSync(file);
    // Flip one byte inside batch 4's frames, then tear batch 9 (a crash mid-write).
    const hit = refs[4]!.offset + refs[4]!.length - 10;
    data[hit] = data[hit]! ^ 0xff;
    writeFileSync(file, data);
    truncateSync(file, refs[9]!.offset + 30);
    // And garbage appended after it, as a full disk may leave.
    appendFileSync(file, Buffer.alloc(100, 0));
    const corrupt: number[] = [];
    const again = openSpool(config(dir, { segmentBytes: 1024 * 1024 }), { corrupt: (n: number) => corrupt.push(n) });
    const back = again.recovery.refs.map((r) => framesOf(again.read(r))[0]);
    expect(back).toEqual([0, 1, 2, 3, 5, 6, 7, 8].map((i) => `frame b${i}-0`));
    expect(again.recovery.corruptBytes).toBe(refs[4]!.length + 30 + 100);
    expect(corrupt).toEqual([refs[4]!.length + 30 + 100]);
  });

  it('refuses a directory another live process holds, and takes over a stale lock', () => {
    const dir = tmp();
    openSpool(config(dir));
    expect(() => Spool.open(config(dir))).toThrow(SpoolLockedError);
    const other = tmp();
    // pid 1 is alive (init): held by another process.
    writeFileSync(join(other, 'lock'), '1\n');
    expect(() => Spool.open(config(other))).toThrow(/in use by process 1/);
    writeFileSync(join(other, 'lock'), '999999999\n');
    expect(() => openSpool(config(other))).not.toThrow();
  });

  it('is full at maxBytes, and is no longer full once acknowledged segments are deleted', () => {
    const dir = tmp();
    const s = openSpool(config(dir, { maxBytes: 256 * 1024 }));
    const refs = [];
    while (!s.full) refs.push(s.append(batch(`x${refs.length}`, 200)));
    expect(s.bytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(s.bytes).toBeLessThan(256 * 1024 + 64 * 1024);
    for (const r of refs.slice(0, refs.length >> 1)) s.ack(r);
    expect(s.full).toBe(false);
  });

  it('close() keeps unacknowledged batches and removes the lock and a fully acknowledged active segment', () => {
    const dir = tmp();
    const s = openSpool(config(dir));
    const a = s.append(batch('a', 3));
    s.ack(a);
    s.close();
    open.splice(open.indexOf(s), 1);
    expect(spoolSegmentFiles(dir)).toEqual([]);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('the oldest record age is the receive time of the oldest batch not acknowledged', () => {
    const s = openSpool(config(tmp()));
    expect(s.oldestReceivedAtMs()).toBeUndefined();
    const a = s.append(batch('a', 2));
    const b = { ...batch('b', 2), ctxs: [{ transport: 'tcp' as const, receivedAt: [1_800_000_000, 0] as [number, number] }], ctxFirst: [0] };
    s.append(b);
    expect(s.oldestReceivedAtMs()).toBe(1_700_000_000_000);
    s.ack(a);
    expect(s.oldestReceivedAtMs()).toBe(1_800_000_000_000);
  });
});

describe('spool config', () => {
  it('defaults: systemd StateDirectory, root, then the per-user state directory', () => {
    expect(defaultStateDirectory({ STATE_DIRECTORY: '/var/lib/iptables-otel:/other' })).toBe('/var/lib/iptables-otel');
    const isRoot = process.getuid?.() === 0;
    expect(defaultStateDirectory({ XDG_STATE_HOME: '/x/state' })).toBe(isRoot ? '/var/lib/iptables-otel' : '/x/state/iptables-otel');
    const c = resolveSpoolConfig({}, { STATE_DIRECTORY: '/s' });
    expect(c).toEqual({ enabled: true, directory: '/s/spool', maxBytes: 1024 ** 3, segmentBytes: 16 * 1024 ** 2, fsync: 'interval', fsyncIntervalMs: 100 });
    expect(validateSpoolConfig(c)).toEqual([]);
  });

  it('validation names the key', () => {
    const c = resolveSpoolConfig({ segmentBytes: 1000, fsync: 'sometimes' as never, maxBytes: 100 }, { STATE_DIRECTORY: '/s' });
    expect(validateSpoolConfig(c).map((i) => i.key)).toEqual(['pipeline.spool.segmentBytes', 'pipeline.spool.maxBytes', 'pipeline.spool.fsync']);
    expect(validateSpoolConfig({ ...c, enabled: false })).toEqual([]);
  });
});
