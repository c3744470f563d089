/**
 * Worker mode: run the service in several processes that share its listeners,
 * using node:cluster. The primary forks the workers and owns no traffic; every
 * worker calls `start()` (its own inputs, pipeline and exporters) and listens on
 * the same addresses:
 *
 * - TCP/TLS: the primary accepts and hands each connection to one worker in turn
 *   (cluster round-robin), so one sender connection is served by one worker.
 * - UDP: the workers bind one shared socket handle (the cluster default for
 *   dgram, `exclusive: false`); the kernel gives each datagram to one reader.
 *
 * The primary relays SIGHUP to the workers (each reloads its own configuration),
 * forwards SIGTERM/SIGINT as a stop request, waits for them to drain
 * (`stop()`), kills stragglers after a grace period, and resolves `done` with
 * the exit code: 0 only when every worker started and stopped cleanly. A worker
 * that dies on its own makes the primary stop the others and exit 1, so the
 * process supervisor (systemd, Kubernetes) restarts the whole service.
 *
 * `count` 1 runs `start()` in this process, with the same signal handling.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './ops/logger.js';

/** What `start()` returns: something that drains and closes. */
export interface StoppableService {
  /** Stop accepting, flush what was received, close (the result is ignored). */
  stop(): Promise<unknown>;
}

