/**
 * `npm run bench:spool`: the spool's append-only segment files (src/pipeline/spool/spool.ts)
 * against two well-kept embedded stores used as a queue, LMDB (`lmdb`) and LevelDB
 * (`classic-level`), on the spool's workload: batches of 1,024 frames of ~250 B (~256 KB per
 * value) appended in order, one per event-loop turn (as socket reads cut them), and
 * acknowledged (deleted) in order.
 *
 * Every store runs in a child process of its own (`--store NAME`), so /proc/self/io,
 * CPU and peak RSS are its alone and no background compaction of one store runs into the next.
 * Phases, each on the same values (the spool's own record encoding, CRC included, so every
 * store stores the same bytes):
 *
 * 1. append: `--mib` MiB of batches into a fresh directory, then close (durable);
 * 2. recover: reopen and list the batches not acknowledged (our spool reads every record back and
 *    checks its CRC; the stores open and walk their keys). The page cache is warm: nothing here
 *    drops caches on a shared machine;
 * 3. ack: acknowledge (delete) every batch in order, then close;
 * 4. steady: a fresh directory, append batch i and acknowledge batch i - 16 (16 batches in
 *    flight, a queue that keeps up), `--mib` MiB in all.
 *
 * CPU: the main thread's (from /proc/self/task/PID/schedstat: it is the thread that reads the
 * sockets, so its time per batch is what the store costs intake) and the process's (all threads:
 * libuv's pool, LMDB's writer, LevelDB's compaction). Disk: `write_bytes` of /proc/self/io (page
 * cache pages first dirtied, data and the stores' own logs and metadata; not the file system's
 * journal) over the value bytes: the write amplification.
 *
 * Durability, comparable to the spool's default `interval` policy (an fdatasync every 100 ms,
 * off the main thread): LevelDB writes with `sync: false` and a `sync: true` write of a marker
 * key every 100 ms while there are new writes; LMDB's idiomatic asynchronous `put`/`remove`
 * (committed on its writer thread, each commit flushed after it, `overlappingSync`), and LMDB
 * synchronous transactions on the main thread that return before the flush (`NO_SYNC_FLUSH`).
 * The spool's `batch` policy (an fdatasync per batch on the main thread) is a reference row, and
 * `none` (encode the record, write nothing) the floor: the harness's own cost per batch.
 *
 * Flags: --mib N (default 256), --only name,name, --json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as turn } from 'node:timers/promises';
import { generateLines } from './e2e/generate-lines.js';
import { Spool, type SpoolRef } from '../src/pipeline/spool/spool.js';
import { resolveSpoolConfig, type SpoolFsyncPolicy } from '../src/pipeline/spool/spool-config.js';
import { encodeRecord, type SpoolBatch } from '../src/pipeline/spool/spool-record.js';
import type { ReceiveContext } from '../src/mapping/record.js';

const FRAMES_PER_BATCH = 1024;
/** Distinct batches built once and cycled (each gets its own index and receive times). */
const DISTINCT_BATCHES = 16;
/** Frames per receive context: one context per 64 KiB socket read, as the TCP input hands them. */
const FRAMES_PER_READ = 256;
const IN_FLIGHT = 16;
const SYNC_INTERVAL_MS = 100;

/** A queue store under test: append/ack by batch number, in order. */
interface QueueStore {
  /** Write batch `i` (its value is `value`, the spool's encoding of `batch`). */
  append(i: number, batch: SpoolBatch, value: () => Buffer): void | Promise<unknown>;
  ack(i: number): void | Promise<unknown>;
  /** Wait until everything written so far is committed and durable, and close. */
  close(): Promise<void>;
  /** Batch numbers not acknowledged (after a reopen). */
  pending(): Promise<number[]>;
}

interface StoreDef {
  name: string;
  durability: string;
  open(dir: string): Promise<QueueStore>;
}

// ---------------------------------------------------------------- floor

