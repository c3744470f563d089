/**
 * A minimal OTLP/HTTP logs receiver for the benchmark: it acknowledges every
 * `POST /v1/logs` and counts LogRecords, plus how many records carry each of a
 * few watched attribute keys (e.g. `error.type`).
 *
 * It shares two CPU cores with the systems it measures, so every µs it spends is
 * taken from them. Hence:
 * - HTTP/1.1 is spoken directly on `net` sockets (Content-Length and chunked
 *   bodies, keep-alive, pipelining, `Expect: 100-continue`) instead of through
 *   `node:http`, whose per-request objects and body stream cost more than the
 *   counting itself.
 * - Identity protobuf bodies are walked as they arrive, chunk by chunk, never
 *   copied or joined: only the tags and lengths of ExportLogsServiceRequest ->
 *   ResourceLogs.scope_logs -> ScopeLogs.log_records -> LogRecord fields are
 *   read, and a KeyValue key is compared only when its length is a watched key's;
 *   everything else is skipped by length.
 * Gzip and JSON bodies are collected and decoded fully (slower, but exact).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** Counts so far. */
export interface SinkCounts {
  records: number;
  requests: number;
  bytes: number;
  /** Records carrying each watched top-level attribute key. */
  withKey: Record<string, number>;
  /** Date.now() when the most recent record arrived. */
  lastRecordAt: number;
  /** Bodies that could not be decoded (answered 400). */
  badRequests: number;
}

/** A running sink. */
export interface OtlpCountSink {
  readonly port: number;
  readonly counts: SinkCounts;
  /** Zero all counters (between runs). */
  reset(): void;
  /** Close the listener and every keep-alive connection. */
  close(): Promise<void>;
}

/** Counting result for one request. */
interface ProtoCount {
  records: number;
  withKey: number[];
}

/**
 * Offsets in run() stay int32. Bodies are capped at 512 MiB, and the top-level
 * message's "end" while its length is unknown (chunked bodies) is 1 GiB, so
 * that end minus a piece's base (> -1 GiB) cannot overflow.
 */
const MAX_BODY = 1 << 29;
const OPEN = 1 << 30;

/**
 * Streaming counter for one protobuf ExportLogsServiceRequest. Feed it the body
 * in any number of pieces with `write`, then call `finish`. Offsets are absolute
 * body offsets, so a skip may jump past the piece at hand into later ones. A
 * step (one field's tag and length, plus a KeyValue's key) that is cut by a
 * piece boundary is retried on a small carry buffer: at most `maxStep` bytes.
 */
export class ProtobufRecordCounter {
  records = 0;
  readonly withKey: number[];
  /** Why the body is malformed, once it is known to be. */
  error: string | null = null;
  private readonly keys: readonly Uint8Array[];
  /** keysOfLen[n]: indexes of the watched keys n bytes long (n <= maxKeyLen). */
  private readonly keysOfLen: number[][];
  private readonly maxKeyLen: number;
  /** keyLens[n] !== 0: some watched key is n bytes long (n < 256). */
  private readonly keyLens = new Uint8Array(256);
  private readonly maxStep: number;
  /** Absolute offset of the next unparsed byte. */
  private off = 0;
  /** Bytes written so far. */
  private total = 0;
  /** 0 request, 1 ResourceLogs, 2 ScopeLogs, 3 LogRecord. */
  private level = 0;
  /** Absolute end offset of the open message at each level. */
  private readonly ends = [OPEN, 0, 0, 0];
  /** Bit k: watched key k already counted for the open LogRecord. */
  private seen = 0;
  /** Unparsed tail of the previous piece (a cut step) and room to append the next piece's head. */
  private readonly scratch: Uint8Array;
  private carryLen = 0;

