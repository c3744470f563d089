/**
 * Real kernel netfilter LOG output, end to end through parseFrame.
 *
 * Builds client / router / server namespaces (test/helpers/netns.ts), loads iptables,
 * ip6tables and native nft LOG rules with many option sets, sends known packets
 * (socat with fixed source ports, ping, crafted packets from scapy), reads the
 * lines the kernel wrote to /dev/kmsg, and checks both the kernel text (so a broken
 * lab is not blamed on the parser) and what parseFrame makes of each line, as a
 * kmsg record and as an RFC 3164 line relayed by a syslog daemon. Expectations come
 * from scenario.ts, computed from what each step sends.
 *
 * With KERNEL_CORPUS_DIR set (scripts/kernel-corpus.sh) the captured lines are also
 * written there as kernel.kmsg and kernel.log.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsgReader, Lab, labLayout, netnsRequirement, type KmsgRecord } from '../../helpers/netns.js';
import { assertRequirement, hasCommand, requirement, shouldRun, type Requirement } from '../../helpers/requirements.js';
import {
  ABSENT,
  ATTR,
  buildScenario,
  communityIdV1,
  NFLOG_GROUP,
  severityNumberFor,
  ULOGD_HOSTNAME,
  type AttrExpect,
  type ExpectedLine,
  type Step,
} from './scenario.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3'; // Debian's python: python3-scapy is installed for it, not for a pyenv shim

function scapyRequirement(): Requirement {
  const base = netnsRequirement(['socat', 'ping', 'setpriv', 'iptables-restore', 'ip6tables-restore', PYTHON]);
  if (!base.ok) return base;
  try {
    execFileSync(PYTHON, ['-c', 'import scapy'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return requirement(false, `${PYTHON} cannot import scapy (apt-get install python3-scapy)`);
  }
  return base;
}

const req = scapyRequirement();

const ULOGD_PLUGIN_DIRS = ['/usr/lib/x86_64-linux-gnu/ulogd', '/usr/lib/aarch64-linux-gnu/ulogd', '/usr/lib64/ulogd', '/usr/lib/ulogd'];
const ulogdPluginDir = ULOGD_PLUGIN_DIRS.find((d) => fs.existsSync(path.join(d, 'ulogd_inppkt_NFLOG.so')));
const ulogdReq =
  req.ok && !(hasCommand('ulogd') && hasCommand('unshare') && ulogdPluginDir !== undefined)
    ? requirement(false, 'ulogd2 (with its NFLOG and LOGEMU plugins) or unshare is missing: the ulogd2 steps are skipped')
    : requirement(true, '');

/** ulogd2 config: NFLOG group -> BASE -> IFINDEX -> IP2STR -> PRINTPKT -> LOGEMU file. */
function ulogdConfig(pluginDir: string, dir: string): string {
  const plugins = ['inppkt_NFLOG', 'raw2packet_BASE', 'filter_IFINDEX', 'filter_IP2STR', 'filter_PRINTPKT', 'output_LOGEMU'];
  return [
    '[global]',
    `logfile="${dir}/ulogd.log"`,
    'loglevel=3',
    ...plugins.map((p) => `plugin="${pluginDir}/ulogd_${p}.so"`),
    'stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU',
    '[log1]',
    `group=${NFLOG_GROUP}`,
    // Deliver every packet at once: the kernel's default batches up to 100 or 1 s.
    'netlink_qthreshold=1',
    'netlink_qtimeout=1',
    '[emu1]',
    `file="${dir}/emu.log"`,
    'sync=1',
    '',
  ].join('\n');
}
const corpusDir = process.env.KERNEL_CORPUS_DIR;
// A fixed tag for the corpus keeps interface names stable between regenerations.
const layout = labLayout(corpusDir ? 'fw' : randomBytes(3).toString('hex'));
const scenario = buildScenario(layout);

/** The shape of parseFrame this test relies on (src/mapping/parse-frame.ts). */
type ParseFrame = (
  frame: string | Buffer,
  ctx?: object,
  options?: object,
) => { body: string; severityNumber: number; timestamp?: unknown; attributes: Record<string, unknown> };

