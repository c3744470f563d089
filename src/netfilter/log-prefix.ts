/**
 * The `--log-prefix` text: vendor labels (Ubiquiti EdgeOS/USG, VyOS, UniFi OS 3+, UFW,
 * firewalld, Shorewall), keyword classification (drop/deny/reject/block -> denied,
 * accept/allow -> allowed) and user rules that win over the built-ins.
 *
 * Results are cached per classifier: a firewall uses a handful of prefixes.
 */

/** A user rule: when the prefix matches, it sets the action (and optionally rule.name). */
export interface PrefixRule {
  /** Substring of the trimmed prefix, or a regular expression tested against it. */
  match: string | RegExp;
  /** Becomes `event.action`; `event.type`/`event.outcome` follow from its keywords. */
  action: string;
  /** Optional `rule.name`. */
  ruleName?: string;
  /** Optional verdict when the action has no keyword: `denied` or `allowed`. */
  verdict?: 'denied' | 'allowed';
}

/** Which built-in label format matched. */
export type PrefixFormat = 'ubiquiti' | 'unifi' | 'ufw' | 'firewalld' | 'shorewall' | 'keyword' | 'rule';

/** What a prefix says. Shared between records (cached): treat as read-only. */
export interface PrefixInfo {
  /** `event.action` (lowercase). */
  action?: string;
  /** Classification for `event.type` / `event.outcome`. */
  verdict?: 'denied' | 'allowed';
  format?: PrefixFormat;
  /** Ubiquiti rule set / number (`iptables.ubiquiti.*`). */
  ubiquitiRuleSet?: string;
  ubiquitiRuleNumber?: string;
  ruleId?: string;
  ruleName?: string;
  ruleDescription?: string;
  ruleset?: string;
  ingressZone?: string;
  egressZone?: string;
}

const EMPTY: PrefixInfo = Object.freeze({});

/** Keyword verdict of a text (case-insensitive): the earliest keyword found wins. */
export function verdictOf(text: string): 'denied' | 'allowed' | undefined {
  const t = text.toLowerCase();
  let best = -1;
  let verdict: 'denied' | 'allowed' | undefined;
  for (const [kw, v] of KEYWORDS) {
    const at = t.indexOf(kw);
    if (at >= 0 && (best < 0 || at < best)) {
      best = at;
      verdict = v;
    }
  }
  return verdict;
}

const KEYWORDS: ReadonlyArray<readonly [string, 'denied' | 'allowed']> = [
  ['drop', 'denied'],
  ['deny', 'denied'],
  ['denied', 'denied'],
  ['reject', 'denied'],
  ['block', 'denied'],
  ['accept', 'allowed'],
  ['allow', 'allowed'],
];

const LETTER_ACTIONS: Readonly<Record<string, string>> = { a: 'accept', d: 'drop', r: 'reject' };

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isActionLetter(s: string): boolean {
  return s.length === 1 && 'ADRadr'.includes(s);
}

/** Elastic's zone split of a rule set: `[^-]*-[^-]*`, first match (`wan-lan` -> wan / lan). */
function zonesOf(ruleSet: string, info: PrefixInfo): void {
  const dash = ruleSet.indexOf('-');
  if (dash < 0) return;
  const next = ruleSet.indexOf('-', dash + 1);
  info.ingressZone = ruleSet.slice(0, dash);
  info.egressZone = ruleSet.slice(dash + 1, next < 0 ? ruleSet.length : next);
}

