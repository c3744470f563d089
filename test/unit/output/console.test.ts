import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsoleOutput } from '../../../src/output/console.js';
import { PermanentExportError } from '../../../src/output/export-error.js';
import { logRecordToOtlpJson } from '../../../src/output/otlp-json.js';
import { sampleRecords } from './sample-records.js';

/** A writable with a tiny buffer whose consumer releases chunks by hand. */
class SlowWritable extends Writable {
  chunks: string[] = [];
  private pending: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 16 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    this.pending.push(() => cb());
  }
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }
}

describe('console output', () => {
  it('writes one OTLP/JSON record per line', async () => {
    const s = new SlowWritable();
    const out = new ConsoleOutput({ type: 'console' }, { stream: s });
    const records = sampleRecords(0, 3);
    const done = out.export(records);
    s.release();
    await done;
    const lines = s.chunks.join('').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    for (let i = 0; i < 3; i++) {
      expect(lines[i]).toBe(logRecordToOtlpJson(records[i]!));
      expect(JSON.parse(lines[i]!).body.stringValue).toBe(records[i]!.body);
    }
  });

  it('does not resolve until the stream has taken the chunk (backpressure)', async () => {
    const s = new SlowWritable();
    const out = new ConsoleOutput({ type: 'console' }, { stream: s });
    let resolved = false;
    const p = out.export(sampleRecords(0, 5)).then(() => {
      resolved = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(resolved).toBe(false);
    s.release();
    await p;
    expect(resolved).toBe(true);
  });

  it('fails permanently once the stream is broken', async () => {
    const s = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const out = new ConsoleOutput({ type: 'console' }, { stream: s });
    await expect(out.export(sampleRecords(0, 1))).rejects.toBeInstanceOf(PermanentExportError);
    await new Promise((r) => setTimeout(r, 5));
    await expect(out.export(sampleRecords(1, 1))).rejects.toBeInstanceOf(PermanentExportError);
  });
});
