import { closeSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, writeFileSync, appendFileSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyChange, fingerprintOf, sameStart } from '../../../../src/input/file/file-identity.js';

/** The facts classifyChange sees for an open descriptor of `file` and the path `p` now. */
function facts(fd: number, openIno: { dev: number; ino: number }, p: string, readOffset: number, fp: { fingerprint: string; fingerprintLength: number }) {
  let atPath: { dev: number; ino: number } | undefined;
  try {
    const st = statSync(p);
    atPath = { dev: st.dev, ino: st.ino };
  } catch {
    atPath = undefined;
  }
  const size = statSync(`/proc/self/fd/${fd}`).size;
  return classifyChange({ open: openIno, size, readOffset, startMatches: sameStart(fd, fp), atPath });
}

describe('rotation detection on real files', () => {
  let dir: string;
  let p: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-rot-'));
    p = path.join(dir, 'kern.log');
    writeFileSync(p, 'Dec  2 02:12:25 fw1 kernel: first\nDec  2 02:12:26 fw1 kernel: second\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function openIt(): { fd: number; id: { dev: number; ino: number }; fp: ReturnType<typeof fingerprintOf>; size: number } {
    const fd = openSync(p, 'r');
    const st = statSync(p);
    return { fd, id: { dev: st.dev, ino: st.ino }, fp: fingerprintOf(fd, 1024), size: st.size };
  }

  it('growth is "same"', () => {
    const f = openIt();
    appendFileSync(p, 'Dec  2 02:12:27 fw1 kernel: third\n');
    expect(facts(f.fd, f.id, p, f.size, f.fp)).toBe('same');
    closeSync(f.fd);
  });

  it('rename-and-create and deletion are "moved"', () => {
    const f = openIt();
    renameSync(p, `${p}.1`);
    expect(facts(f.fd, f.id, p, f.size, f.fp)).toBe('moved');
    writeFileSync(p, 'new file\n');
    expect(facts(f.fd, f.id, p, f.size, f.fp)).toBe('moved');
    closeSync(f.fd);
    const g = openIt();
    unlinkSync(p);
    expect(facts(g.fd, g.id, p, g.size, g.fp)).toBe('moved');
    closeSync(g.fd);
  });

  it('copytruncate is "truncated", also once the writer has written past the old offset again', () => {
    const f = openIt();
    truncateSync(p, 0);
    expect(facts(f.fd, f.id, p, f.size, f.fp)).toBe('truncated');
    // The writer (O_APPEND) refills the file beyond what was read before: only the fingerprint tells.
    appendFileSync(p, 'Dec  2 03:00:00 fw1 kernel: after the truncation, a longer line than before\n'.repeat(3));
    expect(statSync(p).size).toBeGreaterThan(f.size);
    expect(facts(f.fd, f.id, p, f.size, f.fp)).toBe('truncated');
    closeSync(f.fd);
  });

  it('a fingerprint covers only the bytes that exist, and an empty file matches anything', () => {
    const fd = openSync(p, 'r');
    const short = fingerprintOf(fd, 10);
    expect(short.fingerprintLength).toBe(10);
    expect(fingerprintOf(fd, 1 << 16).fingerprintLength).toBe(statSync(p).size);
    expect(sameStart(fd, short)).toBe(true);
    expect(sameStart(fd, { fingerprint: short.fingerprint, fingerprintLength: 11 })).toBe(false);
    expect(sameStart(fd, { fingerprint: '', fingerprintLength: 0 })).toBe(true);
    closeSync(fd);
  });
});
