import { describe, expect, it } from 'vitest';
import { journalctlArgs } from '../../../../src/input/journald/journald-input.js';
import { journaldUrlToConfig, validateJournaldInputConfig } from '../../../../src/input/journald/journald-input-config.js';

describe('journald input config', () => {
  it('defaults to the kernel transport, from the end', () => {
    expect(validateJournaldInputConfig({}, 'inputs[0].journald')).toEqual({
      name: 'journald://',
      matches: ['_TRANSPORT=kernel'],
      units: [],
      directories: [],
      files: [],
      startAt: 'end',
      journalctl: 'journalctl',
      maxEntrySize: 262144,
      restartDelayMs: 1000,
      maxRestartDelayMs: 30000,
      maxInFlight: 10000,
      checkpointIntervalMs: 0,
    });
  });

  it('units replace the default match; matches, directories and files are kept as given', () => {
    const c = validateJournaldInputConfig({ units: 'ulogd2.service', directory: ['/var/log/journal/remote'], matches: ['PRIORITY=4', 'PRIORITY=5'] });
    expect([c.units, c.matches, c.directories]).toEqual([['ulogd2.service'], ['PRIORITY=4', 'PRIORITY=5'], ['/var/log/journal/remote']]);
    expect(validateJournaldInputConfig({ units: ['a.service'] }).matches).toEqual([]);
  });

  it.each([
    [{ matches: ['kernel'] }, 'j.matches[0]'],
    [{ matches: ['_transport=kernel'] }, 'j.matches[0]'],
    [{ matches: 'x' }, 'j.matches[0]'],
    [{ directory: ['journal'] }, 'j.directory[0]'],
    [{ file: ['/a.journal'], directory: ['/b'] }, 'j.file'],
    [{ startAt: 'now' }, 'j.startAt'],
    [{ restartDelay: '10s', maxRestartDelay: '1s' }, 'j.maxRestartDelay'],
    [{ maxEntrySize: 10 }, 'j.maxEntrySize'],
    [{ seek: 'head' }, 'j.seek'],
    [{ units: [''] }, 'j.units'],
  ])('rejects %j naming %s', (raw, key) => {
    expect(() => validateJournaldInputConfig(raw, 'j')).toThrow(expect.objectContaining({ key }));
  });

  it('turns journald:// URLs into configs; list keys repeat', () => {
    expect(journaldUrlToConfig('journald://')).toEqual({});
    expect(journaldUrlToConfig('journald://?unit=a.service&unit=b.service&match=PRIORITY=4&directory=/var/log/journal&startAt=beginning')).toEqual({
      units: ['a.service', 'b.service'],
      matches: ['PRIORITY=4'],
      directory: ['/var/log/journal'],
      startAt: 'beginning',
    });
    expect(() => journaldUrlToConfig('journald://host')).toThrow(/expected journald:\/\//);
    expect(() => journaldUrlToConfig('journald://?startAt=end&startAt=beginning')).toThrow(/twice/);
  });

  it('builds journalctl arguments: export format, sources, position, matches last', () => {
    const c = validateJournaldInputConfig({ file: ['/tmp/x.journal'] });
    expect(journalctlArgs(c, undefined)).toEqual(['--follow', '--output=export', '--no-pager', '--quiet', '--file=/tmp/x.journal', '--lines=0', '_TRANSPORT=kernel']);
    expect(journalctlArgs({ ...c, startAt: 'beginning' }, undefined)).toContain('--no-tail');
    const resumed = journalctlArgs(c, 's=1;i=2');
    expect(resumed).toContain('--after-cursor=s=1;i=2');
    // --follow alone shows only the last 10 entries after the cursor.
    expect(resumed).toContain('--no-tail');
    expect(resumed).not.toContain('--lines=0');
  });
});
