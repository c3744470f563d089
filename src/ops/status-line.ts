import type { Metrics } from './metrics.js';

interface Summable {
  get(): Promise<{ values: Array<{ value: number }> }> | { values: Array<{ value: number }> };
}

async function total(m: Summable): Promise<number> {
  const { values } = await m.get();
  let sum = 0;
  for (const v of values) sum += v.value;
  return sum;
}

/** Counter totals the status line shows. */
export interface StatusSnapshot {
  received: number;
  exported: number;
  parseFailures: number;
  exportFailures: number;
  dropped: number;
  queueRecords: number;
  queueBytes: number;
  openConnections: number;
  pausedConnections: number;
}

/** Reads the totals of the metrics the status line shows. */
export async function snapshotMetrics(metrics: Metrics): Promise<StatusSnapshot> {
  const [received, exported, parseFailures, exportFailures, dropped, queueRecords, queueBytes, openConnections, pausedConnections] = await Promise.all(
    [
      metrics.received,
      metrics.exported,
      metrics.parseFailures,
      metrics.exportFailures,
      metrics.dropped,
      metrics.queueRecords,
      metrics.queueBytes,
      metrics.openConnections,
      metrics.pausedConnections,
    ].map((m) => total(m as unknown as Summable)),
  );
  return { received: received!, exported: exported!, parseFailures: parseFailures!, exportFailures: exportFailures!, dropped: dropped!, queueRecords: queueRecords!, queueBytes: queueBytes!, openConnections: openConnections!, pausedConnections: pausedConnections! };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** One human line: totals plus rates since the previous snapshot. */
export function formatStatusLine(cur: StatusSnapshot, prev: StatusSnapshot | undefined, intervalMs: number): string {
  const rate = (a: number, b: number | undefined): string => (b === undefined ? '' : ` (${Math.round(((a - b) * 1000) / Math.max(intervalMs, 1))}/s)`);
  return (
    `iptables-otel: received ${cur.received}${rate(cur.received, prev?.received)}` +
    ` exported ${cur.exported}${rate(cur.exported, prev?.exported)}` +
    ` queue ${cur.queueRecords} (${bytes(cur.queueBytes)})` +
    ` parse-failures ${cur.parseFailures} export-failures ${cur.exportFailures} dropped ${cur.dropped}` +
    ` connections ${cur.openConnections} (${cur.pausedConnections} paused)`
  );
}

/**
 * Writes a status line to `stream` every `intervalMs` when it is a TTY (an operator watching);
 * under systemd or a container, stderr is not a TTY and the JSON logs stay clean.
 * Returns a function that stops it.
 */
export function startStatusLine(metrics: Metrics, intervalMs: number, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY || intervalMs <= 0) return () => {};
  let prev: StatusSnapshot | undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    snapshotMetrics(metrics)
      .then((cur) => {
        stream.write(formatStatusLine(cur, prev, intervalMs) + '\n');
        prev = cur;
      })
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
