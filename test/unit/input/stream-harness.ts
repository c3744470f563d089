import net from 'node:net';
import { Metrics } from '../../../src/ops/metrics.js';
import { TCP_INPUT_DEFAULTS, type TcpInputConfig } from '../../../src/input/input-config.js';
import type { InputDeps } from '../../../src/input/input-deps.js';
import { createTcpInput, type TcpInput } from '../../../src/input/tcp-input.js';
import { CaptureSink, textDecoder } from './capture-sink.js';

/** One log call as an input made it. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every call. */
export function captureLogger(): { logs: LogLine[]; logger: NonNullable<InputDeps['logger']> } {
  const logs: LogLine[] = [];
  const at = (level: LogLine['level']) => (msg: string, fields: Record<string, unknown> = {}) => void logs.push({ level, msg, fields });
  return { logs, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

/** Cleanups run after each test, newest first. */
export const cleanups: Array<() => unknown> = [];

/** Run and clear the cleanups (call from afterEach). */
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** A started TCP input on 127.0.0.1:0 that records into a CaptureSink. */
export async function startTcp(over: Partial<TcpInputConfig> = {}, deps: Partial<InputDeps> = {}) {
  const sink = new CaptureSink();
  const metrics = deps.metrics ?? new Metrics();
  const { logs, logger } = captureLogger();
  const input: TcpInput = createTcpInput(
    { type: 'tcp', ...TCP_INPUT_DEFAULTS, port: 0, name: 'tcp-test', ...over },
    { decode: textDecoder, sink, metrics, logger, ...deps },
  );
  await input.start();
  cleanups.push(() => input.stop());
  return { input, sink, metrics, logs, port: input.address()!.port };
}

/** Connect to 127.0.0.1:`port`; resolves once connected (the server may not have read anything). */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.on('error', reject);
    cleanups.push(() => s.destroy());
  });
}

/** Write and wait until the data is handed to the kernel. */
export const write = (s: net.Socket, data: string | Buffer): Promise<void> => new Promise((r, j) => s.write(data, (e) => (e ? j(e) : r())));

/** `n` numbered lines `<4>tag n` joined with LF (with a final LF). */
export function numberedLines(tag: string, n: number, from = 0): string {
  let out = '';
  for (let i = from; i < from + n; i++) out += `<4>${tag} ${i}\n`;
  return out;
}