/** Batches the `none` store holds, across a reopen (it keeps only this count). */
let noneHeld = 0;

/** No store: the value is encoded (as every store below gets it) and dropped. The harness's own cost. */
const encodeOnly: StoreDef = {
  name: 'none',
  durability: 'none: encodes each record (CRC included) and drops it (the harness floor)',
  async open() {
    return {
      append(_i, _batch, value) {
        value();
        noneHeld++;
      },
      ack() {
        noneHeld--;
      },
      async close() {},
      async pending() {
        return Array.from({ length: noneHeld }, (_, k) => k);
      },
    };
  },
};

// ---------------------------------------------------------------- our spool

function spoolStore(fsync: SpoolFsyncPolicy): StoreDef {
  return {
    name: `spool-${fsync}`,
    durability: fsync === 'interval' ? 'fdatasync every 100 ms (libuv pool), the default' : 'fdatasync after every batch (main thread)',
    async open(dir) {
      const spool = Spool.open(resolveSpoolConfig({ enabled: true, directory: dir, fsync, maxBytes: 64 * 1024 ** 3 }));
      const refs = new Map<number, SpoolRef>();
      // After a reopen, the batches found: the spool numbers them per segment, so keep the order.
      const found = spool.recovery.refs;
      found.forEach((r, k) => refs.set(k, r));
      return {
        append(i, batch) {
          refs.set(i, spool.append(batch));
        },
        ack(i) {
          const r = refs.get(i);
          if (r === undefined) throw new Error(`spool: no batch ${i}`);
          refs.delete(i);
          spool.ack(r);
        },
        async close() {
          spool.close();
        },
        async pending() {
          return found.map((_, k) => k);
        },
      };
    },
  };
}

// ---------------------------------------------------------------- LMDB

async function lmdbStore(mode: 'async' | 'sync'): Promise<StoreDef> {
  const lmdb = await import('lmdb');
  return {
    name: `lmdb-${mode}`,
    durability:
      mode === 'async'
        ? 'put/remove committed on the writer thread, flushed after each commit (overlappingSync)'
        : 'transactionSync on the main thread, returns before the flush (NO_SYNC_FLUSH)',
    async open(dir) {
      const db = lmdb.open({ path: dir, encoding: 'binary', keyEncoding: 'uint32', compression: false });
      const flags = lmdb.TransactionFlags.SYNCHRONOUS_COMMIT | lmdb.TransactionFlags.NO_SYNC_FLUSH;
      return {
        append(i, _batch, value) {
          if (mode === 'async') return db.put(i, value());
          db.transactionSync(() => db.putSync(i, value()), flags);
        },
        ack(i) {
          if (mode === 'async') return db.remove(i);
          db.transactionSync(() => db.removeSync(i), flags);
        },
        async close() {
          await db.flushed;
          await db.close();
        },
        async pending() {
          return [...db.getKeys()] as number[];
        },
      };
    },
  };
}

// ---------------------------------------------------------------- LevelDB

async function levelStore(): Promise<StoreDef> {
  const { ClassicLevel } = await import('classic-level');
  const key = (i: number): Buffer => {
    const k = Buffer.allocUnsafe(4);
    k.writeUInt32BE(i, 0);
    return k;
  };
  const SYNC_KEY = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]);
  return {
    name: 'leveldb',
    durability: 'writes with sync: false, a sync: true marker write every 100 ms while dirty (LevelDB defaults: 4 MiB write buffer, Snappy)',
    async open(dir) {
      const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      let dirty = false;
      let syncing: Promise<void> | undefined;
      const syncNow = (): Promise<void> => {
        dirty = false;
        const p = db.put(SYNC_KEY, Buffer.alloc(0), { sync: true }).finally(() => (syncing = undefined));
        syncing = p;
        return p;
      };
      const timer = setInterval(() => {
        if (dirty && syncing === undefined) void syncNow();
      }, SYNC_INTERVAL_MS);
      return {
        append(i, _batch, value) {
          dirty = true;
          return db.put(key(i), value());
        },
        ack(i) {
          dirty = true;
          return db.del(key(i));
        },
        async close() {
          clearInterval(timer);
          await syncing;
          await syncNow();
          await db.close();
        },
        async pending() {
          const out: number[] = [];
          for await (const k of db.keys({ lt: SYNC_KEY })) out.push(k.readUInt32BE(0));
          return out;
        },
      };
    },
  };
}