  constructor(keys: readonly Uint8Array[]) {
    if (keys.length > 30) throw new Error('at most 30 watched keys');
    if (keys.some((k) => k.length > 127)) throw new Error('watched keys are at most 127 bytes'); // one-byte length, see run()
    this.keys = keys;
    this.withKey = keys.map(() => 0);
    this.maxKeyLen = keys.reduce((m, k) => Math.max(m, k.length), 0);
    this.keysOfLen = Array.from({ length: this.maxKeyLen + 1 }, () => [] as number[]);
    keys.forEach((k, i) => {
      this.keysOfLen[k.length]!.push(i);
      this.keyLens[k.length] = 1;
    });
    // tag (5) + length (4) + key tag (1) + key length (1) + key; a varint field: tag (5) + value (10).
    this.maxStep = Math.max(16 + this.maxKeyLen, 15);
    this.scratch = Buffer.alloc(2 * this.maxStep); // a Buffer like the socket's, so run() sees one array type
  }

  /** Start over for the next request. */
  reset(): void {
    this.records = 0;
    this.withKey.fill(0);
    this.error = null;
    this.off = 0;
    this.total = 0;
    this.level = 0;
    this.ends[0] = OPEN;
    this.seen = 0;
    this.carryLen = 0;
  }

  /** Feed body bytes buf[start, end) (start < 512 MiB, see OPEN). */
  write(buf: Uint8Array, start: number, end: number): void {
    const base = this.total - start; // absolute offset of buf[0]
    this.total += end - start;
    if (this.error !== null) return;
    if (this.total > MAX_BODY) {
      this.error = 'body over 512 MiB';
      return;
    }
    if (this.carryLen > 0) {
      // Finish the cut step on carry + the head of this piece.
      const s = this.scratch;
      const cl = this.carryLen;
      const take = Math.min(end - start, s.length - cl);
      s.set(buf.subarray(start, start + take), cl);
      const sBase = base + start - cl;
      const stop = this.run(s, cl + take, sBase);
      if (this.error !== null) return;
      if (stop < cl) {
        // Still cut: only possible when the whole piece fitted in the scratch.
        this.carry(s, stop, cl + take);
        return;
      }
      this.carryLen = 0;
    }
    if (this.off >= base + end) return; // skipped past this piece
    const stop = this.run(buf, end, base);
    if (this.error === null && stop < end) this.carry(buf, stop, end);
  }

  /** Close the body; false (and `error` set) when it is malformed or truncated. */
  finish(): boolean {
    if (this.error === null) {
      if (this.carryLen > 0 || this.off > this.total) this.error = 'truncated body';
      else {
        this.ends[0] = this.total;
        this.run(this.scratch, 0, this.total); // closes the messages ending at the body's end
        if (this.error === null && this.level !== 0) this.error = 'truncated message';
      }
    }
    return this.error === null;
  }

  private carry(buf: Uint8Array, from: number, to: number): void {
    // A cut step never needs more than maxStep bytes, so the tail fits.
    if (buf === this.scratch) this.scratch.copyWithin(0, from, to);
    else this.scratch.set(buf.subarray(from, to), 0);
    this.carryLen = to - from;
  }

