import { describe, expect, it } from 'vitest';
import { PrefixClassifier, classifyBuiltin, verdictOf } from '../../../src/netfilter/log-prefix.js';

describe('Ubiquiti / VyOS / UniFi OS labels', () => {
  it('EdgeOS/USG [RULESET-NUM-ACTION], rule set greedy, zones split on -', () => {
    expect(classifyBuiltin('[wan-lan-default-D]')).toEqual({
      format: 'ubiquiti',
      ubiquitiRuleSet: 'wan-lan',
      ubiquitiRuleNumber: 'default',
      action: 'drop',
      verdict: 'denied',
      ruleName: 'wan-lan',
      ruleId: 'default',
      ingressZone: 'wan',
      egressZone: 'lan',
    });
    const i = classifyBuiltin('[source-dest-default-D]');
    expect([i.ubiquitiRuleSet, i.ubiquitiRuleNumber, i.ingressZone, i.egressZone]).toEqual(['source-dest', 'default', 'source', 'dest']);
    const w = classifyBuiltin('[WAN_OUT-2000-A]');
    expect([w.ubiquitiRuleSet, w.ubiquitiRuleNumber, w.action, w.verdict, w.ingressZone]).toEqual(['WAN_OUT', '2000', 'accept', 'allowed', undefined]);
  });
  it('R is reject (denied), unlike Elastic', () => {
    const r = classifyBuiltin('[wan-local-10-R]');
    expect([r.action, r.verdict]).toEqual(['reject', 'denied']);
  });
  it('other action letters stay as written (Elastic compatible)', () => {
    expect(classifyBuiltin('[X-1-L]').action).toBe('l');
    expect(classifyBuiltin('[X-1-L]').verdict).toBeUndefined();
  });
  it('VyOS: label followed by a space (the prefix is trimmed)', () => {
    const v = classifyBuiltin('[RULE_IN-2001-A]');
    expect([v.format, v.ubiquitiRuleSet, v.ubiquitiRuleNumber, v.action]).toEqual(['ubiquiti', 'RULE_IN', '2001', 'accept']);
  });
  it('UniFi OS 3+: [RULESET-A|D|R-NUMBER] DESCR="..."', () => {
    const u = classifyBuiltin('[WAN_LAN-D-10001] DESCR="Block IoT to LAN"');
    expect(u).toMatchObject({
      format: 'unifi',
      ubiquitiRuleSet: 'WAN_LAN',
      ubiquitiRuleNumber: '10001',
      action: 'drop',
      verdict: 'denied',
      ruleId: '10001',
      ruleName: 'WAN_LAN',
      ruleDescription: 'Block IoT to LAN',
    });
    const fw = classifyBuiltin('fw [LOCAL_LAN-A-2147483647] DESCR="allow"');
    expect([fw.format, fw.ubiquitiRuleNumber, fw.action, fw.ruleDescription]).toEqual(['unifi', '2147483647', 'accept', 'allow']);
    expect(classifyBuiltin('[LAN_IN-R-3]').action).toBe('reject');
  });
  it('is not fooled by a bracket with too few fields', () => {
    expect(classifyBuiltin('[foo]').format).not.toBe('ubiquiti');
    expect(classifyBuiltin('[a-b]').format).not.toBe('ubiquiti');
  });
});

describe('UFW, firewalld, Shorewall', () => {
  it.each([
    ['[UFW BLOCK]', 'block', 'denied'],
    ['[UFW ALLOW]', 'allow', 'allowed'],
    ['[UFW AUDIT]', 'audit', undefined],
    ['[UFW LIMIT BLOCK]', 'limit-block', 'denied'],
  ])('%s', (prefix, action, verdict) => {
    expect(classifyBuiltin(prefix)).toEqual({ format: 'ufw', action, verdict, ruleset: 'ufw' });
  });
  it('firewalld zone labels', () => {
    expect(classifyBuiltin('filter_IN_public_REJECT:')).toEqual({
      format: 'firewalld',
      action: 'reject',
      verdict: 'denied',
      ruleName: 'filter_IN_public_REJECT',
      ruleset: 'firewalld',
      ingressZone: 'public',
    });
    expect(classifyBuiltin('filter_FWD_my_zone_DROP:')).toMatchObject({ action: 'drop', ingressZone: 'my_zone' });
    expect(classifyBuiltin('filter_OUT_work_DROP:')).toMatchObject({ action: 'drop', egressZone: 'work' });
    expect(classifyBuiltin('FINAL_REJECT:')).toMatchObject({ format: 'firewalld', action: 'reject', verdict: 'denied' });
  });
  it('Shorewall', () => {
    expect(classifyBuiltin('Shorewall:net-fw:DROP:')).toEqual({
      format: 'shorewall',
      action: 'drop',
      verdict: 'denied',
      ruleName: 'net-fw',
      ruleset: 'shorewall',
      ingressZone: 'net',
      egressZone: 'fw',
    });
    const input = classifyBuiltin('Shorewall:INPUT:ACCEPT:');
    expect([input.action, input.verdict, input.ingressZone]).toEqual(['accept', 'allowed', undefined]);
  });
});

describe('keyword prefixes', () => {
  it.each([
    ['DENY:', 'deny', 'denied'],
    ['iptables DROP_INPUT:', 'drop_input', 'denied'],
    ['iptables-dropped:', 'iptables-dropped', 'denied'],
    ['FW-ACCEPT', 'fw-accept', 'allowed'],
    ['ALLOW:', 'allow', 'allowed'],
    ['BLOCKED', 'blocked', 'denied'],
    ['fw-mark:', 'fw-mark', undefined],
    ['ip6-out:', 'ip6-out', undefined],
  ])('%s -> %s', (prefix, action, verdict) => {
    const i = classifyBuiltin(prefix);
    expect([i.format, i.action, i.verdict]).toEqual(['keyword', action, verdict]);
  });
  it('empty prefix says nothing', () => {
    expect(classifyBuiltin('')).toEqual({});
  });
  it('the earliest keyword wins', () => {
    expect(verdictOf('allow-then-drop')).toBe('allowed');
    expect(verdictOf('Dropped, not allowed')).toBe('denied');
    expect(verdictOf('log')).toBeUndefined();
  });
});

describe('user prefix rules', () => {
  it('win over the built-ins, in order; substring or regex', () => {
    const c = new PrefixClassifier([
      { match: 'FW-IN-', action: 'drop' },
      { match: /^\[UFW /, action: 'quarantine', verdict: 'denied', ruleName: 'ufw-all' },
    ]);
    expect(c.classify('FW-IN-ssh:')).toMatchObject({ format: 'rule', action: 'drop', verdict: 'denied' });
    const u = c.classify('[UFW ALLOW]');
    expect([u.action, u.verdict, u.ruleName, u.ruleset]).toEqual(['quarantine', 'denied', 'ufw-all', 'ufw']);
    expect(c.classify('[wan-lan-default-D]').format).toBe('ubiquiti');
  });
  it('a global regex does not keep state between records', () => {
    const c = new PrefixClassifier([{ match: /X/g, action: 'accept' }]);
    expect(c.classify('X1').action).toBe('accept');
    expect(c.classify('X2').action).toBe('accept');
    expect(c.classify('X3').action).toBe('accept');
  });
  it('caches per prefix and stays bounded', () => {
    const c = new PrefixClassifier();
    expect(c.classify('DENY:')).toBe(c.classify('DENY:'));
    for (let i = 0; i < 5000; i++) c.classify(`P${i}:`);
    expect((c as unknown as { cache: Map<string, unknown> }).cache.size).toBeLessThanOrEqual(4096);
  });
});