async function storeDefs(): Promise<StoreDef[]> {
  return [encodeOnly, spoolStore('interval'), spoolStore('batch'), await lmdbStore('async'), await lmdbStore('sync'), await levelStore()];
}

// ---------------------------------------------------------------- measuring

/** CPU nanoseconds of the main thread so far (schedstat: time on a CPU, ns). */
function mainThreadCpuNs(): number {
  const s = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1');
  return Number(s.split(' ')[0]);
}

/** CPU nanoseconds of all the process's threads so far (the same clock as the main thread's; the stores' threads live as long as the process). */
function processCpuNs(): number {
  let ns = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      ns += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return ns;
}

function writeBytes(): number {
  const m = /^write_bytes:\s+(\d+)$/m.exec(readFileSync('/proc/self/io', 'latin1'));
  return m ? Number(m[1]) : 0;
}

/** Bytes allocated on disk under `dir` (blocks, so a sparse or preallocated file counts what it holds). */
function diskUsage(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(path.join(dir, name));
    if (st.isFile()) total += st.blocks * 512;
  }
  return total;
}

interface Meter {
  stop(): { seconds: number; mainCpuS: number; cpuS: number; writeBytes: number };
}

function meter(): Meter {
  const t0 = process.hrtime.bigint();
  const m0 = mainThreadCpuNs();
  const c0 = processCpuNs();
  const w0 = writeBytes();
  return {
    stop: () => ({
      seconds: Number(process.hrtime.bigint() - t0) / 1e9,
      mainCpuS: (mainThreadCpuNs() - m0) / 1e9,
      cpuS: (processCpuNs() - c0) / 1e9,
      writeBytes: writeBytes() - w0,
    }),
  };
}

function makeBatches(): SpoolBatch[] {
  const lines = generateLines(FRAMES_PER_BATCH * DISTINCT_BATCHES, 11);
  const out: SpoolBatch[] = [];
  for (let b = 0; b < DISTINCT_BATCHES; b++) {
    const frames = lines.slice(b * FRAMES_PER_BATCH, (b + 1) * FRAMES_PER_BATCH).map((l) => Buffer.from(l));
    const bytes = Buffer.concat(frames);
    const ends = new Uint32Array(FRAMES_PER_BATCH);
    let at = 0;
    frames.forEach((f, k) => (ends[k] = at += f.length));
    const ctxs: ReceiveContext[] = [];
    const ctxFirst: number[] = [];
    for (let k = 0; k < FRAMES_PER_BATCH; k += FRAMES_PER_READ) {
      ctxFirst.push(k);
      ctxs.push({ peerAddress: '127.0.0.1', peerPort: 40_000 + b, transport: 'tcp', receivedAt: [0, 0] });
    }
    out.push({ bytes, ends, count: FRAMES_PER_BATCH, ctxs, ctxFirst });
  }
  return out;
}

/** Batch `i` of the run: one of the distinct batches, with a fresh receive time per context. */
function batchAt(batches: SpoolBatch[], i: number): SpoolBatch {
  const b = batches[i % batches.length]!;
  const now = Date.now();
  for (const c of b.ctxs) c.receivedAt = [Math.floor(now / 1000), (now % 1000) * 1e6];
  return b;
}

function valueOf(b: SpoolBatch, i: number): () => Buffer {
  return () => {
    const { parts, length } = encodeRecord(b, i);
    return Buffer.concat(parts, length);
  };
}

