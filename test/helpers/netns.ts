/**
 * A three-namespace lab for tests that need real kernel netfilter LOG output:
 *
 *   client (ns `ipo-a-TAG`, if a0-TAG)  <->  router/firewall (ns `ipo-r-TAG`, r0-TAG | r1-TAG)  <->  server (ns `ipo-b-TAG`, b0-TAG)
 *        192.0.2.2/24  2001:db8:1::2/64         192.0.2.1 | 198.51.100.1   2001:db8:1::1 | 2001:db8:2::1      198.51.100.2/24  2001:db8:2::2/64
 *
 * Only documentation addresses and fixed, locally administered MACs are used. Every
 * neighbour entry is static, so no ARP/ND chatter shows up in the log unless a test
 * sends it. The random TAG keeps parallel runs apart (namespace names, and interface
 * names, which is how kernel lines are attributed to a run).
 *
 * Also here: reading /dev/kmsg records since a mark, and turning on
 * `net.netfilter.nf_log_all_netns` (without it LOG rules inside a namespace print
 * nothing) with a cross-process reference count, so one run restoring the old value
 * does not silence another run still in progress.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hasCommand, isRoot, requirement, type Requirement } from './requirements.js';

/** The commands a lab needs on PATH. */
export const LAB_COMMANDS = ['ip', 'iptables', 'ip6tables', 'nft', 'sysctl'] as const;

/**
 * Whether this machine can build a lab: root, the commands in LAB_COMMANDS, /dev/kmsg
 * and the nf_log_all_netns sysctl. Skips with a printed reason outside CI, fails in CI
 * (see test/helpers/requirements.ts).
 */
export function netnsRequirement(extraCommands: readonly string[] = []): Requirement {
  if (!isRoot) return requirement(false, 'kernel LOG tests need root (network namespaces, iptables, /dev/kmsg)');
  const missing = [...LAB_COMMANDS, ...extraCommands].filter((c) => !hasCommand(c));
  if (missing.length > 0) return requirement(false, `kernel LOG tests need these commands: ${missing.join(', ')}`);
  if (!fs.existsSync('/dev/kmsg')) return requirement(false, '/dev/kmsg is missing');
  if (!fs.existsSync(NF_LOG_ALL_NETNS)) return requirement(false, `${NF_LOG_ALL_NETNS} is missing (no netfilter logging?)`);
  return requirement(true, '');
}

/** Roles of the three namespaces. */
export type LabRole = 'a' | 'r' | 'b';

/** Addresses, names and MACs of one lab; all fixed except the tag. */
export interface LabLayout {
  tag: string;
  ns: Record<LabRole, string>;
  /** Interface names: a0 (client), r0 (router, client side), r1 (router, server side), b0 (server). */
  ifname: { a0: string; r0: string; r1: string; b0: string };
  mac: { a0: string; r0: string; r1: string; b0: string };
  v4: { a0: string; r0: string; r1: string; b0: string };
  v6: { a0: string; r0: string; r1: string; b0: string };
}

/** Build the layout for a tag (1..10 chars of [a-z0-9]); exported so tests can compute expectations. */
export function labLayout(tag: string): LabLayout {
  if (!/^[a-z0-9]{1,10}$/.test(tag)) throw new Error(`bad lab tag ${JSON.stringify(tag)}`);
  return {
    tag,
    ns: { a: `ipo-a-${tag}`, r: `ipo-r-${tag}`, b: `ipo-b-${tag}` },
    ifname: { a0: `a0-${tag}`, r0: `r0-${tag}`, r1: `r1-${tag}`, b0: `b0-${tag}` },
    mac: { a0: '02:00:c0:00:02:02', r0: '02:00:c0:00:02:01', r1: '02:00:c6:33:64:01', b0: '02:00:c6:33:64:02' },
    v4: { a0: '192.0.2.2', r0: '192.0.2.1', r1: '198.51.100.1', b0: '198.51.100.2' },
    v6: { a0: '2001:db8:1::2', r0: '2001:db8:1::1', r1: '2001:db8:2::1', b0: '2001:db8:2::2' },
  };
}

