import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue, loadConfig } from '../../../../src/config/load-config.js';
import { InputConfigError } from '../../../../src/input/input-config.js';
import { kmsgConfigFromUrl, validateKmsgInputConfig } from '../../../../src/input/kmsg/kmsg-config.js';
import { ListenUrlError } from '../../../../src/input/listen-url.js';

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatConfigIssue);
    throw err;
  }
  return [];
}

function keyOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputConfigError) return err.key;
    throw err;
  }
  return undefined;
}

describe('validateKmsgInputConfig', () => {
  it('fills in the defaults', () => {
    expect(validateKmsgInputConfig({}, 'inputs[0].kmsg')).toEqual({ name: 'kmsg://', device: '/dev/kmsg', startAt: 'beginning', pollIntervalMs: 100, maxInFlight: 10_000 });
  });
  it('takes prefixes, durations and URL-style strings', () => {
    expect(validateKmsgInputConfig({ prefixes: ['FW-'], pollInterval: '1s', maxInFlight: '50', startAt: 'end' })).toMatchObject({ prefixes: ['FW-'], pollIntervalMs: 1000, maxInFlight: 50, startAt: 'end' });
  });
  it('names the offending key', () => {
    expect(keyOf(() => validateKmsgInputConfig({ prefix: ['x'] }, 'inputs[2].kmsg'))).toBe('inputs[2].kmsg.prefix');
    expect(keyOf(() => validateKmsgInputConfig({ prefixes: [] }, 'inputs[2].kmsg'))).toBe('inputs[2].kmsg.prefixes');
    expect(keyOf(() => validateKmsgInputConfig({ prefixes: [''] }, 'k'))).toBe('k.prefixes');
    expect(keyOf(() => validateKmsgInputConfig({ startAt: 'middle' }, 'k'))).toBe('k.startAt');
    expect(keyOf(() => validateKmsgInputConfig({ pollInterval: 'soon' }, 'k'))).toBe('k.pollInterval');
    expect(keyOf(() => validateKmsgInputConfig({ maxInFlight: 0 }, 'k'))).toBe('k.maxInFlight');
    expect(keyOf(() => validateKmsgInputConfig({ device: 'kmsg' }, 'k'))).toBe('k.device');
    expect(keyOf(() => validateKmsgInputConfig('kmsg', 'k'))).toBe('k');
  });
});

describe('kmsg:// URLs', () => {
  it('parses the device and the query', () => {
    expect(kmsgConfigFromUrl('kmsg://')).toEqual({});
    expect(kmsgConfigFromUrl('kmsg:///dev/kmsg')).toEqual({ device: '/dev/kmsg' });
    expect(kmsgConfigFromUrl('kmsg://?prefixes=FW-DROP,FW-ACCEPT&prefixes=X&startAt=end&name=k1')).toEqual({
      prefixes: ['FW-DROP', 'FW-ACCEPT', 'X'],
      startAt: 'end',
      name: 'k1',
    });
  });
  it('rejects other forms with a message that shows the expected one', () => {
    expect(() => kmsgConfigFromUrl('kmsg:/dev/kmsg')).toThrow(ListenUrlError);
    expect(() => kmsgConfigFromUrl('kmsg://dev/kmsg')).toThrow(/absolute path/);
    expect(() => kmsgConfigFromUrl('kmsg://?colour=red')).toThrow(/unknown setting "colour"/);
  });
});

describe('kmsg in the service config', () => {
  it('--input kmsg:// replaces the file inputs; listeners and sources are kept apart', () => {
    const c = loadConfig({ env: {}, overrides: { inputs: ['kmsg://?prefixes=FW-', 'udp://127.0.0.1:5514'], stateDir: '/tmp/x-state' } });
    expect(c.inputs.map((i) => `${i.type}://${i.host}:${i.port}`)).toEqual(['udp://127.0.0.1:5514']);
    expect(c.sources).toEqual([{ type: 'kmsg', config: { name: 'kmsg://', device: '/dev/kmsg', prefixes: ['FW-'], startAt: 'beginning', pollIntervalMs: 100, maxInFlight: 10_000 } }]);
    expect(c.stateDirectory).toBe('/tmp/x-state');
    // The spool's default place follows the state directory.
    expect(c.spool.directory).toBe('/tmp/x-state/spool');
  });
  it('reads `- kmsg:` entries of the file, with defaults, and no default listeners then', () => {
    const c = loadConfig({ env: {}, text: 'inputs:\n  - kmsg:\n  - kmsg: {name: k2, prefixes: [A]}\n' });
    expect(c.inputs).toEqual([]);
    expect(c.sources.map((s) => s.config.name)).toEqual(['kmsg://', 'k2']);
  });
  it('reports bad keys with file line and path, threads: 0 and duplicate names', () => {
    expect(errorsOf(() => loadConfig({ env: {}, file: 'c.yaml', text: 'inputs:\n  - kmsg: {maxInFlight: 0}\n' }))).toEqual([
      'c.yaml:2: inputs[0].kmsg.maxInFlight: must be >= 1',
    ]);
    expect(errorsOf(() => loadConfig({ env: {}, file: 'c.yaml', text: 'inputs:\n  - kmsg: {startAt: 5}\n' })).join('\n')).toMatch(/inputs\[0\]\.kmsg\.startAt/);
    expect(errorsOf(() => loadConfig({ env: {}, file: 'c.yaml', text: 'pipeline: {threads: 0}\ninputs:\n  - kmsg: {}\n  - kmsg: {}\n' }))).toEqual([
      'c.yaml:3: inputs[0].kmsg: needs pipeline.threads >= 1 (or auto, the default): its checkpoint advances on the acknowledgements of the worker pipeline, which threads: 0 does not report',
      'c.yaml:4: inputs[1].kmsg: needs pipeline.threads >= 1 (or auto, the default): its checkpoint advances on the acknowledgements of the worker pipeline, which threads: 0 does not report',
      'c.yaml:4: inputs[1].kmsg: the name "kmsg://" is already used by another input (it names the checkpoint file): set a distinct name',
    ]);
  });
  it('--listen takes network listeners only; --input names unknown kinds', () => {
    expect(errorsOf(() => loadConfig({ env: {}, overrides: { listen: ['kmsg://'] } }))).toEqual([
      'command line: --listen: kmsg://: --listen takes udp://, tcp://, tls:// or relp:// listeners; use --input for other kinds',
    ]);
    expect(errorsOf(() => loadConfig({ env: {}, overrides: { inputs: ['gopher://x'] } })).join('\n')).toMatch(/gopher:\/\/x: unknown kind of input \(known: udp:\/\/, tcp:\/\/, tls:\/\/, relp:\/\/, kmsg:\/\//);
    expect(errorsOf(() => loadConfig({ env: {}, overrides: { inputs: ['kmsg://?maxInFlight=0'] } }))).toEqual([
      'command line: --input kmsg://?maxInFlight=0: kmsg.maxInFlight: must be an integer from 1 to 10000000, got "0"',
    ]);
  });
});
