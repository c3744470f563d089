import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { toInputConfig } from '../../../src/config/component-configs.js';
import { parseListenUrl } from '../../../src/input/listen-url.js';
import { errorsOf } from '../../helpers/config-errors.js';

describe('RELP listeners in the config', () => {
  it('inputs: - relp: {} listens on 127.0.0.1:2514 with the TCP limits', () => {
    const c = loadConfig({ env: {}, text: 'inputs:\n  - relp: {}\n' });
    expect(c.inputs).toHaveLength(1);
    expect(toInputConfig(c.inputs[0]!)).toEqual({ type: 'relp', host: '127.0.0.1', port: 2514, maxFrameSize: 65536, drainTimeoutMs: 1000, maxConnections: 10000, maxPendingConnections: 1000, idleTimeoutMs: 300000 });
  });

  it('--listen relp://HOST:PORT and --input relp://...', () => {
    expect(parseListenUrl('relp://[::1]:2514')).toEqual({ transport: 'relp', host: '::1', port: 2514, query: {} });
    const c = loadConfig({ env: {}, overrides: { listen: ['relp://0.0.0.0:2514?maxConnections=5'] } });
    expect(toInputConfig(c.inputs[0]!)).toMatchObject({ type: 'relp', host: '0.0.0.0', port: 2514, maxConnections: 5 });
    expect(loadConfig({ env: {}, overrides: { inputs: ['relp://127.0.0.1:0'] } }).inputs[0]).toMatchObject({ type: 'relp', port: 0 });
  });

  it('a framing key on a relp input is an error naming the file and line', () => {
    const errs = errorsOf(() => loadConfig({ env: {}, file: 'c.yaml', text: 'inputs:\n  - relp:\n      framing: lf\n' }));
    expect(errs.join('\n')).toMatch(/c\.yaml:3.*framing/);
  });

  it('a RELP and a TCP listener on the same port clash', () => {
    const errs = errorsOf(() => loadConfig({ env: {}, text: 'inputs:\n  - tcp: {port: 2514}\n  - relp: {port: 2514}\n' }));
    expect(errs.join('\n')).toMatch(/tcp 127\.0\.0\.1:2514 is already used/);
  });
});