/** Options for one command run inside a namespace. */
export interface ExecOptions {
  /** Kill the command after this many ms (default 10 s). */
  timeoutMs?: number;
  /** Text written to stdin. */
  input?: string;
  /** Return instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
}

/** Result of `Lab.exec`. */
export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

const labs = new Set<Lab>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: destroy() is.
  process.on('exit', () => {
    for (const lab of [...labs]) lab.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of [...labs]) lab.destroy();
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
  }
}

/** A running lab. Call `destroy()` in afterAll; a process exit hook does it too. */
export class Lab {
  readonly layout: LabLayout;
  private readonly children = new Set<ChildProcess>();
  private created: string[] = [];
  private releaseNfLog: (() => void) | undefined;
  private destroyed = false;

  private constructor(layout: LabLayout) {
    this.layout = layout;
  }

  /**
   * Create the namespaces, veth pairs, addresses, static neighbours, routes and
   * forwarding, and turn on nf_log_all_netns. On failure everything created so far
   * is removed before the error propagates.
   */
  static create(options: { tag?: string } = {}): Lab {
    const tag = options.tag ?? randomBytes(3).toString('hex');
    const lab = new Lab(labLayout(tag));
    installExitHook();
    labs.add(lab);
    try {
      lab.build();
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  private build(): void {
    const { ns, ifname: n, mac, v4, v6 } = this.layout;
    for (const role of ['a', 'r', 'b'] as const) {
      run('ip', ['netns', 'add', ns[role]]);
      this.created.push(ns[role]);
    }
    // Create both ends directly inside their namespaces: no name ever appears in the
    // root namespace, so parallel labs cannot collide there.
    run('ip', ['link', 'add', n.a0, 'netns', ns.a, 'address', mac.a0, 'type', 'veth', 'peer', 'name', n.r0, 'netns', ns.r, 'address', mac.r0]);
    run('ip', ['link', 'add', n.b0, 'netns', ns.b, 'address', mac.b0, 'type', 'veth', 'peer', 'name', n.r1, 'netns', ns.r, 'address', mac.r1]);

    const sysctls: Record<LabRole, string[]> = {
      a: [],
      b: [],
      r: ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'],
    };
    for (const role of ['a', 'r', 'b'] as const) {
      // No DAD (addresses usable at once), no router solicitations (log noise).
      const common = [
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.all.router_solicitations=0',
        'net.ipv6.conf.default.router_solicitations=0',
      ];
      this.exec(role, ['sysctl', '-q', '-w', ...common, ...sysctls[role]]);
      this.exec(role, ['ip', 'link', 'set', 'lo', 'up']);
    }
    const ifaces: Array<[LabRole, keyof LabLayout['ifname']]> = [['a', 'a0'], ['r', 'r0'], ['r', 'r1'], ['b', 'b0']];
    for (const [role, key] of ifaces) {
      this.exec(role, ['ip', 'addr', 'add', `${v4[key]}/24`, 'dev', n[key]]);
      this.exec(role, ['ip', '-6', 'addr', 'add', `${v6[key]}/64`, 'dev', n[key], 'nodad']);
      this.exec(role, ['ip', 'link', 'set', n[key], 'up']);
    }
    // Static neighbours everywhere: no ARP / ND traffic unless a test sends it.
    const neigh = (role: LabRole, dev: string, addr: string, lladdr: string): void => {
      this.exec(role, ['ip', 'neigh', 'replace', addr, 'lladdr', lladdr, 'dev', dev, 'nud', 'permanent']);
    };
    neigh('a', n.a0, v4.r0, mac.r0);
    neigh('a', n.a0, v6.r0, mac.r0);
    neigh('r', n.r0, v4.a0, mac.a0);
    neigh('r', n.r0, v6.a0, mac.a0);
    neigh('r', n.r1, v4.b0, mac.b0);
    neigh('r', n.r1, v6.b0, mac.b0);
    neigh('b', n.b0, v4.r1, mac.r1);
    neigh('b', n.b0, v6.r1, mac.r1);
    this.exec('a', ['ip', 'route', 'add', 'default', 'via', v4.r0]);
    this.exec('a', ['ip', '-6', 'route', 'add', 'default', 'via', v6.r0]);
    this.exec('b', ['ip', 'route', 'add', 'default', 'via', v4.r1]);
    this.exec('b', ['ip', '-6', 'route', 'add', 'default', 'via', v6.r1]);
    this.releaseNfLog = acquireNfLogAllNetns();
  }

  /** Run a command inside a namespace and wait for it; throws on non-zero exit unless allowFailure. */
  exec(role: LabRole, argv: string[], options: ExecOptions = {}): ExecResult {
    return run('ip', ['netns', 'exec', this.layout.ns[role], ...argv], options);
  }

  /** Run a shell snippet (`bash -c`) inside a namespace. */
  sh(role: LabRole, script: string, options: ExecOptions = {}): ExecResult {
    return this.exec(role, ['bash', '-c', script], options);
  }

  /** Load an nft ruleset (text for `nft -f -`) inside a namespace. */
  nft(role: LabRole, ruleset: string): void {
    this.exec(role, ['nft', '-f', '-'], { input: ruleset });
  }

  /** Start a long-running process inside a namespace; it is killed by destroy(). */
  spawn(role: LabRole, argv: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.layout.ns[role], ...argv], { stdio: 'pipe', ...options });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** True when a kernel line's IN= or OUT= names one of this lab's interfaces. */
  owns(msg: string): boolean {
    const t = `-${this.layout.tag} `;
    const inAt = msg.indexOf('IN=');
    if (inAt < 0) return false;
    // IN= and OUT= are the first two keys; 64 chars covers both interface names.
    return msg.slice(inAt, inAt + 64).includes(t);
  }

  /** Delete the namespaces (and with them the veths and rules), stop children, release nf_log_all_netns. Idempotent and synchronous. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    labs.delete(this);
    for (const child of this.children) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // Processes inside a namespace keep it alive only as a mount; kill what is left there by pid.
    for (const ns of this.created) {
      const pids = run('ip', ['netns', 'pids', ns], { allowFailure: true }).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const ns of this.created.reverse()) run('ip', ['netns', 'del', ns], { allowFailure: true });
    this.created = [];
    this.releaseNfLog?.();
    this.releaseNfLog = undefined;
  }
}

function run(cmd: string, argv: string[], options: ExecOptions = {}): ExecResult {
  try {
    const stdout = execFileSync(cmd, argv, {
      input: options.input,
      timeout: options.timeoutMs ?? 10_000,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string; stderr?: string; message: string };
    const result = { status: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
    if (options.allowFailure) return result;
    throw new Error(`${cmd} ${argv.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  }
}

// ---------------------------------------------------------------------------------
// net.netfilter.nf_log_all_netns, reference-counted across processes

const NF_LOG_ALL_NETNS = '/proc/sys/net/netfilter/nf_log_all_netns';
const NF_LOG_STATE_DIR = '/run/iptables-otel-nflog';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Set nf_log_all_netns=1 and return a function that undoes it. Holders register a
 * pid file; the value saved by the first holder is written back only when the last
 * live holder releases, so overlapping runs (and crashed ones) do not break each other.
 */
export function acquireNfLogAllNetns(): () => void {
  fs.mkdirSync(NF_LOG_STATE_DIR, { recursive: true });
  const original = path.join(NF_LOG_STATE_DIR, 'original');
  const holders = liveHolders();
  if (holders.length === 0 || !fs.existsSync(original)) {
    fs.writeFileSync(original, fs.readFileSync(NF_LOG_ALL_NETNS, 'utf8').trim());
  }
  const mine = path.join(NF_LOG_STATE_DIR, `holder-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.writeFileSync(mine, String(process.pid));
  fs.writeFileSync(NF_LOG_ALL_NETNS, '1');
  let released = false;
  return () => {
    if (released) return;
    released = true;
    fs.rmSync(mine, { force: true });
    if (liveHolders().length > 0) return;
    try {
      const old = fs.readFileSync(original, 'utf8').trim();
      fs.writeFileSync(NF_LOG_ALL_NETNS, old === '' ? '0' : old);
      fs.rmSync(original, { force: true });
    } catch {
      // another process released at the same moment and already restored it
    }
  };
}

/** Holder files of live processes; removes the files of dead ones. */
function liveHolders(): string[] {
  const live: string[] = [];
  for (const name of fs.readdirSync(NF_LOG_STATE_DIR)) {
    if (!name.startsWith('holder-')) continue;
    const pid = Number(name.split('-')[1]);
    if (pidAlive(pid)) live.push(name);
    else fs.rmSync(path.join(NF_LOG_STATE_DIR, name), { force: true });
  }
  return live;
}

// ---------------------------------------------------------------------------------
// /dev/kmsg

/** One /dev/kmsg record. */
export interface KmsgRecord {
  /** The record exactly as read, first line only: `4,345,296341291,-;msg`. */
  raw: string;
  /** Syslog level 0..7 (the PRI's low bits). */
  level: number;
  /** Facility (kernel = 0). */
  facility: number;
  seq: number;
  /** Microseconds since boot. */
  usec: number;
  /** Message text after `;` (kmsg escapes unprintable bytes as \xNN). */
  msg: string;
}

/** Parse one /dev/kmsg record; returns undefined when it is not `PRI,SEQ,USEC,FLAGS;MSG`. */
export function parseKmsgRecord(text: string): KmsgRecord | undefined {
  const nl = text.indexOf('\n');
  const raw = nl >= 0 ? text.slice(0, nl) : text;
  const semi = raw.indexOf(';');
  if (semi < 0) return undefined;
  const head = raw.slice(0, semi).split(',');
  if (head.length < 3) return undefined;
  const pri = Number(head[0]);
  const seq = Number(head[1]);
  const usec = Number(head[2]);
  if (!Number.isInteger(pri) || !Number.isInteger(seq) || !Number.isFinite(usec)) return undefined;
  return { raw, level: pri & 7, facility: pri >> 3, seq, usec, msg: raw.slice(semi + 1) };
}

/**
 * Reads /dev/kmsg without blocking. Opening it starts at the oldest record still in
 * the ring buffer; `mark()` drains to the end, and `readNew()` returns the records
 * logged since the previous call. Each read() on /dev/kmsg returns exactly one record.
 */
export class KmsgReader {
  private fd: number;
  private readonly buf = Buffer.alloc(16 * 1024);
  /** Highest sequence number seen so far. */
  lastSeq = -1;

  constructor() {
    this.fd = fs.openSync('/dev/kmsg', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  }

  /** Skip everything logged so far; returns the last sequence number. */
  mark(): number {
    this.readNew();
    return this.lastSeq;
  }

  /** Records logged since the last mark()/readNew(), oldest first. */
  readNew(maxRecords = 100_000): KmsgRecord[] {
    const out: KmsgRecord[] = [];
    for (let i = 0; i < maxRecords; i++) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // EPIPE: records were overwritten before we read them; the next read resumes.
        if (code === 'EPIPE') continue;
        if (code === 'EAGAIN') break;
        throw err;
      }
      if (n <= 0) break;
      const rec = parseKmsgRecord(this.buf.toString('utf8', 0, n));
      if (rec === undefined || rec.seq <= this.lastSeq) continue;
      this.lastSeq = rec.seq;
      out.push(rec);
    }
    return out;
  }

  /** Close the file descriptor. */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
