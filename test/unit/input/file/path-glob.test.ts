import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandPathGlob, segmentRegExp, watchDirectoryOf } from '../../../../src/input/file/path-glob.js';

describe('file input path globs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-glob-'));
    for (const f of ['kern.log', 'kern.log.1', 'ulog/a.log', 'ulog/b.log', 'ulog/.hidden.log', 'ulog/c.txt', 'hosts/fw1/iptables.log', 'hosts/fw2/iptables.log']) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), 'x\n');
    }
    mkdirSync(path.join(dir, 'ulog', 'd.log'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('matches files within one segment, sorted; not hidden files, not directories', () => {
    expect(expandPathGlob(`${dir}/ulog/*.log`)).toEqual([`${dir}/ulog/a.log`, `${dir}/ulog/b.log`]);
    expect(expandPathGlob(`${dir}/ulog/[ab].log`)).toEqual([`${dir}/ulog/a.log`, `${dir}/ulog/b.log`]);
    expect(expandPathGlob(`${dir}/ulog/[!a].log`)).toEqual([`${dir}/ulog/b.log`]);
    expect(expandPathGlob(`${dir}/ulog/?.txt`)).toEqual([`${dir}/ulog/c.txt`]);
    expect(expandPathGlob(`${dir}/hosts/*/iptables.log`)).toEqual([`${dir}/hosts/fw1/iptables.log`, `${dir}/hosts/fw2/iptables.log`]);
  });

  it('a plain path yields itself when it is a file; a missing one or directory yields nothing', () => {
    expect(expandPathGlob(`${dir}/kern.log`)).toEqual([`${dir}/kern.log`]);
    expect(expandPathGlob(`${dir}/nope.log`)).toEqual([]);
    expect(expandPathGlob(`${dir}/ulog`)).toEqual([]);
    expect(expandPathGlob(`${dir}/missing/*.log`)).toEqual([]);
  });

  it('escapes regular-expression characters and treats an unclosed [ literally', () => {
    expect(segmentRegExp('kern.log').test('kernXlog')).toBe(false);
    expect(segmentRegExp('a[b').test('a[b')).toBe(true);
    expect(segmentRegExp('.*').test('.hidden')).toBe(true);
  });

  it('watches the longest leading directory without wildcards', () => {
    expect(watchDirectoryOf('/var/log/kern.log')).toBe('/var/log');
    expect(watchDirectoryOf('/var/log/ulog/*.log')).toBe('/var/log/ulog');
    expect(watchDirectoryOf('/srv/hosts/*/iptables.log')).toBe('/srv/hosts');
  });
});
