/**
 * Options of `parseFrame()`: defaults and validation (errors name the offending key).
 */
import type { PrefixRule } from '../netfilter/log-prefix.js';
import { validateTimezone } from '../syslog/timezone.js';

/** Options that shape how a frame becomes a record. Every key is optional. */
export interface ParseOptions {
  /** Zone for header stamps without one (RFC 3164): IANA name, `UTC` (default), `+02:00`, `local`. */
  timezone?: string;
  /** Put the raw frame into `log.record.original` on every record (default false; failures always get it). */
  preserveOriginal?: boolean;
  /** `data_stream.dataset` and `event.dataset` (default `iptables.log`). */
  dataset?: string;
  /** `data_stream.namespace` (default `default`). */
  namespace?: string;
  /** User log-prefix rules, tried in order before the built-in vendor labels. */
  prefixRules?: PrefixRule[];
  /** "Now" for year inference of RFC 3164 stamps and the default receive time (tests pin it). */
  now?: Date;
  /** Boot time (ms since epoch) to turn /dev/kmsg monotonic stamps into wall time. */
  bootTimeMs?: number;
}

/** The defaults `parseFrame` applies. */
export const DEFAULT_PARSE_OPTIONS = Object.freeze({
  timezone: 'UTC',
  preserveOriginal: false,
  dataset: 'iptables.log',
  namespace: 'default',
});

/** A bad option: `key` is the dotted path (`parser.prefixRules[1].action`). */
export class ParseOptionsError extends Error {
  /** @param key dotted path of the offending key @param problem what is wrong with it */
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`${key}: ${problem}`);
    this.name = 'ParseOptionsError';
  }
}

const KNOWN = new Set(['timezone', 'preserveOriginal', 'dataset', 'namespace', 'prefixRules', 'now', 'bootTimeMs']);
const RULE_KEYS = new Set(['match', 'regex', 'action', 'ruleName', 'verdict']);

// Elasticsearch data stream name parts: lowercase, no '-', no spaces or \/*?"<>|,#:
function dataStreamPartProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length === 0) return 'must be a non-empty string';
  if (v.length > 100) return 'must be at most 100 characters';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '-' || ' \\/*?"<>|,#:'.includes(c)) return `must not contain "${c}" (Elasticsearch data stream naming)`;
    if (c !== c.toLowerCase()) return 'must be lowercase (Elasticsearch data stream naming)';
  }
  return undefined;
}

/**
 * Checks raw parser options (from code or the YAML `parser:` section) and returns them
 * normalised: a rule's `regex: "text"` becomes `match: RegExp`. Throws a ParseOptionsError
 * naming the first bad key, e.g. `parser.prefixRules[0].action: must be a non-empty string`.
 */
export function validateParseOptions(raw: unknown, path = 'parser'): ParseOptions {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ParseOptionsError(path, 'must be an object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k)) throw new ParseOptionsError(`${path}.${k}`, `unknown option (known: ${[...KNOWN].join(', ')})`);
  }
  const out: ParseOptions = {};
  if (o.timezone !== undefined) {
    if (typeof o.timezone !== 'string') throw new ParseOptionsError(`${path}.timezone`, 'must be a string');
    const problem = validateTimezone(o.timezone);
    if (problem !== undefined) throw new ParseOptionsError(`${path}.timezone`, problem);
    out.timezone = o.timezone;
  }
  if (o.preserveOriginal !== undefined) {
    if (typeof o.preserveOriginal !== 'boolean') throw new ParseOptionsError(`${path}.preserveOriginal`, 'must be true or false');
    out.preserveOriginal = o.preserveOriginal;
  }
  for (const k of ['dataset', 'namespace'] as const) {
    if (o[k] === undefined) continue;
    const problem = dataStreamPartProblem(o[k]);
    if (problem !== undefined) throw new ParseOptionsError(`${path}.${k}`, problem);
    out[k] = o[k] as string;
  }
  if (o.now !== undefined) {
    if (!(o.now instanceof Date) || Number.isNaN(o.now.getTime())) throw new ParseOptionsError(`${path}.now`, 'must be a valid Date');
    out.now = o.now;
  }
  if (o.bootTimeMs !== undefined) {
    if (typeof o.bootTimeMs !== 'number' || !Number.isFinite(o.bootTimeMs) || o.bootTimeMs < 0) {
      throw new ParseOptionsError(`${path}.bootTimeMs`, 'must be a non-negative number of milliseconds');
    }
    out.bootTimeMs = o.bootTimeMs;
  }
  if (o.prefixRules !== undefined) {
    if (!Array.isArray(o.prefixRules)) throw new ParseOptionsError(`${path}.prefixRules`, 'must be a list of rules');
    out.prefixRules = o.prefixRules.map((r, i) => validateRule(r, `${path}.prefixRules[${i}]`));
  }
  return out;
}

function validateRule(raw: unknown, path: string): PrefixRule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ParseOptionsError(path, 'must be an object with match (or regex) and action');
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!RULE_KEYS.has(k)) throw new ParseOptionsError(`${path}.${k}`, `unknown key (known: ${[...RULE_KEYS].join(', ')})`);
  }
  let match: string | RegExp;
  if (r.match !== undefined && r.regex !== undefined) throw new ParseOptionsError(`${path}.regex`, 'give either match or regex, not both');
  if (r.regex !== undefined) {
    if (typeof r.regex !== 'string' || r.regex.length === 0) throw new ParseOptionsError(`${path}.regex`, 'must be a non-empty string');
    try {
      match = new RegExp(r.regex);
    } catch (e) {
      throw new ParseOptionsError(`${path}.regex`, `invalid regular expression: ${(e as Error).message}`);
    }
  } else if (typeof r.match === 'string' && r.match.length > 0) {
    match = r.match;
  } else if (r.match instanceof RegExp) {
    match = r.match;
  } else {
    throw new ParseOptionsError(`${path}.match`, 'must be a non-empty string or a RegExp (or give regex)');
  }
  if (typeof r.action !== 'string' || r.action.trim().length === 0) throw new ParseOptionsError(`${path}.action`, 'must be a non-empty string');
  const rule: PrefixRule = { match, action: r.action.trim().toLowerCase() };
  if (r.ruleName !== undefined) {
    if (typeof r.ruleName !== 'string') throw new ParseOptionsError(`${path}.ruleName`, 'must be a string');
    rule.ruleName = r.ruleName;
  }
  if (r.verdict !== undefined) {
    if (r.verdict !== 'denied' && r.verdict !== 'allowed') throw new ParseOptionsError(`${path}.verdict`, 'must be "denied" or "allowed"');
    rule.verdict = r.verdict;
  }
  return rule;
}