/** Options of `runWorkers()`. */
export interface RunWorkersOptions {
  /** Number of worker processes (1 = run in this process). */
  count: number;
  /** Starts the service in a worker; resolves once it listens. */
  start: () => Promise<StoppableService>;
  /** Signals that start a graceful stop (default SIGTERM and SIGINT). */
  signals?: readonly NodeJS.Signals[];
  /**
   * Signals the primary relays to every worker unchanged (default SIGHUP, so each
   * worker's own SIGHUP handler reloads its configuration).
   */
  relaySignals?: readonly NodeJS.Signals[];
  /** How long workers get to drain before SIGKILL (default 30 s). */
  stopTimeoutMs?: number;
  /** How long a worker may take to start before it counts as failed (default 60 s). */
  startTimeoutMs?: number;
  /** The service logger (the primary logs forks, exits and failures). */
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** The running worker set (in the primary) or the one service (in a worker / count 1). */
export interface WorkersHandle {
  readonly role: 'primary' | 'worker' | 'single';
  /** Worker index 0..count-1 in a worker, undefined in the primary. */
  readonly workerIndex: number | undefined;
  /** Resolves with the exit code to use once everything has stopped. */
  readonly done: Promise<number>;
  /** Request a graceful stop (as a signal would) and wait for `done`. */
  stop(): Promise<number>;
}

/** Environment variable that carries the worker index into each worker. */
export const WORKER_INDEX_ENV = 'IPTABLES_OTEL_WORKER_INDEX';

const MSG_READY = 'iptables-otel:ready';
const MSG_FAILED = 'iptables-otel:failed';
const MSG_STOP = 'iptables-otel:stop';

interface ControlMessage {
  type: string;
  error?: string;
}

function isControl(m: unknown): m is ControlMessage {
  return typeof m === 'object' && m !== null && typeof (m as ControlMessage).type === 'string';
}

const noopLogger: Pick<Logger, 'info' | 'warn' | 'error'> = { info() {}, warn() {}, error() {} };

/**
 * Run the service in `count` cluster workers sharing the listeners (see the file
 * comment). Call it from the CLI in every process: in the primary it forks and
 * supervises; in a worker it runs `start()`. Resolves once every worker listens;
 * rejects (after stopping the others) when one fails to start.
 */
export async function runWorkers(options: RunWorkersOptions): Promise<WorkersHandle> {
  const { count } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a positive integer, got ${count}`);
  if (cluster.isWorker) return runAsWorker(options);
  if (count === 1) return runSingle(options);
  return runAsPrimary(options);
}

function installSignals(signals: readonly NodeJS.Signals[], onSignal: (sig: NodeJS.Signals) => void): () => void {
  const handlers = signals.map((sig) => {
    const h = () => onSignal(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/** count 1: the service in this process, stopped by the same signals. */
async function runSingle(options: RunWorkersOptions): Promise<WorkersHandle> {
  const service = await options.start();
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> => {
    stopping ??= service.stop().then(
      () => 0,
      (err: unknown) => {
        (options.logger ?? noopLogger).error('stop failed', { err: String(err) });
        return 1;
      },
    );
    void stopping.then((code) => {
      uninstall();
      resolveDone(code);
    });
    return done;
  };
  const uninstall = installSignals(options.signals ?? ['SIGTERM', 'SIGINT'], () => void stop());
  return { role: 'single', workerIndex: undefined, done, stop };
}

/** Inside a cluster worker: start, report readiness, stop on a signal or on the primary's request. */
async function runAsWorker(options: RunWorkersOptions): Promise<WorkersHandle> {
  const index = Number(process.env[WORKER_INDEX_ENV] ?? cluster.worker?.id ?? 0);
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let service: StoppableService | undefined;
  let stopRequested = false;
  let stopping = false;
  const finish = (code: number) => {
    uninstall();
    process.off('message', onMessage);
    process.off('disconnect', onDisconnect);
    resolveDone(code);
    // Exit explicitly: the IPC channel would otherwise keep the worker alive.
    process.exit(code);
  };
  const stop = (): Promise<number> => {
    stopRequested = true;
    // A stop that arrives while start() runs is applied as soon as the service is up.
    if (service && !stopping) {
      stopping = true;
      service.stop().then(
        () => finish(0),
        () => finish(1),
      );
    }
    return done;
  };
  const onMessage = (m: unknown) => {
    if (isControl(m) && m.type === MSG_STOP) void stop();
  };
  // The primary is gone (killed): drain and exit rather than linger as an orphan.
  const onDisconnect = () => void stop();
  // Listen before start() so a stop sent during start-up is not lost.
  process.on('message', onMessage);
  process.on('disconnect', onDisconnect);
  const uninstall = installSignals(options.signals ?? ['SIGTERM', 'SIGINT'], () => void stop());
  try {
    service = await options.start();
  } catch (err) {
    process.send?.({ type: MSG_FAILED, error: err instanceof Error ? err.message : String(err) });
    // The primary reports the failure; give the IPC message time to leave.
    setTimeout(() => finish(1), 100);
    throw err;
  }
  process.send?.({ type: MSG_READY });
  if (stopRequested) void stop();
  return { role: 'worker', workerIndex: index, done, stop };
}

/** The primary: fork, wait for readiness, forward signals, aggregate exits. */
async function runAsPrimary(options: RunWorkersOptions): Promise<WorkersHandle> {
  const log = options.logger ?? noopLogger;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const workers = new Map<Worker, { index: number; ready: boolean; exited: boolean }>();
  let stopping = false;
  let failed = false;
  let killTimer: NodeJS.Timeout | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });

  const live = () => [...workers.entries()].filter(([, s]) => !s.exited);

  const stopAll = (reason: string): Promise<number> => {
    if (!stopping) {
      stopping = true;
      log.info('stopping workers', { reason, workers: live().length });
      for (const [w] of live()) {
        // A worker still loading may miss this message; it is sent again when that worker reports ready.
        if (w.isConnected()) w.send({ type: MSG_STOP });
        else w.process.kill('SIGTERM');
      }
      killTimer = setTimeout(() => {
        for (const [w, s] of live()) {
          log.warn('worker did not stop in time, killing it', { worker: s.index, pid: w.process.pid });
          failed = true;
          w.process.kill('SIGKILL');
        }
      }, stopTimeoutMs);
      killTimer.unref();
      checkAllExited();
    } else {
      // A second signal: do not wait any longer.
      for (const [w] of live()) w.process.kill('SIGKILL');
      failed = true;
    }
    return done;
  };

  const checkAllExited = () => {
    if (live().length > 0) return;
    if (killTimer) clearTimeout(killTimer);
    uninstall();
    cluster.off('exit', onExit);
    // A signal during start-up: runWorkers() must not wait for readiness forever (no-op once ready).
    rejectReady(new Error('workers stopped before all of them were ready'));
    resolveDone(failed ? 1 : 0);
  };

  const onExit = (w: Worker, code: number | null, signal: string | null) => {
    const st = workers.get(w);
    if (!st) return;
    st.exited = true;
    const clean = code === 0 && signal === null;
    if (!stopping) {
      failed = true;
      log.error('worker exited unexpectedly; stopping the others', { worker: st.index, pid: w.process.pid, code, signal });
      if (!st.ready) rejectReady(new Error(`worker ${st.index} exited (code ${code}, signal ${signal}) before it was ready`));
      void stopAll(`worker ${st.index} exited`);
    } else if (!clean) {
      failed = true;
      log.warn('worker stopped with an error', { worker: st.index, pid: w.process.pid, code, signal });
    }
    checkAllExited();
  };
  cluster.on('exit', onExit);
  const uninstallStop = installSignals(options.signals ?? ['SIGTERM', 'SIGINT'], (sig) => void stopAll(sig));
  const uninstallRelay = installSignals(options.relaySignals ?? ['SIGHUP'], (sig) => {
    if (stopping) return;
    for (const [w] of live()) w.process.kill(sig);
  });
  const uninstall = () => {
    uninstallStop();
    uninstallRelay();
  };

  for (let i = 0; i < options.count; i++) {
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(i) });
    workers.set(w, { index: i, ready: false, exited: false });
    w.on('message', (m: unknown) => {
      if (!isControl(m)) return;
      const st = workers.get(w)!;
      if (m.type === MSG_READY) {
        st.ready = true;
        // A stop sent while this worker was still loading may have arrived before it listened: repeat it.
        if (stopping) w.send({ type: MSG_STOP });
        else if ([...workers.values()].every((s) => s.ready)) resolveReady();
      } else if (m.type === MSG_FAILED) {
        failed = true;
        log.error('worker failed to start', { worker: st.index, error: m.error });
        rejectReady(new Error(`worker ${st.index} failed to start: ${m.error ?? 'unknown error'}`));
        void stopAll(`worker ${st.index} failed to start`);
      }
    });
    log.info('worker forked', { worker: i, pid: w.process.pid });
  }

  const startTimer = setTimeout(() => {
    rejectReady(new Error(`workers not ready after ${startTimeoutMs} ms`));
    failed = true;
    void stopAll('start timeout');
  }, startTimeoutMs);
  startTimer.unref();
  try {
    await ready;
  } catch (err) {
    clearTimeout(startTimer);
    // Wait for the others to be stopped so the caller can exit right away.
    await done;
    throw err;
  }
  clearTimeout(startTimer);
  log.info('workers ready', { workers: options.count });
  return { role: 'primary', workerIndex: undefined, done, stop: () => stopAll('stop()') };
}