  /**
   * Parse steps from local index (off - base) while they fit before `lim`.
   * Returns the local index where it stopped: >= lim when everything up to
   * there was consumed, else the start of a step cut by `lim`.
   * All arithmetic stays in int32 (lengths of at most 4 varint bytes, so
   * < 256 MiB): V8 keeps it untagged, which makes this loop ~2.5x faster than
   * with doubles.
   */
  private run(buf: Uint8Array, lim: number, base: number): number {
    const ends = this.ends;
    const keysOfLen = this.keysOfLen;
    const maxKeyLen = this.maxKeyLen;
    const keyLens = this.keyLens;
    const maxStep = this.maxStep;
    let level = this.level;
    let seen = this.seen;
    let records = this.records;
    let p = (this.off - base) | 0;
    let e = (ends[level]! - base) | 0; // local end of the open message
    let err: string | null = null;
    for (;;) {
      // Close the messages that end here.
      while (p >= e && level > 0) {
        if (p > e) {
          err = 'field overruns its message';
          break;
        }
        if (level === 3) {
          records++;
          if (seen !== 0) this.countSeen(seen);
          seen = 0;
        }
        level--;
        e = (ends[level]! - base) | 0;
      }
      if (err !== null) break;
      if (level === 3) {
        // Fast path for runs of LogRecord.attributes (~90 % of the fields), far
        // enough before `lim` that no step can be cut: no bounds checks.
        const fastEnd = e < lim - maxStep ? e : lim - maxStep;
        while (p < fastEnd && buf[p] === 0x32) {
          let b = buf[p + 1]!;
          let len = b & 0x7f;
          p += 2;
          if (b >= 0x80) {
            b = buf[p++]!;
            len |= (b & 0x7f) << 7;
            if (b >= 0x80) {
              b = buf[p++]!;
              len |= (b & 0x7f) << 14;
              if (b >= 0x80) {
                b = buf[p++]!;
                len |= (b & 0x7f) << 21;
                if (b >= 0x80) {
                  err = 'length over 256 MiB';
                  break;
                }
              }
            }
          }
          const kvEnd = p + len;
          // KeyValue.key = 1 with a one-byte length that is a watched key's.
          if (buf[p] === 0x0a && len > 1 && keyLens[buf[p + 1]!] !== 0) {
            const klen = buf[p + 1]!;
            if (p + 2 + klen > kvEnd) {
              err = 'truncated key';
              break;
            }
            const k = this.keyAt(buf, p + 2, klen, keysOfLen[klen]!);
            if (k >= 0) seen |= 1 << k;
          }
          p = kvEnd;
        }
        if (err !== null) break;
        if (p >= e) continue;
      }
      if (p >= lim) break;
      const s = p;
      // Tag: the wire type is in the first byte; the fields walked into (1, 2, 6) fit in it.
      let b = buf[p++]!;
      const wt = b & 7;
      const field = b >>> 3;
      if (b >= 0x80) {
        // A field number >= 16: never walked into, only skipped.
        let n = 1;
        while (b >= 0x80 && n < 5 && p < lim) {
          b = buf[p++]!;
          n++;
        }
        if (b >= 0x80) {
          if (n >= 5) err = 'bad tag';
          else p = s;
          break;
        }
      }
      if (wt === 2) {
        if (p >= lim) {
          p = s;
          break;
        }
        b = buf[p++]!;
        let len = b & 0x7f;
        if (b >= 0x80) {
          if (p >= lim) {
            p = s;
            break;
          }
          b = buf[p++]!;
          len |= (b & 0x7f) << 7;
          if (b >= 0x80) {
            if (p >= lim) {
              p = s;
              break;
            }
            b = buf[p++]!;
            len |= (b & 0x7f) << 14;
            if (b >= 0x80) {
              if (p >= lim) {
                p = s;
                break;
              }
              b = buf[p++]!;
              len |= (b & 0x7f) << 21;
              if (b >= 0x80) {
                err = 'length over 256 MiB';
                break;
              }
            }
          }
        }
        const fieldEnd = p + len;
        if (level === 3) {
          if (field === 6 && len > 0) {
            // LogRecord.attributes: KeyValue { key = 1 } (encoders write the key first).
            if (p >= lim) {
              p = s;
              break;
            }
            if (buf[p] === 0x0a) {
              let q = p + 1;
              if (q >= fieldEnd) {
                err = 'truncated key';
                break;
              }
              if (q >= lim) {
                p = s;
                break;
              }
              b = buf[q++]!;
              // A key of 128+ bytes is never watched (see maxKeyLen); skip it by the KeyValue's length.
              if (b <= maxKeyLen) {
                const ks = keysOfLen[b]!;
                if (ks.length > 0) {
                  if (q + b > fieldEnd) {
                    err = 'truncated key';
                    break;
                  }
                  if (q + b > lim) {
                    p = s;
                    break;
                  }
                  const k = this.keyAt(buf, q, b, ks);
                  if (k >= 0) seen |= 1 << k;
                }
              }
            }
          }
          p = fieldEnd;
          continue;
        }
        if (field === (level === 0 ? 1 : 2)) {
          // request.resource_logs = 1, ResourceLogs.scope_logs = 2, ScopeLogs.log_records = 2: descend.
          if (fieldEnd > e) {
            err = 'field overruns its message';
            break;
          }
          level++;
          ends[level] = fieldEnd + base;
          e = fieldEnd;
          continue;
        }
        p = fieldEnd;
      } else if (wt === 0) {
        let n = 0;
        do {
          if (p >= lim) break;
          b = buf[p++]!;
          n++;
        } while (b >= 0x80 && n < 10);
        if (n === 0 || b >= 0x80) {
          if (n >= 10) err = 'bad varint';
          else p = s;
          break;
        }
      } else if (wt === 1) {
        p += 8;
      } else if (wt === 5) {
        p += 4;
      } else {
        err = `unsupported wire type ${wt}`;
        break;
      }
    }
    this.level = level;
    this.seen = seen;
    this.records = records;
    this.off = p + base;
    if (err !== null) this.error = err;
    return p;
  }

