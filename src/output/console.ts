import type { FirewallLogRecord } from '../mapping/record.js';
import { PermanentExportError } from './export-error.js';
import { logRecordToOtlpJson } from './otlp-json.js';
import type { Output } from './output.js';

/** The console output: one OTLP/JSON LogRecord per line (the shape `iptables-otel parse` prints). */
export interface ConsoleOutputConfig {
  type: 'console';
  /** Metric label; default `console`. */
  name?: string;
  /** Default `stdout`. */
  stream?: 'stdout' | 'stderr';
}

/** The stream the console output writes to (tests pass their own). */
export interface ConsoleOutputDeps {
  stream?: NodeJS.WritableStream;
}

/**
 * Writes each batch as one chunk of newline-terminated OTLP/JSON records and resolves
 * when the stream has flushed it, after a `drain` when `write()` returned false, so a
 * slow reader (a pipe into `jq`, a terminal) slows the pipeline instead of growing memory.
 */
export class ConsoleOutput implements Output {
  readonly name: string;
  private readonly stream: NodeJS.WritableStream;
  private error: Error | undefined;

  constructor(config: ConsoleOutputConfig = { type: 'console' }, deps: ConsoleOutputDeps = {}) {
    this.name = config.name ?? 'console';
    this.stream = deps.stream ?? (config.stream === 'stderr' ? process.stderr : process.stdout);
    // Without a listener, EPIPE (reader went away) would crash the process.
    this.stream.on('error', (err: Error) => {
      this.error = err;
    });
  }

  /** Write the batch; rejects permanently once the stream has failed (e.g. EPIPE). */
  async export(records: FirewallLogRecord[]): Promise<void> {
    if (this.error) throw new PermanentExportError(`console output: ${this.error.message}`, { cause: this.error });
    if (records.length === 0) return;
    let text = '';
    for (const r of records) text += logRecordToOtlpJson(r) + '\n';
    const stream = this.stream;
    await new Promise<void>((resolve, reject) => {
      let written = false;
      let drained = true;
      const done = (): void => {
        if (written && drained) resolve();
      };
      const ok = stream.write(text, (err?: Error | null) => {
        if (err) {
          reject(new PermanentExportError(`console output: ${err.message}`, { cause: err }));
          return;
        }
        written = true;
        done();
      });
      if (!ok) {
        drained = false;
        stream.once('drain', () => {
          drained = true;
          done();
        });
      }
    });
  }

  /** Nothing to release: stdout/stderr stay open for the rest of the process. */
  async shutdown(): Promise<void> {}
}