/** `[...]` labels: Ubiquiti / VyOS / UniFi OS / UFW. Returns undefined when not one. */
function bracketLabel(prefix: string): PrefixInfo | undefined {
  const open = prefix.indexOf('[');
  if (open < 0) return undefined;
  const close = prefix.indexOf(']', open + 1);
  if (close < 0) return undefined;
  const label = prefix.slice(open + 1, close);
  const rest = prefix.slice(close + 1).trim();
  if (label.startsWith('UFW ')) {
    const action = label.slice(4).trim().toLowerCase().replaceAll(' ', '-');
    return { format: 'ufw', action, verdict: verdictOf(action), ruleset: 'ufw' };
  }
  // Only the last bracket group that stands alone (or before DESCR=) is a rule label.
  if (rest.length > 0 && !rest.startsWith('DESCR=')) return undefined;
  const f = label.split('-');
  if (f.length < 3) return undefined;
  const n = f.length;
  const info: PrefixInfo = {};
  if (isActionLetter(f[n - 2]!) && isDigits(f[n - 1]!)) {
    // UniFi OS 3+: [RULESET-A|D|R-NUMBER] DESCR="..."
    info.format = 'unifi';
    info.ubiquitiRuleSet = f.slice(0, n - 2).join('-');
    info.ubiquitiRuleNumber = f[n - 1]!;
    info.action = LETTER_ACTIONS[f[n - 2]!.toLowerCase()]!;
  } else {
    // EdgeOS / USG / VyOS: [RULESET-NUMBER-ACTION]; the rule set is greedy, as in Elastic.
    info.format = 'ubiquiti';
    info.ubiquitiRuleSet = f.slice(0, n - 2).join('-');
    info.ubiquitiRuleNumber = f[n - 2]!;
    const a = f[n - 1]!.toLowerCase();
    info.action = LETTER_ACTIONS[a] ?? a;
  }
  if (info.ubiquitiRuleSet!.length === 0) return undefined;
  info.verdict = verdictOf(info.action!);
  info.ruleName = info.ubiquitiRuleSet;
  info.ruleId = info.ubiquitiRuleNumber;
  zonesOf(info.ubiquitiRuleSet!, info);
  if (rest.startsWith('DESCR="')) {
    const q = rest.indexOf('"', 7);
    info.ruleDescription = rest.slice(7, q < 0 ? rest.length : q);
  }
  return info;
}

/** firewalld: `filter_IN_<zone>_REJECT`, `filter_FWD_<zone>_DROP`, `FINAL_REJECT`. */
function firewalldLabel(word: string): PrefixInfo | undefined {
  if (word === 'FINAL_REJECT') {
    return { format: 'firewalld', action: 'reject', verdict: 'denied', ruleName: word, ruleset: 'firewalld' };
  }
  if (!word.startsWith('filter_')) return undefined;
  const dir = word.indexOf('_', 7);
  const last = word.lastIndexOf('_');
  if (dir < 0 || last <= dir + 1) return undefined;
  const direction = word.slice(7, dir);
  if (direction !== 'IN' && direction !== 'FWD' && direction !== 'OUT') return undefined;
  const zone = word.slice(dir + 1, last);
  const action = word.slice(last + 1).toLowerCase();
  const info: PrefixInfo = { format: 'firewalld', action, verdict: verdictOf(action), ruleName: word, ruleset: 'firewalld' };
  if (direction === 'OUT') info.egressZone = zone;
  else info.ingressZone = zone;
  return info;
}

/** Shorewall: `Shorewall:net-fw:DROP:`. */
function shorewallLabel(prefix: string): PrefixInfo | undefined {
  if (!prefix.startsWith('Shorewall:')) return undefined;
  const parts = prefix.split(':');
  const chain = parts[1] ?? '';
  const action = (parts[2] ?? '').toLowerCase();
  if (chain.length === 0 || action.length === 0) return undefined;
  const info: PrefixInfo = { format: 'shorewall', action, verdict: verdictOf(action), ruleName: chain, ruleset: 'shorewall' };
  zonesOf(chain, info);
  return info;
}

