/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function,
 * and self time per pipeline stage (framing/decode/parse/map, encode, I/O, GC),
 * so optimisation can be aimed at where the time goes.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One function's self time. */
export interface FunctionTime {
  name: string;
  where: string;
  stage: string;
  selfMs: number;
}

/** The summary of one profile. */
export interface ProfileSummary {
  totalMs: number;
  /** Busy (non-idle) time. */
  busyMs: number;
  /** Time before the first input sample (start-up), left out of every other figure. */
  startupMs: number;
  byStage: Record<string, number>;
  top: FunctionTime[];
}

/** Which stage a function belongs to, from its source URL. */
export function stageOf(cf: CallFrame): string {
  const u = cf.url;
  const n = cf.functionName;
  if (n === '(idle)') return 'idle';
  if (n === '(garbage collector)') return 'gc';
  if (n === '(program)') return 'program (native/unattributed)';
  if (/\/src\/(framing|input)\//.test(u)) return 'input+framing';
  if (/\/src\/syslog\//.test(u)) return 'syslog decode';
  if (/\/src\/(netfilter|mapping)\//.test(u)) return 'netfilter parse+map';
  if (/\/src\/output\//.test(u)) return 'encode+export';
  if (/\/src\/pipeline\//.test(u)) return 'pipeline';
  if (/\/src\//.test(u)) return 'other iptables-otel';
  if (/node_modules/.test(u)) return 'dependencies';
  // Only the mapping's community id hashes on the hot path.
  if (u.startsWith('node:internal/crypto')) return 'netfilter parse+map';
  if (n === 'writev' || n === 'writeBuffer' || n === 'writeUtf8String') return 'socket write (native)';
  if (u.startsWith('node:') || u === '') return 'node core (http/streams/buffers)';
  return 'other';
}

/** Read and summarise a profile; `topN` functions by self time. */
export function summariseProfile(path: string, topN = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  // Start-up (module loading, config validation) is not per-record work: count from the
  // first sample whose stack runs input code, i.e. from the first bytes received.
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inInput = new Map<number, boolean>();
  const underInput = (id: number): boolean => {
    const known = inInput.get(id);
    if (known !== undefined) return known;
    let hit = false;
    for (let cur: number | undefined = id, guard = 0; cur !== undefined && guard < 1000; cur = parent.get(cur), guard++) {
      if (/\/src\/(input|framing)\//.test(byId.get(cur)?.callFrame.url ?? '')) {
        hit = true;
        break;
      }
    }
    inInput.set(id, hit);
    return hit;
  };
  let first = prof.samples.findIndex((id) => underInput(id));
  if (first < 0) first = 0;
  let skippedUs = 0;
  for (let i = 0; i < first; i++) skippedUs += prof.timeDeltas[i] ?? 0;
  const selfUs = new Map<number, number>();
  for (let i = first; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, FunctionTime>();
  const byStage: Record<string, number> = {};
  let total = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    const stage = stageOf(cf);
    const ms = us / 1000;
    total += ms;
    byStage[stage] = (byStage[stage] ?? 0) + ms;
    const file = cf.url.replace(/^.*\/(src|node_modules)\//, '$1/');
    const key = `${cf.functionName}|${cf.url}|${cf.lineNumber}`;
    const cur = fn.get(key);
    if (cur) cur.selfMs += ms;
    else fn.set(key, { name: cf.functionName || '(anonymous)', where: `${file}:${cf.lineNumber + 1}`, stage, selfMs: ms });
  }
  const top = [...fn.values()].filter((f) => f.stage !== 'idle').sort((a, b) => b.selfMs - a.selfMs).slice(0, topN);
  return { totalMs: total, busyMs: total - (byStage['idle'] ?? 0), startupMs: skippedUs / 1000, byStage, top };
}

/** Text rendering; `records` turns times into µs per record. */
export function formatProfileSummary(s: ProfileSummary, records: number): string {
  const per = (ms: number) => (records > 0 ? ((ms * 1000) / records).toFixed(2) : '-');
  const lines = [
    `busy ${s.busyMs.toFixed(0)} ms of ${s.totalMs.toFixed(0)} ms sampled after the first input (start-up, ${s.startupMs.toFixed(0)} ms, left out); ${records} records`,
    '', 'stage | self ms | µs/record | share of busy'];
  for (const [stage, ms] of Object.entries(s.byStage).sort((a, b) => b[1] - a[1])) {
    if (stage === 'idle') continue;
    lines.push(`${stage} | ${ms.toFixed(0)} | ${per(ms)} | ${((100 * ms) / s.busyMs).toFixed(1)}%`);
  }
  lines.push('', 'function | where | stage | self ms | µs/record');
  for (const f of s.top) lines.push(`${f.name} | ${f.where} | ${f.stage} | ${f.selfMs.toFixed(0)} | ${per(f.selfMs)}`);
  return lines.join('\n');
}
