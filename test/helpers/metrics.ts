/** Reading the service's own metrics (prom-client) in tests, to wait on a real condition. */

interface MetricsLike {
  registry: { getSingleMetric(name: string): unknown };
}

/** The value of a metric, summed over the label sets that match `labels` (0 when none does). */
export async function metricValue(metrics: MetricsLike, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = metrics.registry.getSingleMetric(name) as { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> } | undefined;
  if (!m) throw new Error(`no metric ${name}`);
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((s, v) => s + v.value, 0);
}

/** The value of a metric in Prometheus text (a /metrics page), summed over matching label sets. */
export function promValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !(line.startsWith(`${name} `) || line.startsWith(`${name}{`))) continue;
    const m = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const got: Record<string, string> = {};
    for (const kv of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[kv[1]!] = kv[2]!;
    if (!Object.entries(labels).every(([k, v]) => got[k] === v)) continue;
    sum += Number(m[3]);
    seen = true;
  }
  return seen ? sum : 0;
}
