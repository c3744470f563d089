import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { HELP_TEXT, parseCliArgs, UsageError } from '../../../src/cli/cli-args.js';
import { checkConfigCommand } from '../../../src/cli/check-config-command.js';
import { packageVersion } from '../../../src/cli/version.js';
import type { CliIo } from '../../../src/cli/cli-io.js';
import { Readable } from 'node:stream';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function capture(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('parseCliArgs', () => {
  it('defaults to run', () => {
    expect(parseCliArgs([])).toEqual({ command: 'run', overrides: {} });
  });
  it('collects repeatable and scalar flags', () => {
    const a = parseCliArgs([
      '--config', 'c.yaml', '-l', 'udp://0.0.0.0:514', '--listen', 'tls://[::]:6514', '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem',
      '-o', 'otlp', '--output', 'fluent,console', '--otlp-endpoint', 'http://c:4318', '--log-level', 'debug', '--ops-address', 'off',
    ]);
    expect(a).toEqual({
      command: 'run',
      configFile: 'c.yaml',
      overrides: {
        listen: ['udp://0.0.0.0:514', 'tls://[::]:6514'],
        tlsCert: 'c.pem',
        tlsKey: 'k.pem',
        tlsCa: 'ca.pem',
        outputs: ['otlp', 'fluent', 'console'],
        otlpEndpoint: 'http://c:4318',
        logLevel: 'debug',
        opsAddress: 'off',
      },
    });
  });
  it('knows parse, check-config, --help and --version', () => {
    expect(parseCliArgs(['parse']).command).toBe('parse');
    expect(parseCliArgs(['check-config', 'x.yaml'])).toMatchObject({ command: 'check-config', configFile: 'x.yaml' });
    expect(parseCliArgs(['--help']).command).toBe('help');
    expect(parseCliArgs(['run', '-V']).command).toBe('version');
  });
  it('throws UsageError for bad usage', () => {
    expect(() => parseCliArgs(['--bogus'])).toThrow(UsageError);
    expect(() => parseCliArgs(['--config'])).toThrow(UsageError);
    expect(() => parseCliArgs(['check-config'])).toThrow(/needs a FILE/);
    expect(() => parseCliArgs(['serve'])).toThrow(/unknown command "serve"/);
    expect(() => parseCliArgs(['run', 'extra'])).toThrow(/unexpected argument/);
  });
  it('help mentions every flag and command', () => {
    for (const w of ['--config', '--listen', '--tls-cert', '--tls-key', '--tls-ca', '--output', '--otlp-endpoint', '--log-level', '--ops-address', '--version', '--help', 'check-config', 'parse', '9001']) {
      expect(HELP_TEXT).toContain(w);
    }
  });
  it('reads the version from package.json', () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('check-config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-cli-'));
  const io = (): CliIo & { out: ReturnType<typeof capture>; err: ReturnType<typeof capture> } => {
    const out = capture();
    const err = capture();
    return { stdin: Readable.from([]), stdout: out, stderr: err, env: {}, out, err };
  };
  it('exits 0 and summarises a valid file', () => {
    const f = path.join(dir, 'ok.yaml');
    writeFileSync(f, 'inputs:\n  - tcp: {port: 5140}\noutputs:\n  - otlp: {endpoint: "http://collector:4318"}\n');
    const x = io();
    expect(checkConfigCommand(f, {}, x)).toBe(0);
    expect(x.out.text).toContain(`${f}: OK`);
    expect(x.out.text).toContain('tcp://127.0.0.1:5140');
    expect(x.out.text).toContain('otlp http://collector:4318/v1/logs');
  });
  it('exits 1 with FILE:LINE: key: message', () => {
    const f = path.join(dir, 'config.yaml');
    writeFileSync(f, 'outputs:\n  - otlp:\n      endpoint: nope\n');
    const x = io();
    expect(checkConfigCommand(f, {}, x)).toBe(1);
    expect(x.err.text).toContain(`${f}:3: outputs[0].otlp.endpoint: must be a URL (http:// or https://)`);
    expect(x.err.text).toContain('1 error');
  });
});
