import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AckRouter } from '../../../../src/input/ack-router.js';
import { AckTracker } from '../../../../src/input/ack-tracker.js';
import { CheckpointError, CheckpointStore } from '../../../../src/input/checkpoint-store.js';

describe('AckTracker', () => {
  it('advances only over the contiguous acknowledged prefix (acknowledgements out of order)', () => {
    const seen: number[] = [];
    const t = new AckTracker<number>('k', (p) => seen.push(p));
    const a = t.track(1, 10);
    const b = t.track(1, 11);
    const c = t.track(1, 12);
    expect(t.outstanding).toBe(3);
    t.acknowledged(c.id, 1);
    t.acknowledged(b.id, 1);
    expect(seen).toEqual([]);
    t.acknowledged(a.id, 1);
    expect(seen).toEqual([12]);
    expect(t.outstanding).toBe(0);
  });
  it('waits for every frame of a mark split across batches', () => {
    const seen: number[] = [];
    const t = new AckTracker<number>('k', (p) => seen.push(p));
    const a = t.track(5, 100);
    t.acknowledged(a.id, 3);
    expect(seen).toEqual([]);
    t.acknowledged(a.id, 2);
    expect(seen).toEqual([100]);
  });
  it('ignores unknown and already acknowledged ids', () => {
    const seen: number[] = [];
    const t = new AckTracker<number>('k', (p) => seen.push(p));
    const a = t.track(1, 1);
    t.acknowledged(a.id + 5, 1);
    t.acknowledged(0, 1);
    t.acknowledged(a.id, 1);
    t.acknowledged(a.id, 1);
    expect(seen).toEqual([1]);
    expect(t.outstanding).toBe(0);
  });
  it('keeps working across compaction of many marks', () => {
    let last = -1;
    const t = new AckTracker<number>('k', (p) => (last = p));
    const marks = Array.from({ length: 5000 }, (_, i) => t.track(1, i));
    for (const m of marks.slice(0, 3000)) t.acknowledged(m.id, 1);
    expect(last).toBe(2999);
    const more = t.track(1, 5000);
    for (const m of marks.slice(3000).reverse()) t.acknowledged(m.id, 1);
    expect(last).toBe(4999);
    t.acknowledged(more.id, 1);
    expect(last).toBe(5000);
  });
  it('the router reports one advance per tracker and batch (one checkpoint per batch, not per line)', () => {
    const seen: number[] = [];
    const router = new AckRouter();
    const t = new AckTracker<number>('k', (p) => seen.push(p));
    router.register(t as AckTracker<unknown>);
    const marks = [t.track(1, 1), t.track(1, 2), t.track(1, 3), t.track(1, 4)];
    router.acknowledged(marks.slice(0, 3).map((m) => ({ source: m })), [1, 1, 1]);
    expect(seen).toEqual([3]);
    router.acknowledged([{ source: marks[3]! }], [1]);
    expect(seen).toEqual([3, 4]);
  });
  it('gets acknowledgements through the router by input name, with per-context frame counts', () => {
    const seen: string[] = [];
    const router = new AckRouter();
    const t1 = new AckTracker<string>('one', (p) => seen.push(p));
    const t2 = new AckTracker<string>('two', (p) => seen.push(p));
    router.register(t1 as AckTracker<unknown>);
    router.register(t2 as AckTracker<unknown>);
    const m1 = t1.track(2, 'one@2');
    const m2 = t2.track(1, 'two@1');
    router.acknowledged([{ source: m1 }, { transport: 'udp' }, { source: m2 }], [2, 7, 1]);
    expect(seen).toEqual(['one@2', 'two@1']);
    router.unregister(t1 as AckTracker<unknown>);
    const m3 = t1.track(1, 'one@3');
    router.acknowledged([{ source: m3 }], [1]);
    expect(seen).toEqual(['one@2', 'two@1']);
  });
});

describe('CheckpointStore', () => {
  it('writes atomically (no temporary file left) and reads back; no file = undefined', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'ckpt-')), 'checkpoints');
    const store = new CheckpointStore(dir);
    expect(store.read('kmsg://')).toBeUndefined();
    await store.write('kmsg://', { bootId: 'b', seq: 5 });
    expect(store.read('kmsg://')).toEqual({ bootId: 'b', seq: 5 });
    expect(readdirSync(dir)).toEqual([path.basename(store.fileOf('kmsg://'))]);
    // Distinct names that sanitise alike get distinct files.
    expect(store.fileOf('a/b')).not.toBe(store.fileOf('a:b'));
  });
  it('save() coalesces: the newest value wins and idle() waits for it', async () => {
    const store = new CheckpointStore(mkdtempSync(path.join(tmpdir(), 'ckpt-')));
    for (let i = 0; i < 100; i++) store.save('x', { seq: i });
    await store.idle();
    expect(store.read('x')).toEqual({ seq: 99 });
  });
  it('a corrupt file is an error naming it; a failed save is reported', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ckpt-'));
    const store = new CheckpointStore(dir);
    writeFileSync(store.fileOf('x'), '{not json');
    expect(() => store.read('x')).toThrow(CheckpointError);
    expect(() => store.read('x')).toThrow(store.fileOf('x'));
    const bad = new CheckpointStore(path.join(store.fileOf('x'), 'sub'));
    const errors: string[] = [];
    bad.onError((name) => errors.push(name));
    bad.save('y', 1);
    await bad.idle();
    expect(errors).toEqual(['y']);
    expect(readFileSync(store.fileOf('x'), 'utf8')).toBe('{not json');
  });
});
