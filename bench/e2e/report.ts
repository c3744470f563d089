/**
 * Result aggregation and rendering for the end-to-end benchmark: medians over
 * runs, the Markdown table with ratios to iptables-otel, and the "End to end"
 * section of docs/performance.md (only that section is rewritten).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** One measured run of one system. */
export interface RunResult {
  delivered: number;
  seconds: number;
  rate: number;
  cpuSeconds: number;
  peakRssMiB: number;
  parsedFully: number;
  /** Harness-side CPU (sink decoding + polling) during the run. */
  harnessCpuSeconds: number;
  /** Bytes the receiver's processes wrote to storage during the run (/proc/PID/io write_bytes). */
  diskWriteBytes?: number;
  /** OTLP request bytes the sink received (0 for file outputs). */
  otlpBytes?: number;
  complete: boolean;
  error?: string;
}

/** All runs of one system. */
export interface SystemResult {
  id: string;
  label: string;
  parsedRule: string;
  connections: number;
  runs: RunResult[];
  skipped?: string;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The results table (Markdown). `baseline` is the id whose rate the ratios divide by. */
export function renderTable(results: readonly SystemResult[], lines: number, baseline = 'iptables-otel-threads-auto'): string {
  const ok = (r: SystemResult) => r.runs.filter((x) => x.complete);
  const base = results.find((r) => r.id === baseline);
  const baseRate = base && ok(base).length ? median(ok(base).map((x) => x.rate)) : undefined;
  const out = [
    '| system | msg/s (median) | runs (msg/s) | ratio to iptables-otel | CPU s per 1M msgs | peak RSS MiB | disk B/msg | parsed fully | sink+harness CPU s |',
    '|---|---:|---|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of results) {
    if (r.skipped) {
      out.push(`| ${r.label} | skipped: ${r.skipped} | | | | | | | |`);
      continue;
    }
    const good = ok(r);
    const bad = r.runs.filter((x) => !x.complete);
    if (good.length === 0) {
      const why = bad[0]?.error ?? 'no complete run';
      out.push(`| ${r.label} | failed: ${why.replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 160)} | | | | | | | |`);
      continue;
    }
    const rate = median(good.map((x) => x.rate));
    const cpu = median(good.map((x) => (x.cpuSeconds / x.delivered) * 1e6));
    const rss = median(good.map((x) => x.peakRssMiB));
    const disk = median(good.map((x) => (x.diskWriteBytes ?? 0) / x.delivered));
    const parsed = good[good.length - 1]!.parsedFully;
    const pct = ((100 * parsed) / lines).toFixed(1);
    const ratio = baseRate ? `${(rate / baseRate).toFixed(2)}x` : 'n/a';
    const runs = r.runs.map((x) => (x.complete ? fmtInt(x.rate) : `incomplete ${fmtInt(x.delivered)}/${fmtInt(lines)}`)).join(', ');
    const harness = median(good.map((x) => x.harnessCpuSeconds)).toFixed(2);
    out.push(`| ${r.label} | **${fmtInt(rate)}** | ${runs} | ${ratio} | ${cpu.toFixed(2)} | ${rss.toFixed(0)} | ${fmtInt(disk)} | ${fmtInt(parsed)} (${pct}%) | ${harness} |`);
  }
  return out.join('\n');
}

/** Definitions of "parsed fully", one bullet per system. */
export function renderParsedRules(results: readonly SystemResult[]): string {
  return results.map((r) => `- ${r.label}: ${r.parsedRule}`).join('\n');
}

/**
 * Replace (or append) the `## End to end` section of the Markdown file at `path`,
 * leaving every other section untouched.
 */
export function writeDocSection(path: string, heading: string, body: string): void {
  const title = '# Performance\n';
  const text = existsSync(path) ? readFileSync(path, 'utf8') : title;
  const section = `## ${heading}\n\n${body.trim()}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start === -1) {
    writeFileSync(path, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^## /.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start).join('\n').trimEnd();
  const after = lines.slice(end).join('\n');
  writeFileSync(path, `${before ? `${before}\n\n` : ''}${section}${after ? `\n${after}` : ''}`);
}