interface PhaseResult {
  seconds: number;
  mainCpuS: number;
  cpuS: number;
  writeBytes: number;
}

interface StoreResult {
  name: string;
  durability: string;
  batches: number;
  valueBytes: number;
  append: PhaseResult;
  recover: PhaseResult & { pending: number };
  ack: PhaseResult & { diskBytesAfter: number };
  steady: PhaseResult & { diskBytesAtEnd: number };
  peakRssMiB: number;
  error?: string;
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'latin1'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Run the phases for one store (in this process). */
async function runStore(def: StoreDef, mib: number, baseDir: string): Promise<StoreResult> {
  const batches = makeBatches();
  const valueLength = (i: number): number => encodeRecord(batches[i % batches.length]!, i).length;
  let n = 0;
  let valueBytes = 0;
  while (valueBytes < mib * 1024 * 1024) valueBytes += valueLength(n++);

  // 1. append
  const dir = mkdtempSync(path.join(baseDir, `${def.name}-`));
  let store = await def.open(dir);
  const inFlight: Array<Promise<unknown> | void> = [];
  let m = meter();
  for (let i = 0; i < n; i++) {
    const b = batchAt(batches, i);
    inFlight.push(store.append(i, b, valueOf(b, i)));
    // Bounded like the pipeline: at most IN_FLIGHT writes not yet committed.
    if (inFlight.length > IN_FLIGHT) await inFlight.shift();
    await turn();
  }
  await Promise.all(inFlight.splice(0));
  await store.close();
  const append = m.stop();

  // 2. recover
  m = meter();
  store = await def.open(dir);
  const pending = await store.pending();
  const recover = { ...m.stop(), pending: pending.length };
  if (pending.length !== n) throw new Error(`${def.name}: ${pending.length} batches found after reopen, ${n} written`);

  // 3. ack
  m = meter();
  for (const i of pending) {
    inFlight.push(store.ack(i));
    if (inFlight.length > IN_FLIGHT) await inFlight.shift();
    await turn();
  }
  await Promise.all(inFlight.splice(0));
  await store.close();
  const ack = { ...m.stop(), diskBytesAfter: diskUsage(dir) };
  rmSync(dir, { recursive: true, force: true });

  // 4. steady: append i, ack i - IN_FLIGHT
  const dir2 = mkdtempSync(path.join(baseDir, `${def.name}-steady-`));
  store = await def.open(dir2);
  m = meter();
  for (let i = 0; i < n + IN_FLIGHT; i++) {
    if (i < n) {
      const b = batchAt(batches, i);
      inFlight.push(store.append(i, b, valueOf(b, i)));
    }
    if (i >= IN_FLIGHT) inFlight.push(store.ack(i - IN_FLIGHT));
    while (inFlight.length > 2 * IN_FLIGHT) await inFlight.shift();
    await turn();
  }
  await Promise.all(inFlight.splice(0));
  const diskBytesAtEnd = diskUsage(dir2);
  await store.close();
  const steady = { ...m.stop(), diskBytesAtEnd };
  rmSync(dir2, { recursive: true, force: true });

  return { name: def.name, durability: def.durability, batches: n, valueBytes, append, recover, ack, steady, peakRssMiB: peakRssMiB() };
}

// ---------------------------------------------------------------- report

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function renderTable(rs: StoreResult[]): string {
  const rows = [
    '| store | durability | append MB/s | append batches/s | main-thread CPU µs per batch (append) | all threads CPU µs per batch (append) | write amplification (append) | recover (reopen + list) s | ack: main-thread µs per batch | ack: disk bytes written per batch | steady: batches/s | steady: main-thread µs per batch | steady: all threads µs per batch | steady: write amplification | disk used at end of steady MiB | disk used after all acked MiB | peak RSS MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rs) {
    if (r.error) {
      rows.push(`| ${r.name} | failed: ${r.error.replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 200)} |${' |'.repeat(15)}`);
      continue;
    }
    const perBatch = (s: number): string => fmt((s / r.batches) * 1e6);
    rows.push(
      `| ${r.name} | ${r.durability} | ${fmt(r.valueBytes / 1e6 / r.append.seconds)} | ${fmt(r.batches / r.append.seconds)} | ${perBatch(r.append.mainCpuS)} | ${perBatch(r.append.cpuS)} | ${fmt(r.append.writeBytes / r.valueBytes, 2)} | ${fmt(r.recover.seconds, 2)} | ${perBatch(r.ack.mainCpuS)} | ${fmt(r.ack.writeBytes / r.batches)} | ${fmt(r.batches / r.steady.seconds)} | ${perBatch(r.steady.mainCpuS)} | ${perBatch(r.steady.cpuS)} | ${fmt(r.steady.writeBytes / r.valueBytes, 2)} | ${fmt(r.steady.diskBytesAtEnd / 1024 ** 2, 1)} | ${fmt(r.ack.diskBytesAfter / 1024 ** 2, 1)} | ${fmt(r.peakRssMiB)} |`,
    );
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let mib = 256;
  let only: Set<string> | undefined;
  let json = false;
  let child: string | undefined;
  let baseDir = '/tmp/iptables-otel-bench';
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--mib' && v) (mib = Number(v)), i++;
    else if (k === '--only' && v) (only = new Set(v.split(','))), i++;
    else if (k === '--json') json = true;
    else if (k === '--store' && v) (child = v), i++;
    else if (k === '--dir' && v) (baseDir = v), i++;
    else throw new Error(`unknown argument ${k} (flags: --mib N --only name,name --json)`);
  }
  if (!Number.isFinite(mib) || mib < 1) throw new Error('--mib must be >= 1');
  const defs = await storeDefs();
  if (child !== undefined) {
    const def = defs.find((d) => d.name === child);
    if (!def) throw new Error(`no store ${child}`);
    const r = await runStore(def, mib, baseDir);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const chosen = defs.filter((d) => !only || only.has(d.name));
  const runDir = mkdtempSync('/tmp/iptables-otel-bench-spool-store-');
  const self = fileURLToPath(import.meta.url);
  const results: StoreResult[] = [];
  const began = Date.now();
  try {
    for (const def of chosen) {
      let r: StoreResult;
      try {
        const out = execFileSync(process.execPath, [self, '--store', def.name, '--mib', String(mib), '--dir', runDir], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 16 * 1024 * 1024,
        });
        r = JSON.parse(out.trim().split('\n').pop()!) as StoreResult;
      } catch (e) {
        r = { name: def.name, durability: def.durability, error: (e as Error).message } as StoreResult;
      }
      results.push(r);
      if (!r.error) {
        console.error(
          `${r.name}: append ${fmt(r.valueBytes / 1e6 / r.append.seconds)} MB/s, main ${fmt((r.append.mainCpuS / r.batches) * 1e6)} µs/batch, WA ${fmt(r.append.writeBytes / r.valueBytes, 2)}; recover ${fmt(r.recover.seconds, 2)} s; steady ${fmt(r.batches / r.steady.seconds)} batches/s`,
        );
      } else console.error(`${r.name}: failed: ${r.error}`);
    }
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
  if (json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  const first = results.find((r) => !r.error);
  console.log(
    `${first ? `${fmt(first.batches)} batches of ${FRAMES_PER_BATCH} frames, ${fmt(first.valueBytes / first.batches / 1024, 0)} KiB each (${fmt(first.valueBytes / first.batches / FRAMES_PER_BATCH, 1)} B per frame), ${fmt(first.valueBytes / 1024 ** 2)} MiB per phase` : ''}; ` +
      `${cpus().length} vCPU (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, wall ${fmt((Date.now() - began) / 1000)} s\n`,
  );
  console.log(renderTable(results));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
