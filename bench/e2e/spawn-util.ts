/**
 * Process helpers for the end-to-end benchmark: free ports, waiting for a
 * listener, starting a daemon with its output in a log file, and stopping it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';

/** True when `cmd` is on PATH (or an existing executable path). */
export function hasCommandOnPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$0"`, cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (bound then released; fine for a private benchmark). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolve once 127.0.0.1:port accepts a TCP connection (an empty one), or throw after `timeoutMs`. */
export async function waitForTcp(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** A started daemon. */
export interface Daemon {
  child: ChildProcess;
  logPath: string;
  /** The tail of its log (for error messages). */
  logTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Start `cmd args` with stdout and stderr appended to `logPath`. */
export function startDaemon(cmd: string, args: string[], logPath: string, env?: NodeJS.ProcessEnv): Daemon {
  const fd = openSync(logPath, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  child.on('error', () => {});
  return {
    child,
    logPath,
    logTail() {
      try {
        return readFileSync(logPath, 'utf8').slice(-2000);
      } catch {
        return '';
      }
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