/** Text before `IN=`: the --log-prefix as the kernel printed it. */
function prefixOf(msg: string): string {
  const at = msg.indexOf('IN=');
  return at < 0 ? msg : msg.slice(0, at);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The long-lived scapy process in the client namespace (scapy-sender.py). */
class ScapySender {
  private readonly waiters: Array<(line: string) => void> = [];
  private readonly lines: string[] = [];
  constructor(readonly child: ChildProcess) {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const w = this.waiters.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
  }
  next(timeoutMs: number): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`scapy sender: no answer in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }
  async send(name: string): Promise<void> {
    this.child.stdin!.write(`${name}\n`);
    const answer = await this.next(10_000);
    if (answer !== `ok ${name}`) throw new Error(`scapy sender: ${answer}`);
  }
}

function describeValue(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

/** Every line, whatever it logged: parsed completely, no error, a network event. */
const EVERY_LINE: Record<string, AttrExpect> = {
  'error.type': ABSENT,
  'error.message': ABSENT,
  'iptables.unparsed': ABSENT,
  'event.kind': 'event',
};

/** Compare one record's attributes against the expectation (plus EVERY_LINE); returns mismatch texts. */
function compareAttrs(attrs: Record<string, unknown>, expected: Record<string, AttrExpect>): string[] {
  const want = { ...EVERY_LINE, ...expected };
  const problems: string[] = [];
  for (const [key, exp] of Object.entries(want)) {
    const got = attrs[key];
    if (exp === ABSENT) {
      if (got !== undefined) problems.push(`${key}: expected absent, got ${describeValue(got)}`);
    } else if (typeof exp === 'object' && !Array.isArray(exp)) {
      if (!exp.test(got)) problems.push(`${key}: expected ${exp.desc}, got ${describeValue(got)}`);
    } else if (JSON.stringify(got) !== JSON.stringify(exp)) {
      problems.push(`${key}: expected ${JSON.stringify(exp)}, got ${describeValue(got)}`);
    }
  }
  return problems;
}

/** The community ID the test expects for a TCP/UDP line, from its expected tuple; undefined otherwise. */
function expectedCommunityId(attrs: Record<string, AttrExpect>): string | undefined {
  const proto = ({ tcp: 6, udp: 17 } as Record<string, number>)[String(attrs[ATTR.transport])];
  const [src, dst, sport, dport] = [attrs[ATTR.src], attrs[ATTR.dst], attrs[ATTR.sport], attrs[ATTR.dport]];
  if (proto === undefined || typeof src !== 'string' || typeof dst !== 'string' || typeof sport !== 'number' || typeof dport !== 'number') {
    return undefined;
  }
  return communityIdV1(proto, src, dst, sport, dport);
}

/** Relayed lines are stamped from 2026-11-26 14:24:16 UTC; year inference needs a pinned "now". */
const RELAY_BASE_MS = Date.UTC(2026, 10, 26, 14, 24, 16);
/** A boot time for turning kmsg's monotonic microseconds into wall time. */
const BOOT_MS = Date.UTC(2026, 10, 26, 14, 0, 0);
const PARSE_OPTIONS = { now: new Date(Date.UTC(2026, 10, 26, 15, 0, 0)), bootTimeMs: BOOT_MS, timezone: 'UTC' };

function hrToUsec(t: unknown): number | undefined {
  return Array.isArray(t) && t.length === 2 ? (t[0] as number) * 1e6 + Math.round((t[1] as number) / 1e3) : undefined;
}

/** The same kernel line as rsyslog/syslog-ng relay it (RFC 3164, BSD format). */
function asRfc3164(rec: KmsgRecord, baseUsec: number): string {
  const t = new Date(RELAY_BASE_MS + Math.floor((rec.usec - baseUsec) / 1e6) * 1000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][t.getUTCMonth()];
  const day = String(t.getUTCDate()).padStart(2, ' ');
  const hms = t.toISOString().slice(11, 19);
  return `<${rec.facility * 8 + rec.level}>${mon} ${day} ${hms} fw1 kernel: ${rec.msg}`;
}

describe.skipIf(!shouldRun(req))('real kernel netfilter LOG lines (netns)', () => {
  let lab: Lab | undefined;
  let kmsg: KmsgReader | undefined;
  let sender: ScapySender | undefined;
  let parseFrame: ParseFrame | undefined;
  let parseFrameError = '';
  const observed = new Map<Step, KmsgRecord[]>();
  const observedUlogd = new Map<Step, string[]>();
  let ulogdDir: string | undefined;
  let ulogdRunning = false;
  const t0 = Date.now();
  let trafficMs = 0;

  beforeAll(async () => {
    assertRequirement(req);
    try {
      const mod = (await import('../../../src/mapping/parse-frame.js')) as { parseFrame: ParseFrame };
      parseFrame = mod.parseFrame;
    } catch (err) {
      parseFrameError = `src/mapping/parse-frame.ts is not usable: ${(err as Error).message}`;
    }
    lab = Lab.create({ tag: layout.tag });
    const { rules } = scenario;
    for (const [role, text] of Object.entries(rules.iptables)) lab.exec(role as 'a', ['iptables-restore', '--noflush'], { input: text });
    for (const [role, text] of Object.entries(rules.ip6tables)) lab.exec(role as 'a', ['ip6tables-restore', '--noflush'], { input: text });
    for (const [role, text] of Object.entries(rules.nft)) lab.nft(role as 'a', text);

    const L = lab.layout;
    const child = lab.spawn('a', [PYTHON, '-u', path.join(here, 'scapy-sender.py'), L.v4.b0, L.ifname.a0, L.mac.a0, L.v4.a0, L.v4.r0, L.mac.r0, L.v6.a0, L.v6.b0]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    sender = new ScapySender(child);
    const ready = await sender.next(30_000).catch((err: Error) => `${err.message}; ${stderr}`);
    if (ready !== 'ready') throw new Error(`scapy sender did not start: ${ready} ${stderr}`);

    if (ulogdReq.ok && ulogdPluginDir) {
      ulogdDir = fs.mkdtempSync(path.join('/tmp', 'ipo-ulogd-'));
      fs.writeFileSync(path.join(ulogdDir, 'ulogd.conf'), ulogdConfig(ulogdPluginDir, ulogdDir));
      // Own UTS namespace: ulogd2 writes the hostname into every line; keep it fixed.
      lab.spawn('b', ['unshare', '--uts', 'sh', '-c', `hostname ${ULOGD_HOSTNAME} && exec ulogd -c ${ulogdDir}/ulogd.conf`]);
      const logFile = path.join(ulogdDir, 'ulogd.log');
      const until = Date.now() + 10_000;
      while (Date.now() < until && !ulogdRunning) {
        ulogdRunning = fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('entering main loop');
        if (!ulogdRunning) await sleep(50);
      }
      if (!ulogdRunning) throw new Error(`ulogd2 did not start: ${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '(no log)'}`);
    }
    let ulogdSeen = 0;
    const readUlogd = (): string[] => {
      const file = ulogdDir ? path.join(ulogdDir, 'emu.log') : '';
      if (!ulogdRunning || !fs.existsSync(file)) return [];
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.pop(); // an unfinished last line (or the empty string after the final LF)
      const fresh = lines.slice(ulogdSeen);
      ulogdSeen = lines.length;
      return fresh;
    };

    kmsg = new KmsgReader();
    kmsg.mark();
    const tTraffic = Date.now();
    for (const step of scenario.steps) {
      for (const s of step.send) {
        if (s.kind === 'exec') lab.exec(s.role, s.argv, { input: s.input, allowFailure: true, timeoutMs: 5_000 });
        else await sender.send(s.packet);
      }
      const got: KmsgRecord[] = [];
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline) {
        got.push(...kmsg.readNew().filter((r) => lab!.owns(r.msg)));
        if (got.length >= step.expect.length) break;
        await sleep(15);
      }
      // Linger briefly so a line we did not expect (a duplicate, an ICMP error) is caught in this step.
      await sleep(60);
      got.push(...kmsg.readNew().filter((r) => lab!.owns(r.msg)));
      observed.set(step, got);
      if (step.ulogd && ulogdRunning) {
        const lines: string[] = [];
        const until = Date.now() + 3_000;
        while (Date.now() < until && lines.length < step.ulogd.length) {
          lines.push(...readUlogd());
          if (lines.length < step.ulogd.length) await sleep(15);
        }
        await sleep(30);
        lines.push(...readUlogd());
        observedUlogd.set(step, lines);
      }
    }
    trafficMs = Date.now() - tTraffic;
  }, 90_000);

  afterAll(() => {
    sender?.child.stdin?.end();
    lab?.destroy();
    kmsg?.close();
    const all = scenario.steps.flatMap((s) => observed.get(s) ?? []);
    if (corpusDir && all.length > 0) {
      fs.mkdirSync(corpusDir, { recursive: true });
      fs.writeFileSync(path.join(corpusDir, 'kernel.kmsg'), all.map((r) => r.raw + '\n').join(''));
      const base = all[0]!.usec;
      fs.writeFileSync(path.join(corpusDir, 'kernel.log'), all.map((r) => asRfc3164(r, base) + '\n').join(''));
    }
    const ulogdLines = scenario.steps.flatMap((s) => observedUlogd.get(s) ?? []);
    if (corpusDir && ulogdLines.length > 0) {
      fs.writeFileSync(path.join(corpusDir, 'kernel-ulogd.log'), ulogdLines.map((l) => l + '\n').join(''));
    }
    if (ulogdDir) fs.rmSync(ulogdDir, { recursive: true, force: true });
    const lines = all.length + ulogdLines.length;
    // eslint-disable-next-line no-console
    console.log(`kernel LOG test: ${scenario.steps.length} steps, ${lines} kernel lines, traffic ${trafficMs} ms, total ${Date.now() - t0} ms`);
  });

  /** Pair each observed line with the expectation for its prefix, in kernel order. */
  function match(step: Step): { pairs: Array<{ exp: ExpectedLine; rec: KmsgRecord }>; problems: string[] } {
    const got = observed.get(step) ?? [];
    const problems: string[] = [];
    const byPrefix = new Map<string, KmsgRecord[]>();
    for (const rec of got) {
      const p = prefixOf(rec.msg);
      byPrefix.set(p, [...(byPrefix.get(p) ?? []), rec]);
    }
    const pairs: Array<{ exp: ExpectedLine; rec: KmsgRecord }> = [];
    const wantByPrefix = new Map<string, ExpectedLine[]>();
    for (const e of step.expect) wantByPrefix.set(e.prefix, [...(wantByPrefix.get(e.prefix) ?? []), e]);
    for (const [p, wants] of wantByPrefix) {
      const recs = byPrefix.get(p) ?? [];
      if (recs.length !== wants.length) problems.push(`prefix ${JSON.stringify(p)}: expected ${wants.length} line(s), kernel printed ${recs.length}`);
      wants.forEach((exp, i) => {
        const rec = recs[i];
        if (rec) pairs.push({ exp, rec });
      });
    }
    for (const [p, recs] of byPrefix) {
      if (!wantByPrefix.has(p)) problems.push(`unexpected line(s) with prefix ${JSON.stringify(p)}: ${recs.map((r) => r.msg).join(' | ')}`);
    }
    return { pairs, problems };
  }

  describe('the kernel printed what was sent', () => {
    for (const step of scenario.steps) {
      it(step.name, () => {
        const { pairs, problems } = match(step);
        for (const { exp, rec } of pairs) {
          if (rec.level !== exp.level) problems.push(`level ${rec.level}, expected ${exp.level}: ${rec.msg}`);
          for (const s of exp.has) if (!rec.msg.includes(s)) problems.push(`missing ${JSON.stringify(s)} in: ${rec.msg}`);
        }
        expect(problems).toEqual([]);
      });
    }
  });

  const ulogdSteps = scenario.steps.filter((s) => s.ulogd !== undefined);

  describe.skipIf(!shouldRun(ulogdReq))('ulogd2 wrote what was sent (NFLOG -> LOGEMU)', () => {
    for (const step of ulogdSteps) {
      it(step.name, () => {
        assertRequirement(ulogdReq);
        const want = step.ulogd!;
        const got = observedUlogd.get(step) ?? [];
        const problems: string[] = [];
        if (got.length !== want.length) problems.push(`expected ${want.length} ulogd2 line(s), got ${got.length}: ${got.join(' | ')}`);
        want.forEach((exp, i) => {
          const line = got[i];
          if (line === undefined) return;
          for (const s of exp.has) if (!line.includes(s)) problems.push(`missing ${JSON.stringify(s)} in: ${line}`);
        });
        expect(problems).toEqual([]);
      });
    }
  });

  describe.skipIf(!shouldRun(ulogdReq))('parseFrame maps ulogd2 LOGEMU lines', () => {
    for (const step of ulogdSteps) {
      it(step.name, () => {
        assertRequirement(ulogdReq);
        const parse = parseFrame;
        if (!parse) throw new Error(parseFrameError);
        const got = observedUlogd.get(step) ?? [];
        expect(got.length).toBe(step.ulogd!.length);
        const problems: string[] = [];
        step.ulogd!.forEach((exp, i) => {
          const line = got[i]!;
          const r = parse(line, {}, PARSE_OPTIONS);
          // LOGEMU lines carry no PRI.
          if (r.severityNumber !== 0) problems.push(`severityNumber ${r.severityNumber}, expected 0 (no PRI)`);
          for (const p of compareAttrs(r.attributes, { ...exp.attrs, 'observer.name': ULOGD_HOSTNAME })) problems.push(`${p}\n      line: ${line}`);
        });
        expect(problems).toEqual([]);
      });
    }
  });

  describe('parseFrame maps every line (kmsg record and RFC 3164 relay)', () => {
    for (const step of scenario.steps.filter((s) => s.expect.length > 0)) {
      it(step.name, () => {
        if (!parseFrame) throw new Error(parseFrameError);
        const { pairs } = match(step);
        expect(pairs.length).toBeGreaterThan(0);
        const problems: string[] = [];
        const base = pairs[0]!.rec.usec;
        for (const { exp, rec } of pairs) {
          const fromKmsg = parseFrame(rec.raw, {}, PARSE_OPTIONS);
          const relayed = asRfc3164(rec, base);
          const fromSyslog = parseFrame(relayed, {}, PARSE_OPTIONS);
          if (fromKmsg.body !== rec.msg) problems.push(`kmsg body ${JSON.stringify(fromKmsg.body)} != MSG ${JSON.stringify(rec.msg)}`);
          const kmsgUsec = hrToUsec(fromKmsg.timestamp);
          if (kmsgUsec === undefined || Math.abs(kmsgUsec - (BOOT_MS * 1000 + rec.usec)) > 1) {
            problems.push(`kmsg timestamp ${JSON.stringify(fromKmsg.timestamp)}, expected boot time + ${rec.usec} us`);
          }
          const relayUsec = (RELAY_BASE_MS + Math.floor((rec.usec - base) / 1e6) * 1000) * 1000;
          if (hrToUsec(fromSyslog.timestamp) !== relayUsec) {
            problems.push(`rfc3164 timestamp ${JSON.stringify(fromSyslog.timestamp)}, expected ${new Date(relayUsec / 1000).toISOString()}`);
          }
          const cid = expectedCommunityId(exp.attrs);
          for (const [form, r, line] of [
            ['kmsg', fromKmsg, rec.raw],
            ['rfc3164', fromSyslog, relayed],
          ] as const) {
            const sev = severityNumberFor(exp.level);
            if (r.severityNumber !== sev) problems.push(`${form}: severityNumber ${r.severityNumber}, expected ${sev}`);
            const extra: Record<string, AttrExpect> = form === 'rfc3164' ? { 'observer.name': 'fw1' } : {};
            if (cid !== undefined) extra['network.community_id'] = cid;
            for (const p of compareAttrs(r.attributes, { ...exp.attrs, ...extra })) problems.push(`${form}: ${p}\n      line: ${line}`);
          }
        }
        expect(problems).toEqual([]);
      });
    }
  });
});