  /** Index of the watched key (among `ks`, all `len` bytes long) at buf[q, q+len), or -1. */
  private keyAt(buf: Uint8Array, q: number, len: number, ks: readonly number[]): number {
    for (let j = 0; j < ks.length; j++) {
      const key = this.keys[ks[j]!]!;
      let i = 0;
      while (i < len && buf[q + i] === key[i]) i++;
      if (i === len) return ks[j]!;
    }
    return -1;
  }

  private countSeen(seen: number): void {
    for (let k = 0; k < this.withKey.length; k++) if ((seen & (1 << k)) !== 0) this.withKey[k]!++;
  }
}

/** Count LogRecords (and watched keys) in a whole protobuf ExportLogsServiceRequest. Throws on malformed input. */
export function countProtobuf(buf: Uint8Array, keys: readonly Uint8Array[]): ProtoCount {
  const c = new ProtobufRecordCounter(keys);
  c.write(buf, 0, buf.length);
  if (!c.finish()) throw new Error(c.error!);
  return { records: c.records, withKey: [...c.withKey] };
}

interface JsonKv {
  key?: string;
}
interface JsonRequest {
  resourceLogs?: { scopeLogs?: { logRecords?: { attributes?: JsonKv[] }[] }[] }[];
}

/** Count LogRecords (and watched keys) in an OTLP/JSON ExportLogsServiceRequest. */
export function countJson(text: string, keys: readonly string[]): ProtoCount {
  const req = JSON.parse(text) as JsonRequest;
  const out: ProtoCount = { records: 0, withKey: keys.map(() => 0) };
  for (const rl of req.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        out.records++;
        const attrs = lr.attributes ?? [];
        keys.forEach((k, i) => {
          if (attrs.some((a) => a.key === k)) out.withKey[i]!++;
        });
      }
    }
  }
  return out;
}

const enum St {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  Dead,
}

const MAX_HEAD = 64 * 1024;
const OK_PROTOBUF = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n', 'latin1');
const OK_JSON = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', 'latin1');
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

function plainResponse(status: string, text: string, close: boolean): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([
    Buffer.from(
      `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`,
      'latin1',
    ),
    body,
  ]);
}

/** What the sink needs from each finished request. */
type RequestDone = (c: Conn, body: 'streamed' | Buffer) => void;

/** One keep-alive connection: an HTTP/1.1 request parser feeding the counter. */
class Conn {
  private st = St.Head;
  /** Head text so far, and how much of "\r\n\r\n" was just seen. */
  private head = '';
  private crlf = 0;
  private line = '';
  private remaining = 0;
  // The request being read.
  isPost = false;
  isJson = false;
  gzip = false;
  private closeAfter = false;
  /** Body bytes on the wire (after de-chunking, before gunzip). */
  bodyBytes = 0;
  /** Body pieces kept for the slow paths (gzip, JSON); null while streaming into `counter`. */
  private pieces: Buffer[] | null = null;

