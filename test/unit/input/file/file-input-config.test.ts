import { describe, expect, it } from 'vitest';
import { FILE_INPUT_DEFAULTS, fileUrlToConfig, validateFileInputConfig } from '../../../../src/input/file/file-input-config.js';

describe('file input config', () => {
  it('fills in the defaults and names the input after its first path', () => {
    expect(validateFileInputConfig({ paths: ['/var/log/kern.log'] }, 'inputs[0].file')).toEqual({
      name: 'file:///var/log/kern.log',
      paths: ['/var/log/kern.log'],
      startAt: 'end',
      maxFrameSize: 65536,
      readBufferSize: 65536,
      pollIntervalMs: 1000,
      rotateWaitMs: 5000,
      fingerprintBytes: 1024,
      maxFiles: 1024,
      maxInFlight: 10000,
      checkpointIntervalMs: 0,
    });
    expect(FILE_INPUT_DEFAULTS.startAt).toBe('end');
  });

  it('takes durations and sizes with units', () => {
    const c = validateFileInputConfig({ paths: ['/var/log/ulog/*.log'], rotateWait: '2s', pollInterval: '250ms', maxFrameSize: '8KiB', startAt: 'beginning', name: 'ulog' });
    expect([c.rotateWaitMs, c.pollIntervalMs, c.maxFrameSize, c.startAt, c.name]).toEqual([2000, 250, 8192, 'beginning', 'ulog']);
  });

  it.each([
    [{}, 'inputs[1].file.paths'],
    [{ paths: [] }, 'inputs[1].file.paths'],
    [{ paths: ['var/log/kern.log'] }, 'inputs[1].file.paths[0]'],
    [{ paths: ['/var/log/kern.log', '/var/log/**/x.log'] }, 'inputs[1].file.paths[1]'],
    [{ paths: ['/var/log/'] }, 'inputs[1].file.paths[0]'],
    [{ paths: ['/a'], startAt: 'middle' }, 'inputs[1].file.startAt'],
    [{ paths: ['/a'], maxFrameSize: 10 }, 'inputs[1].file.maxFrameSize'],
    [{ paths: ['/a'], rotateWait: 'soon' }, 'inputs[1].file.rotateWait'],
    [{ paths: ['/a'], pollInterval: 1 }, 'inputs[1].file.pollInterval'],
    [{ paths: ['/a'], maxFiles: 0 }, 'inputs[1].file.maxFiles'],
    [{ paths: ['/a'], follow: true }, 'inputs[1].file.follow'],
    [{ paths: ['/a'], name: '' }, 'inputs[1].file.name'],
  ])('rejects %j naming %s', (raw, key) => {
    expect(() => validateFileInputConfig(raw, 'inputs[1].file')).toThrow(expect.objectContaining({ key }));
  });

  it('turns file:// URLs into configs, with a query and %-escapes', () => {
    expect(fileUrlToConfig('file:///var/log/kern.log')).toEqual({ paths: ['/var/log/kern.log'] });
    expect(fileUrlToConfig('file:///var/log/ulog/*.log?startAt=beginning&maxFrameSize=4096')).toEqual({
      paths: ['/var/log/ulog/*.log'],
      startAt: 'beginning',
      maxFrameSize: 4096,
    });
    expect(fileUrlToConfig('file:///var/log/my%20fw.log').paths).toEqual(['/var/log/my fw.log']);
    const validated = validateFileInputConfig(fileUrlToConfig('file:///var/log/kern.log?rotateWait=1s'), '--input');
    expect(validated.rotateWaitMs).toBe(1000);
  });

  it.each(['file://var/log/kern.log', 'file:/var/log/kern.log', 'kern.log', 'file:///a?paths=/b'])('rejects the URL %s', (url) => {
    expect(() => fileUrlToConfig(url)).toThrow(/file:\/\/\/|paths/);
  });
});