/** Last word of the prefix without `:` and brackets, lowercased (`iptables DROP_INPUT:` -> `drop_input`). */
function lastWord(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && (prefix.charCodeAt(end - 1) === 0x3a || prefix.charCodeAt(end - 1) === 0x5d)) end--;
  let start = prefix.lastIndexOf(' ', end - 1) + 1;
  while (start < end && (prefix.charCodeAt(start) === 0x5b || prefix.charCodeAt(start) === 0x3a)) start++;
  if (end <= start) return undefined;
  for (let i = start; i < end; i++) {
    const c = prefix.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x5f || c === 0x2d || c === 0x2e;
    if (!ok) return undefined;
  }
  return prefix.slice(start, end).toLowerCase();
}

/** Built-in classification of a trimmed prefix (no user rules). */
export function classifyBuiltin(prefix: string): PrefixInfo {
  if (prefix.length === 0) return EMPTY;
  const bracket = bracketLabel(prefix);
  if (bracket !== undefined) return bracket;
  const shorewall = shorewallLabel(prefix);
  if (shorewall !== undefined) return shorewall;
  const word = lastWord(prefix);
  if (word === undefined) {
    const verdict = verdictOf(prefix);
    return verdict === undefined ? EMPTY : { format: 'keyword', verdict };
  }
  const fw = firewalldLabel(prefix.endsWith(':') ? prefix.slice(0, -1).trim() : prefix);
  if (fw !== undefined) return fw;
  return { format: 'keyword', action: word, verdict: verdictOf(prefix) };
}

/**
 * Copy of `i` with every key present in one fixed order, so all cached infos share one V8
 * hidden class and the mapper's property reads stay monomorphic (vendor formats otherwise
 * produce half a dozen shapes, and the reads go megamorphic).
 */
function sameShape(i: PrefixInfo): PrefixInfo {
  return {
    action: i.action,
    verdict: i.verdict,
    format: i.format,
    ubiquitiRuleSet: i.ubiquitiRuleSet,
    ubiquitiRuleNumber: i.ubiquitiRuleNumber,
    ruleId: i.ruleId,
    ruleName: i.ruleName,
    ruleDescription: i.ruleDescription,
    ruleset: i.ruleset,
    ingressZone: i.ingressZone,
    egressZone: i.egressZone,
  };
}

/** Classifies prefixes with user rules first, then the built-ins; caches per prefix. */
export class PrefixClassifier {
  private readonly cache = new Map<string, PrefixInfo>();
  private lastPrefix: string | undefined = undefined;
  private lastInfo: PrefixInfo = sameShape(EMPTY);

  /** @param rules user rules, tried in order; the first match wins over the built-ins. */
  constructor(private readonly rules: readonly PrefixRule[] = []) {}

  /** What the (trimmed) prefix says. The result is shared: do not modify it. */
  classify(prefix: string): PrefixInfo {
    // Most firewalls log one prefix line after line: skip the Map's string hashing then.
    if (prefix === this.lastPrefix) return this.lastInfo;
    let info = this.cache.get(prefix);
    if (info !== undefined) {
      this.lastPrefix = prefix;
      this.lastInfo = info;
      return info;
    }
    info = sameShape(this.compute(prefix));
    // Bounded: prefixes come from the network; a flood of distinct ones must not grow memory.
    if (this.cache.size >= 4096) this.cache.clear();
    this.cache.set(prefix, info);
    this.lastPrefix = prefix;
    this.lastInfo = info;
    return info;
  }

  private compute(prefix: string): PrefixInfo {
    const builtin = classifyBuiltin(prefix);
    for (const rule of this.rules) {
      let hit: boolean;
      if (typeof rule.match === 'string') {
        hit = prefix.includes(rule.match);
      } else {
        rule.match.lastIndex = 0; // a /g or /y regex keeps state between calls
        hit = rule.match.test(prefix);
      }
      if (!hit) continue;
      const info: PrefixInfo = { ...builtin, format: 'rule', action: rule.action };
      info.verdict = rule.verdict ?? verdictOf(rule.action);
      if (rule.ruleName !== undefined) info.ruleName = rule.ruleName;
      return info;
    }
    return builtin;
  }
}
