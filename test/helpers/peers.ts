/**
 * Real syslog senders for integration tests: util-linux `logger`, rsyslog and
 * syslog-ng (unpacked in /opt/syslog-ng), each run in the foreground with private
 * config, pid, socket and state files in a temp dir. See
 * ../shared/reference/local-peers.md for the exact commands and bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasCommand } from './requirements.js';

export const RSYSLOGD = '/usr/sbin/rsyslogd';
export const SYSLOG_NG_ROOT = '/opt/syslog-ng';
export const SYSLOG_NG = `${SYSLOG_NG_ROOT}/usr/sbin/syslog-ng`;
const SYSLOG_NG_LIB = `${SYSLOG_NG_ROOT}/usr/lib/syslog-ng`;
const SYSLOG_NG_MODULES = `${SYSLOG_NG_ROOT}/usr/lib/syslog-ng/3.38`;

/** True when rsyslogd (with the ossl stream driver) is installed. */
export function hasRsyslog(): boolean {
  return existsSync(RSYSLOGD) && existsSync('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so');
}

/** True when the unpacked syslog-ng is present. */
export function hasSyslogNg(): boolean {
  return existsSync(SYSLOG_NG) && existsSync(SYSLOG_NG_MODULES);
}

/** True when util-linux logger is on PATH. */
export function hasLogger(): boolean {
  return hasCommand('logger');
}

/** Run a command to completion (bounded); rejects with its stderr on a non-zero exit. */
export function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}: ${err.trim()}`));
    });
    // A command that does not read its stdin (rsyslogd -N1) must not fail the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Send lines with util-linux `logger` (one message per stdin line). `args` are
 * logger's own options, e.g. `['--tcp', '--octet-count', '-n', '127.0.0.1', '-P', '9001']`.
 */
export function sendWithLogger(args: string[], lines: string[]): Promise<string> {
  return run('logger', [...args], { input: lines.join('\n') + '\n' });
}

/** A daemon started in the foreground by a test. */
export interface Daemon {
  readonly dir: string;
  readonly process: ChildProcess;
  /** Everything the daemon printed so far (stdout + stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

async function pollUntil(cond: () => boolean, what: string, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why !== undefined) throw new Error(`${what}: ${why}`);
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function startDaemon(cmd: string, args: string[], dir: string, env: NodeJS.ProcessEnv, readyFile: string, name: string, timeoutMs: number): Promise<Daemon> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let exited: string | undefined;
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  child.on('error', (e) => (exited = e.message));
  let stopped: Promise<void> | undefined;
  const daemon: Daemon = {
    dir,
    process: child,
    output: () => out,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        const done = (): void => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (exited !== undefined || child.exitCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
  return pollUntil(() => existsSync(readyFile), `${name} start`, timeoutMs, () => (exited ? `${exited}\n${out}` : undefined)).then(
    () => daemon,
    async (e: unknown) => {
      await daemon.stop();
      throw e;
    },
  );
}

/**
 * Start rsyslogd in the foreground with `body` as its config (after a preamble
 * with a private work directory and an imuxsock input on `<dir>/in.sock`, fed by
 * `feedUnixSocket()`). Resolves once the socket exists.
 */
export async function startRsyslog(body: string, timeoutMs = 15_000): Promise<Daemon> {
  const dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-rsyslog-'));
  const conf = path.join(dir, 'rsyslog.conf');
  const sock = path.join(dir, 'in.sock');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      'module(load="imuxsock" SysSock.Use="off")',
      `input(type="imuxsock" Socket="${sock}" CreatePath="on" RateLimit.Interval="0")`,
      body,
      '',
    ].join('\n'),
  );
  await run(RSYSLOGD, ['-N1', '-f', conf]).catch((e: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`rsyslog config check failed: ${e.message}`);
  });
  return startDaemon(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslog.pid')], dir, process.env, sock, 'rsyslogd', timeoutMs);
}

/**
 * Start syslog-ng in the foreground (`-F --no-caps`) with private persist, pid and
 * control files. The config gets `@version`, global options and a source `s_in`
 * (unix-dgram on `<dir>/in.sock`, fed by `feedUnixSocket()`); `body` adds
 * destinations and a `log {}` using `s_in`.
 */
export async function startSyslogNg(body: string, timeoutMs = 15_000): Promise<Daemon> {
  const dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-sng-'));
  const conf = path.join(dir, 'syslog-ng.conf');
  const sock = path.join(dir, 'in.sock');
  writeFileSync(
    conf,
    [
      '@version: 3.38',
      'options { keep-hostname(yes); chain-hostnames(no); stats-freq(0); time-reopen(1); log-msg-size(65536); };',
      `source s_in { unix-dgram("${sock}"); };`,
      body,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, LD_LIBRARY_PATH: SYSLOG_NG_LIB };
  const base = [`--module-path=${SYSLOG_NG_MODULES}`, '-f', conf];
  await run(SYSLOG_NG, [...base, '-s'], { env }).catch((e: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`syslog-ng config check failed: ${e.message}`);
  });
  const args = [...base, '-F', '--no-caps', '-R', path.join(dir, 'persist'), '-p', path.join(dir, 'pid'), '-c', path.join(dir, 'ctl')];
  return startDaemon(SYSLOG_NG, args, dir, env, sock, 'syslog-ng', timeoutMs);
}

/** The daemon's local input socket (see `startRsyslog` / `startSyslogNg`). */
export function inputSocket(daemon: Daemon): string {
  return path.join(daemon.dir, 'in.sock');
}

/** Feed lines to a daemon's unix socket with `logger -u` (one message per line). */
export function feedUnixSocket(daemon: Daemon, lines: string[], tag = 'fwtest'): Promise<string> {
  return sendWithLogger(['-u', inputSocket(daemon), '-t', tag, '-p', 'user.notice'], lines);
}
