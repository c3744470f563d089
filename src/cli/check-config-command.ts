import { ConfigError, loadConfig, type ConfigOverrides } from '../config/load-config.js';
import type { CliIo } from './cli-io.js';

/**
 * `iptables-otel check-config FILE`: loads and validates FILE exactly as `run` would (with the
 * OTEL_* environment and any flags), starts nothing, and prints every problem as
 * `FILE:LINE: key.path: message`. Returns 0 when valid, 1 when not.
 */
export function checkConfigCommand(file: string, overrides: ConfigOverrides, io: CliIo): number {
  try {
    const config = loadConfig({ file, overrides, env: io.env });
    const listeners = [...config.inputs.map((i) => `${i.type}://${i.host.includes(':') ? `[${i.host}]` : i.host}:${i.port}`), ...config.sources.map((i) => i.config.name)].join(', ');
    const outputs = config.outputs.map((o) => (o.type === 'otlp' ? `otlp ${o.url} (${o.protocol})` : o.type === 'fluent' ? `fluent ${o.host}:${o.port}` : `console (${o.stream})`)).join(', ');
    io.stdout.write(`${file}: OK\n  inputs: ${listeners}\n  outputs: ${outputs}\n  ops: ${config.ops.enabled ? `${config.ops.host}:${config.ops.port}` : 'off'}\n`);
    for (const n of config.notices) io.stdout.write(`  note: ${n}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`${err.message}\n${file}: ${err.issues.length} error${err.issues.length === 1 ? '' : 's'}\n`);
    return 1;
  }
}
