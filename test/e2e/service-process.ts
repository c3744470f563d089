/**
 * Runs the built iptables-otel CLI (`node dist/src/cli/main.js`) as a child process for
 * the e2e suites, and feeds it syslog over TCP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { requirement, type Requirement } from '../helpers/requirements.js';

/** The built CLI entry point (`IPTABLES_OTEL_CLI` overrides it, e.g. for a private build dir). */
export const cliEntry = process.env.IPTABLES_OTEL_CLI ?? path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Requirement: `npm run build` has produced the CLI. */
export function cliRequirement(): Requirement {
  return requirement(existsSync(cliEntry), `iptables-otel is not built (${path.relative(repoRoot, cliEntry)} missing): run npm run build`);
}

/** A running iptables-otel process. */
export interface RunningService {
  readonly process: ChildProcess;
  /** TCP syslog port it listens on. */
  readonly port: number;
  /** stdout + stderr so far (the service logs JSON lines on stderr). */
  logs(): string;
  /** SIGTERM (the service drains and flushes), SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartServiceOptions {
  /** TCP port to listen on (127.0.0.1). */
  port: number;
  /** Config file contents (YAML); written to a temp file and passed as --config. */
  configYaml?: string;
  /** Extra CLI arguments (e.g. `['--output', 'otlp']`). */
  args?: string[];
  /** Extra environment (OTEL_EXPORTER_OTLP_ENDPOINT, ...). */
  env?: Record<string, string>;
  /** How long to wait for the port to accept connections; default 20 s. */
  startTimeoutMs?: number;
}

/** Start the service and resolve once its TCP listener accepts connections. */
export async function startService(opts: StartServiceOptions): Promise<RunningService> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iptables-otel-e2e-'));
  const args = [cliEntry, '--listen', `tcp://127.0.0.1:${opts.port}`, '--ops-address', 'off'];
  if (opts.configYaml !== undefined) {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, opts.configYaml);
    args.push('--config', file);
  }
  args.push(...(opts.args ?? []));
  // Start from a clean OTEL_* slate so the developer's own environment cannot leak in.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && v !== undefined) env[k] = v;
  const child = spawn(process.execPath, args, {
    env: { ...env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (b: Buffer): void => {
    output = (output + b.toString('utf8')).slice(-256 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const stop = async (timeoutMs = 15_000): Promise<number | null> => {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
    return exitCode ?? null;
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (exitCode !== undefined) {
      await stop();
      throw new Error(`iptables-otel exited with ${String(exitCode)} at startup:\n${output}`);
    }
    if (await canConnect(opts.port)) break;
    if (Date.now() > deadline) {
      const logs = output;
      await stop();
      throw new Error(`iptables-otel did not listen on ${opts.port} in time:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { process: child, port: opts.port, logs: () => output, stop };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Send `frames` over one TCP connection, LF-framed, and close it. */
export function sendTcpLines(port: number, frames: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.end(frames.map((f) => `${f}\n`).join(''), () => resolve());
    });
    s.once('error', reject);
  });
}

/** Poll `fn` every `intervalMs` until it returns a value other than undefined, or time out. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => T | undefined | Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Kernel netfilter lines for the e2e suites, RFC 3164-framed as rsyslog relays them
 * (`<4>` = kern.warning). Each has a unique destination port so records can be matched
 * to lines whatever order they arrive in. Documentation addresses only.
 */
export function sampleFrames(stamp = 'Nov 26 14:20:01', host = 'fw1'): Array<{ dpt: number; frame: string }> {
  const h = `<4>${stamp} ${host} kernel:`;
  return [
    {
      dpt: 40001,
      frame: `${h} iptables-dropped: IN=eth0 OUT= MAC=02:00:c0:00:02:01:02:00:c0:00:02:02:08:00 SRC=192.0.2.2 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=6079 DF PROTO=TCP SPT=46208 DPT=40001 WINDOW=64240 RES=0x00 SYN URGP=0 `,
    },
    {
      dpt: 40002,
      frame: `${h} [UFW BLOCK] IN=eth0 OUT= MAC=02:00:c0:00:02:01:02:00:c0:00:02:02:08:00 SRC=198.51.100.7 DST=192.0.2.1 LEN=40 TOS=0x00 PREC=0x00 TTL=241 ID=54321 PROTO=UDP SPT=53 DPT=40002 LEN=20 `,
    },
    {
      dpt: 40003,
      frame: `${h} fw-out: IN= OUT=eth1 SRC=2001:0db8:0001:0000:0000:0000:0000:0002 DST=2001:0db8:0002:0000:0000:0000:0000:0002 LEN=80 TC=0 HOPLIMIT=63 FLOWLBL=12345 PROTO=TCP SPT=50000 DPT=40003 WINDOW=64800 RES=0x00 ACK PSH URGP=0 UID=0 GID=0 MARK=0x2a `,
    },
  ];
}