  constructor(
    readonly sock: Socket,
    readonly counter: ProtobufRecordCounter,
    private readonly done: RequestDone,
  ) {}

  onData(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.st) {
        case St.Head: {
          const from = i;
          let c = this.crlf;
          // Heads are a few hundred bytes: a byte scan costs nothing and survives any split.
          while (i < n && c < 4) {
            const b = chunk[i++]!;
            if (b === 0x0d) c = c === 2 ? 3 : 1;
            else if (b === 0x0a) c = c === 1 ? 2 : c === 3 ? 4 : 0;
            else c = 0;
          }
          this.crlf = c;
          this.head += chunk.toString('latin1', from, i);
          if (c === 4) {
            this.crlf = 0;
            const head = this.head;
            this.head = '';
            this.startRequest(head);
          } else if (this.head.length > MAX_HEAD) {
            this.fail('431 Request Header Fields Too Large', 'request head too large');
          }
          break;
        }
        case St.Body:
        case St.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          this.body(chunk, i, i + take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.st === St.Body) this.endRequest();
            else this.st = St.ChunkDataEnd;
          }
          break;
        }
        case St.ChunkDataEnd:
        case St.ChunkSize:
        case St.Trailer: {
          // Line-oriented: chunk-size line, the CRLF after chunk data, trailer lines.
          const nl = chunk.indexOf(0x0a, i);
          const to = nl < 0 ? n : nl;
          this.line += chunk.toString('latin1', i, to);
          i = to;
          if (this.line.length > 4096) {
            this.fail('400 Bad Request', 'chunk line too long');
            break;
          }
          if (nl < 0) break;
          i++;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          if (this.st === St.ChunkDataEnd) {
            if (line !== '') this.fail('400 Bad Request', 'bad chunk end');
            else this.st = St.ChunkSize;
          } else if (this.st === St.ChunkSize) {
            const hex = (line.split(';', 1)[0] ?? '').trim();
            const size = /^[0-9a-fA-F]{1,12}$/.test(hex) ? parseInt(hex, 16) : -1;
            if (size < 0) this.fail('400 Bad Request', 'bad chunk size');
            else if (size === 0) this.st = St.Trailer;
            else {
              this.remaining = size;
              this.st = St.ChunkData;
            }
          } else if (line === '') {
            this.endRequest();
          }
          break;
        }
        case St.Dead:
          return;
      }
    }
  }

  private startRequest(head: string): void {
    const lines = head.split('\r\n');
    let first = lines[0]!;
    if (first === '') first = lines[1] ?? ''; // a stray CRLF before the request line
    const parts = first.split(' ');
    if (parts.length !== 3 || !parts[2]!.startsWith('HTTP/1.')) {
      this.fail('400 Bad Request', 'bad request line');
      return;
    }
    let contentLength = -1;
    let chunked = false;
    let ctype = '';
    let cenc = '';
    let conn = '';
    let expect = '';
    for (let k = 1; k < lines.length; k++) {
      const l = lines[k]!;
      const colon = l.indexOf(':');
      if (colon <= 0) continue;
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l.slice(colon + 1).trim();
      if (name === 'content-length') {
        contentLength = /^\d{1,15}$/.test(value) ? Number(value) : -2;
      } else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
      else if (name === 'content-type') ctype = value.toLowerCase();
      else if (name === 'content-encoding') cenc = value.toLowerCase();
      else if (name === 'connection') conn = value.toLowerCase();
      else if (name === 'expect') expect = value.toLowerCase();
    }
    if (contentLength === -2 && !chunked) {
      this.fail('400 Bad Request', 'bad content-length');
      return;
    }
    this.isPost = parts[0] === 'POST';
    this.isJson = ctype.includes('json');
    this.gzip = cenc === 'gzip';
    this.closeAfter = parts[2] === 'HTTP/1.0' ? !conn.includes('keep-alive') : conn.includes('close');
    this.bodyBytes = 0;
    if (this.isPost && !this.isJson && !this.gzip) {
      this.pieces = null;
      this.counter.reset();
    } else {
      this.pieces = [];
    }
    if (expect === '100-continue') this.sock.write(CONTINUE);
    if (chunked) {
      this.st = St.ChunkSize;
    } else if (contentLength > 0) {
      this.remaining = contentLength;
      this.st = St.Body;
    } else {
      this.endRequest();
    }
  }

  private body(chunk: Buffer, from: number, to: number): void {
    if (from === to) return;
    this.bodyBytes += to - from;
    if (this.pieces === null) this.counter.write(chunk, from, to);
    // Node gives each socket read a fresh buffer, so keeping a view is safe.
    else if (this.isPost) this.pieces.push(chunk.subarray(from, to));
  }

  private endRequest(): void {
    this.st = St.Head;
    this.done(this, this.pieces === null ? 'streamed' : this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces));
    this.pieces = null;
    if (this.closeAfter) this.end();
  }

  /** Answer and keep the connection (unless the request asked to close). */
  respond(res: Buffer): void {
    this.sock.write(res);
  }

  private fail(status: string, why: string): void {
    this.sock.write(plainResponse(status, why, true));
    this.end();
  }

  private end(): void {
    this.st = St.Dead;
    this.sock.end();
  }
}

/**
 * Start the sink on 127.0.0.1 (port 0 picks a free port). `watchKeys` are the
 * top-level attribute keys whose presence is counted per record (at most 30).
 */
export async function startOtlpCountSink(watchKeys: readonly string[] = ['error.type'], port = 0): Promise<OtlpCountSink> {
  const keyBufs = watchKeys.map((k) => Buffer.from(k, 'utf8'));
  const counts: SinkCounts = {
    records: 0,
    requests: 0,
    bytes: 0,
    withKey: Object.fromEntries(watchKeys.map((k) => [k, 0])),
    lastRecordAt: 0,
    badRequests: 0,
  };
  const BAD_METHOD = plainResponse('405 Method Not Allowed', 'POST only', false);
  const add = (records: number, withKey: readonly number[]) => {
    if (records === 0) return;
    counts.records += records;
    for (let i = 0; i < watchKeys.length; i++) counts.withKey[watchKeys[i]!]! += withKey[i]!;
    counts.lastRecordAt = Date.now();
  };
  const done: RequestDone = (c, body) => {
    if (!c.isPost) {
      c.respond(BAD_METHOD);
      return;
    }
    if (body === 'streamed') {
      if (c.counter.finish()) {
        counts.requests++;
        counts.bytes += c.bodyBytes;
        add(c.counter.records, c.counter.withKey);
        c.respond(OK_PROTOBUF);
      } else {
        counts.badRequests++;
        c.respond(plainResponse('400 Bad Request', `Error: ${c.counter.error}`, false));
      }
      return;
    }
    try {
      const raw = c.gzip ? gunzipSync(body) : body;
      const r = c.isJson ? countJson(raw.toString('utf8'), watchKeys) : countProtobuf(raw, keyBufs);
      counts.requests++;
      counts.bytes += body.length;
      add(r.records, r.withKey);
      c.respond(c.isJson ? OK_JSON : OK_PROTOBUF);
    } catch (err) {
      counts.badRequests++;
      c.respond(plainResponse('400 Bad Request', String(err), false));
    }
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    const conn = new Conn(sock, new ProtobufRecordCounter(keyBufs), done);
    sock.on('data', (d: Buffer) => conn.onData(d));
    sock.on('error', () => {}); // a client gone mid-request is not the sink's problem
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    counts,
    reset() {
      counts.records = 0;
      counts.requests = 0;
      counts.bytes = 0;
      counts.badRequests = 0;
      counts.lastRecordAt = 0;
      for (const k of watchKeys) counts.withKey[k] = 0;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
