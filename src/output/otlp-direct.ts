/**
 * Frame -> OTLP protobuf `LogRecord`, with no record object in between: the direct path the
 * threaded pipeline takes when its only output is OTLP/HTTP protobuf (the default).
 *
 * Why: building a ~45-property attributes object per line and then walking it generically in
 * `OtlpProtobufEncoder` was about half of a worker's CPU (docs/performance.md, "Where the time
 * goes"). Here the frame is decoded and scanned as `parseFrame` does (`scanFrame`), and each
 * attribute is written straight from the scanned fields with its key bytes prepared once.
 *
 * Contract: the bytes are exactly those of `OtlpProtobufEncoder` encoding `parseFrame()`'s
 * record: same attributes, same order, same types (test/unit/output/otlp-direct.test.ts
 * compares them on the whole corpus, the benchmark mix and random mutations). Frames that are
 * not netfilter lines, and any surprise, go through that standard path itself, so the rare
 * cases cannot drift.
 */
import type { HrTime } from '@opentelemetry/api';
import {
  parseFrame,
  parseSettings,
  scanFrame,
  type ParseOptions,
  type ParseSettings,
} from '../mapping/parse-frame.js';
import type { ReceiveContext } from '../mapping/record.js';
import { OUTER_NAMES, QUOTED_NAMES, type PacketNames } from '../mapping/packet-attributes.js';
import { writeCommunityIdHash, writeCommunityIdHashV4 } from '../mapping/community-id.js';
import { SHA1_BASE64_LENGTH } from '../mapping/sha1.js';
import type { NetfilterFields, PacketFields } from '../netfilter/packet-fields.js';
import type { PrefixInfo } from '../netfilter/log-prefix.js';
import type { SyslogMessage } from '../syslog/syslog-message.js';
import { severityNumberOf, severityTextOf } from '../syslog/severity.js';
import { facilityNameOf } from '../syslog/facility.js';
import {
  CHUNK_HEAD_ROOM,
  encodeKeyField,
  flatCopy,
  intFieldHead,
  OtlpProtobufEncoder,
  putArrayHead,
  putAsciiElement,
  stringFieldHead,
  writeBodyField,
  writeGenericField,
  writeStringField,
} from './otlp-protobuf.js';
import { ProtobufWriter, putVarint32, varintSize } from './protobuf-writer.js';
import { releaseNow } from '../framing/owned-bytes.js';

interface NodeBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
}
const hasUtf8Slice = typeof (Buffer.prototype as Partial<NodeBuffer>).utf8Slice === 'function';

/** `b.toString('utf8', start, end)` without its argument handling (invalid bytes become U+FFFD alike). */
function utf8Slice(b: Buffer, start: number, end: number): string {
  return hasUtf8Slice ? (b as NodeBuffer).utf8Slice(start, end) : b.toString('utf8', start, end);
}

/** How one frame parsed (what `ParseOutcomeCounter` counts). */
export enum ParseOutcome {
  Ok = 0,
  /** Parsed, with tokens listed in `iptables.unparsed`. */
  Partial = 1,
  /** Not a netfilter line (`error.type`). */
  Failed = 2,
}

/**
 * One encoded `ScopeLogs.log_records` field (tag, length, LogRecord) inside a chunk of them.
 * What the pipeline queues on the direct path instead of a `FirewallLogRecord`.
 */
export class EncodedLogRecord {
  constructor(
    /** The chunk holding this record's bytes (shared by the records of one frame batch). */
    readonly chunk: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}
}

const LR_TIME = 0x09;
const LR_SEVERITY_NUMBER = 0x10;
const LR_SEVERITY_TEXT = 0x1a;
const LR_OBSERVED_TIME = 0x59;
const SCOPE_LOG_RECORD = 0x12;
const TWO_32 = 4294967296;

/** Longest string value written with a cached head (one-byte lengths). */
const HEAD_MAX = 32;

/** Values remembered per `strC` key. */
const STR_CACHE = 8;

/**
 * One attribute name: its `KeyValue.key` field and, built on first use, the complete field head
 * (tag, lengths, key, value tag) per value length, so a field costs one native copy of its head
 * plus its value (a native copy is ~2x cheaper than a byte loop for a ~25-byte key here).
 */
class Key {
  readonly kf: Uint8Array;
  /** Head of a string value of n ASCII characters: 0x32 kvLen | key | 0x12 anyLen 0x0a n. */
  private readonly strHeads: (Uint8Array | undefined)[] = [];
  /** Head of an int value whose varint has n bytes: 0x32 kvLen | key | 0x12 anyLen 0x18. */
  private readonly intHeads: (Uint8Array | undefined)[] = [];
  /**
   * The last values written through `strC` and their complete fields, most recent first: a
   * stream cycles through a few prefixes, actions and devices, so one slot would thrash.
   */
  readonly cStrs: (string | undefined)[] = new Array<string | undefined>(STR_CACHE).fill(undefined);
  readonly cFields: Uint8Array[] = new Array<Uint8Array>(STR_CACHE).fill(new Uint8Array(0));
  /** Complete fields of the decimal text of small numbers (`network.iana_number`), by number. */
  private readonly numTextFields: (Uint8Array | undefined)[] = [];
  constructor(name: string) {
    this.kf = encodeKeyField(name);
    // The heads' one-byte lengths hold for names up to 100 bytes (ours are under 64).
    if (this.kf.length > 102) throw new Error(`attribute name too long: ${name}`);
  }

  /** The complete field of the string `String(n)` (0 <= n < 256). */
  numTextField(n: number): Uint8Array {
    let f = this.numTextFields[n];
    if (f === undefined) {
      const w = new ProtobufWriter(128);
      writeGenericField(w, this.kf, String(n), false);
      f = w.finish();
      this.numTextFields[n] = f;
    }
    return f;
  }

  strHead(n: number): Uint8Array {
    return (this.strHeads[n] ??= stringFieldHead(this.kf, n));
  }

  intHead(vn: number): Uint8Array {
    return (this.intHeads[vn] ??= intFieldHead(this.kf, vn));
  }
}

function keyField(name: string): Key {
  return new Key(name);
}

/** A complete attribute field, through the standard encoder's general writer. */
function fieldOf(name: string, value: string | number | boolean | readonly string[]): Uint8Array {
  const w = new ProtobufWriter(256);
  writeGenericField(w, encodeKeyField(name), value as string, false);
  return w.finish();
}

const ctxAttributeKeys = new Map<string, Uint8Array>();

/** The encoded key of a context attribute (few distinct names: cached). */
function ctxAttributeKey(name: string): Uint8Array {
  let k = ctxAttributeKeys.get(name);
  if (k === undefined) {
    k = encodeKeyField(name);
    ctxAttributeKeys.set(name, k);
  }
  return k;
}

/** Key fields of one packet's attribute names. */
type PacketKeys = { readonly [K in keyof PacketNames]: Key };

function packetKeys(names: Readonly<PacketNames>): PacketKeys {
  const out: Record<string, Key> = {};
  for (const k of Object.keys(names) as (keyof PacketNames)[]) out[k] = keyField(names[k]);
  return out as unknown as PacketKeys;
}

const OUTER = packetKeys(OUTER_NAMES);
const QUOTED = packetKeys(QUOTED_NAMES);
const K = {
  communityId: keyField('network.community_id'),
  sourceMac: keyField('source.mac'),
  destinationMac: keyField('destination.mac'),
  vlanId: keyField('network.vlan.id'),
  vlanPriority: keyField('iptables.vlan.priority'),
  inputDevice: keyField('iptables.input_device'),
  outputDevice: keyField('iptables.output_device'),
  physicalInputDevice: keyField('iptables.physical_input_device'),
  physicalOutputDevice: keyField('iptables.physical_output_device'),
  etherType: keyField('iptables.ether_type'),
  vlanEtherType: keyField('iptables.vlan.ether_type'),
  ipOptions: keyField('iptables.ip_options'),
  extensionHeaders: keyField('iptables.ipv6.extension_headers'),
  tcpUrgentPointer: keyField('iptables.tcp.urgent_pointer'),
  tcpOptions: keyField('iptables.tcp.options'),
  icmpParameter: keyField('iptables.icmp.parameter'),
  icmpRedirect: keyField('iptables.icmp.redirect'),
  icmpMtu: keyField('iptables.icmp.mtu'),
  icmpPointer: keyField('iptables.icmp.pointer'),
  logPrefix: keyField('iptables.log_prefix'),
  mark: keyField('iptables.mark'),
  uid: keyField('iptables.uid'),
  gid: keyField('iptables.gid'),
  arpHardwareType: keyField('iptables.arp.hardware_type'),
  arpProtocolType: keyField('iptables.arp.protocol_type'),
  arpOpcode: keyField('iptables.arp.opcode'),
  unparsed: keyField('iptables.unparsed'),
  ubiquitiRuleSet: keyField('iptables.ubiquiti.rule_set'),
  ubiquitiRuleNumber: keyField('iptables.ubiquiti.rule_number'),
  ubiquitiInputZone: keyField('iptables.ubiquiti.input_zone'),
  ubiquitiOutputZone: keyField('iptables.ubiquiti.output_zone'),
  ruleId: keyField('rule.id'),
  ruleName: keyField('rule.name'),
  ruleDescription: keyField('rule.description'),
  ruleset: keyField('rule.ruleset'),
  ingressZone: keyField('observer.ingress.zone'),
  egressZone: keyField('observer.egress.zone'),
  action: keyField('event.action'),
  relatedIp: keyField('related.ip'),
  observerName: keyField('observer.name'),
  priority: keyField('log.syslog.priority'),
  facilityCode: keyField('log.syslog.facility.code'),
  facilityName: keyField('log.syslog.facility.name'),
  severityCode: keyField('log.syslog.severity.code'),
  severityName: keyField('log.syslog.severity.name'),
  appName: keyField('log.syslog.appname'),
  procId: keyField('log.syslog.procid'),
  msgId: keyField('log.syslog.msgid'),
  kernelUptime: keyField('iptables.kernel_uptime_us'),
  transport: keyField('log.syslog.transport'),
  peerAddress: keyField('network.peer.address'),
  peerPort: keyField('network.peer.port'),
  original: keyField('log.record.original'),
};

// Whole fields whose values come from a small fixed set (same values as parse-frame.ts).
const F_IPV4 = fieldOf('network.type', 'ipv4');
const F_IPV6 = fieldOf('network.type', 'ipv6');
const F_TRUNCATED = fieldOf('iptables.truncated', true);
const F_TYPE_DENIED_CONNECTION = fieldOf('event.type', ['denied', 'connection']);
const F_TYPE_ALLOWED_CONNECTION = fieldOf('event.type', ['allowed', 'connection']);
const F_TYPE_CONNECTION = fieldOf('event.type', ['connection']);
const F_TYPE_DENIED = fieldOf('event.type', ['denied']);
const F_TYPE_ALLOWED = fieldOf('event.type', ['allowed']);
const F_OUTCOME_FAILURE = fieldOf('event.outcome', 'failure');
const F_OUTCOME_SUCCESS = fieldOf('event.outcome', 'success');

/**
 * Chunk buffers kept for reuse (see `recycle`): enough for every chunk a worker has in flight,
 * so a flood allocates none. With 2, each dropped 2 MB chunk was replaced by a fresh one: V8's
 * external-memory pressure then forced extra collections and malloc fragmented (measured with
 * 8: ~11 % less CPU per message, peak RSS 220-224 MiB instead of up to 259).
 */
const SPARE_CHUNKS = 8;

/** Header field sets remembered (searched linearly: a few sending hosts per listener is typical). */
const HEADER_SLOTS = 16;

/** One syslog header's values and its encoded attribute fields. */
class HeaderSlot {
  readonly host: string | undefined;
  readonly pri: number | undefined;
  readonly fac: number | undefined;
  readonly sev: number | undefined;
  readonly app: string | undefined;
  readonly proc: string | undefined;
  readonly msgId: string | undefined;
  constructor(
    m: SyslogMessage,
    readonly bytes: Uint8Array,
  ) {
    // Flat copies: the message's strings are slices of a frame that should not be kept alive.
    this.host = m.hostname === undefined ? undefined : flatCopy(m.hostname);
    this.pri = m.priority;
    this.fac = m.facility;
    this.sev = m.severity;
    this.app = m.appName === undefined ? undefined : flatCopy(m.appName);
    this.proc = m.procId === undefined ? undefined : flatCopy(m.procId);
    this.msgId = m.msgId === undefined ? undefined : flatCopy(m.msgId);
  }
}

/** Prefix blocks remembered (a firewall logs a handful of prefixes, each with and without both addresses). */
const PREFIX_BLOCKS = 16;

/** The encoded prefix attributes of one (prefix, `PrefixInfo`, both addresses) combination. */
class PrefixBlock {
  constructor(
    readonly prefix: string,
    readonly info: PrefixInfo,
    readonly both: boolean,
    readonly bytes: Uint8Array,
  ) {}
}

/**
 * A few remembered entries, searched by the caller (a plain loop over `items`, no callback on
 * the hot path); a new entry replaces the oldest once `max` are held.
 */
class RecentSlots<T> {
  readonly items: T[] = [];
  private next = 0;
  constructor(private readonly max: number) {}

  /** Remember `item`, replacing the oldest entry when full; returns it. */
  add(item: T): T {
    if (this.items.length < this.max) this.items.push(item);
    else {
      this.items[this.next] = item;
      this.next = (this.next + 1) % this.max;
    }
    return item;
  }
}

/** Link blocks remembered. */
const LINK_BLOCKS = 8;

/** The encoded link attributes (MACs, devices, ethertypes) of one combination of their values. */
class LinkBlock {
  readonly sourceMac: string | undefined;
  readonly destinationMac: string | undefined;
  readonly inputDevice: string | undefined;
  readonly outputDevice: string | undefined;
  readonly physicalInputDevice: string | undefined;
  readonly physicalOutputDevice: string | undefined;
  readonly etherType: number | undefined;
  readonly vlanProtocol: number | undefined;
  constructor(
    nf: NetfilterFields,
    readonly bytes: Uint8Array,
  ) {
    this.sourceMac = nf.sourceMac;
    this.destinationMac = nf.destinationMac;
    this.inputDevice = nf.inputDevice;
    this.outputDevice = nf.outputDevice;
    this.physicalInputDevice = nf.physicalInputDevice;
    this.physicalOutputDevice = nf.physicalOutputDevice;
    this.etherType = nf.etherType;
    this.vlanProtocol = nf.vlanProtocol;
  }
}

/** Per-settings constants: the attributes every netfilter record starts with. */
function routingBlock(s: ParseSettings): Uint8Array {
  const parts = [
    fieldOf('event.kind', 'event'),
    fieldOf('event.category', ['network']),
    fieldOf('event.dataset', s.dataset),
    fieldOf('event.module', 'iptables'),
    fieldOf('data_stream.dataset', s.dataset),
    fieldOf('data_stream.namespace', s.namespace),
  ];
  return Buffer.concat(parts);
}

// Room made per record before the field writers' unchecked fast paths run (see `append`): each
// writes at most ~180 bytes (key, lengths, up to 32 characters) and a record has ~110 attributes
// at most; values from the frame text (body, original, prefix-derived names) add at most
// 3 bytes per UTF-16 unit each. Longer values go through writers that check room themselves.
const RECORD_SLACK = 32768;
const RECORD_PER_CHAR = 24;

/**
 * Encodes frames straight into OTLP `ScopeLogs.log_records` fields (see the file comment).
 * Not re-entrant: one per worker.
 */
export class OtlpDirectEncoder {
  private readonly w = new ProtobufWriter(1 << 20);
  /** The standard path, writing into the same buffer: for frames the direct path leaves alone. */
  private readonly standard: OtlpProtobufEncoder;
  private options: ParseOptions | undefined;
  private settings: ParseSettings;
  private routing: Uint8Array;
  // The syslog headers of a stream come from a few hosts and repeat: their fields are reused.
  private readonly headers = new RecentSlots<HeaderSlot>(HEADER_SLOTS);
  private ctxLast: ReceiveContext | undefined = undefined;
  private ctxTransport: string | undefined = undefined;
  private ctxAddress: string | undefined = undefined;
  private ctxPort: number | undefined = undefined;
  private ctxBytes: Uint8Array = new Uint8Array(0);
  private ctxValid = false;
  private sevLast = -1;
  private sevTextField: Uint8Array = new Uint8Array(0);
  private readonly linkBlocks = new RecentSlots<LinkBlock>(LINK_BLOCKS);
  private readonly prefixBlocks = new RecentSlots<PrefixBlock>(PREFIX_BLOCKS);
  private chunkStarts: number[] = [];
  private readonly spare: Buffer[] = [];
  /** Frames that went through the standard path (not netfilter lines, or a surprise): for tests and diagnostics. */
  standardPathFrames = 0;

  /** `options`: the parser options (dataset, namespace, time zone, prefix rules, ...). */
  constructor(options?: ParseOptions) {
    this.w.pos = CHUNK_HEAD_ROOM;
    this.standard = new OtlpProtobufEncoder({}, { name: '' }, { writer: this.w });
    this.options = options;
    this.settings = parseSettings(options);
    this.routing = routingBlock(this.settings);
  }

  /** New parser options (config reload): frames appended from now on use them. */
  setOptions(options: ParseOptions | undefined): void {
    this.options = options;
    this.settings = parseSettings(options);
    this.routing = routingBlock(this.settings);
  }

  /** `append` of the frame `bytes[start, end)`, decoded as UTF-8 without a Buffer per frame. */
  appendBytes(bytes: Buffer, start: number, end: number, ctx?: ReceiveContext): ParseOutcome {
    return this.append(utf8Slice(bytes, start, end), ctx);
  }

  /** Parse `frame` and append its encoded record to the current chunk. */
  append(frame: Buffer | string, ctx?: ReceiveContext): ParseOutcome {
    const w = this.w;
    const start = w.pos;
    try {
      const s = scanFrame(frame, ctx, this.options);
      if (s.nf.found) {
        // Every value is frame text, a number, or a constant: this bounds the record.
        w.ensure(RECORD_SLACK + RECORD_PER_CHAR * s.text.length);
        this.writeNetfilterRecord(s.text, s.message, s.observedTimestamp, s.nf, s.prefix as PrefixInfo, ctx);
        if (w.pos <= w.buf.length) {
          this.chunkStarts.push(start);
          return s.nf.unparsed !== undefined ? ParseOutcome.Partial : ParseOutcome.Ok;
        }
        // Cannot happen given the bound above; never send a record with bytes missing.
        w.pos = start;
      }
    } catch {
      // parseFrame below records the error on the frame itself (it never throws).
      w.pos = start;
    }
    this.standardPathFrames++;
    const r = parseFrame(frame, ctx, this.options);
    try {
      this.standard.appendLogRecord(r);
    } catch (err) {
      w.pos = start;
      throw err;
    }
    this.chunkStarts.push(start);
    const a = r.attributes;
    return a['error.type'] !== undefined
      ? ParseOutcome.Failed
      : a['iptables.unparsed'] !== undefined
        ? ParseOutcome.Partial
        : ParseOutcome.Ok;
  }

  /**
   * Give back a chunk from `takeChunk()` whose records have all left the pipeline: its memory is
   * reused for a later chunk (fresh large buffers cost page faults, and V8 counts them as
   * external memory, which brings full garbage collections forward), or released at once
   * (`releaseNow`): no view on it may be read afterwards.
   */
  recycle(chunk: Uint8Array): void {
    const ab = chunk.buffer;
    if (ab instanceof ArrayBuffer && ab.byteLength === this.w.buf.length && this.spare.length < SPARE_CHUNKS) {
      this.spare.push(Buffer.from(ab, 0, ab.byteLength));
    } else {
      // Not kept (a small batch's copy, or the spares are full): the chunk lived through its
      // export, so only a full collection would free it; with large records those piled up.
      releaseNow(chunk);
    }
  }

  /**
   * The records appended since the last call, as `EncodedLogRecord`s over one new chunk (a
   * copy: the encoder's buffer is reused).
   */
  takeChunk(): EncodedLogRecord[] {
    const w = this.w;
    const starts = this.chunkStarts;
    const n = starts.length;
    if (n === 0) return [];
    const total = w.pos;
    const chunk = w.take(this.spare.pop());
    w.pos = CHUNK_HEAD_ROOM;
    const out = new Array<EncodedLogRecord>(n);
    for (let i = 0; i < n; i++) {
      out[i] = new EncodedLogRecord(chunk, starts[i] as number, i + 1 < n ? (starts[i + 1] as number) : total);
    }
    this.chunkStarts = [];
    return out;
  }

  // --- the record ---------------------------------------------------------------------

  private writeNetfilterRecord(
    text: string,
    m: SyslogMessage,
    observed: HrTime,
    nf: NetfilterFields,
    info: PrefixInfo,
    ctx: ReceiveContext | undefined,
  ): void {
    const w = this.w;
    w.buf[w.pos++] = SCOPE_LOG_RECORD;
    // LogRecords are mostly 128..16383 bytes: two bytes reserved, moved if not.
    const mark = w.pos;
    w.pos += 2;
    w.buf[w.pos++] = LR_TIME;
    w.hrTime(m.timestamp ?? observed);
    const sev = m.severity;
    if (sev !== undefined) {
      const num = severityNumberOf(sev);
      if (num !== 0) {
        w.buf[w.pos++] = LR_SEVERITY_NUMBER;
        w.buf[w.pos++] = num; // < 128
      }
      if (sev !== this.sevLast) {
        const t = severityTextOf(sev);
        const f = new ProtobufWriter(32);
        if (t !== '') {
          f.byte(LR_SEVERITY_TEXT);
          f.string(t);
        }
        this.sevTextField = f.finish();
        this.sevLast = sev;
      }
      this.raw(this.sevTextField);
    }
    writeBodyField(w, m.msg);
    this.raw(this.routing);
    this.netfilter(nf, info);
    this.header(m, ctx);
    if (this.settings.preserveOriginal) this.str(K.original, text);
    w.buf[w.pos++] = LR_OBSERVED_TIME;
    w.hrTime(observed, 1);
    w.end(mark, 2);
  }

  /** The attributes `writeNetfilter` (parse-frame.ts) builds, in its order. */
  private netfilter(nf: NetfilterFields, info: PrefixInfo): void {
    const p = nf.packet;
    this.packet(p, OUTER);
    if (p.family !== 0) this.raw(p.family === 4 ? F_IPV4 : F_IPV6);
    const isIcmp = p.ianaNumber === 1 || p.ianaNumber === 58;
    this.communityId(p, isIcmp ? p.icmpType : p.sourcePort, isIcmp ? p.icmpCode : p.destinationPort);
    if (nf.vlanId === undefined) this.linkBlock(nf);
    else this.link(nf);
    // writeOuterExtras
    if (p.ipOptions !== undefined) this.str(K.ipOptions, p.ipOptions);
    if (p.extensionHeaders !== undefined) this.strs(K.extensionHeaders, p.extensionHeaders);
    if (p.tcpUrgentPointer !== undefined) this.num(K.tcpUrgentPointer, p.tcpUrgentPointer);
    if (p.tcpOptions !== undefined) this.str(K.tcpOptions, p.tcpOptions);
    if (p.icmpParameter !== undefined) this.num(K.icmpParameter, p.icmpParameter);
    if (p.icmpRedirect !== undefined) this.str(K.icmpRedirect, p.icmpRedirect);
    if (p.icmpMtu !== undefined) this.num(K.icmpMtu, p.icmpMtu);
    if (p.icmpPointer !== undefined) this.num(K.icmpPointer, p.icmpPointer);
    if (p.quoted !== undefined) this.packet(p.quoted, QUOTED);
    const both = p.source !== undefined && p.destination !== undefined;
    if (
      nf.mark === undefined &&
      nf.uid === undefined &&
      nf.gid === undefined &&
      nf.arpHardwareType === undefined &&
      nf.arpProtocolType === undefined &&
      nf.arpOpcode === undefined &&
      !nf.truncated &&
      nf.unparsed === undefined
    ) {
      // Nothing between the prefix and what it says: the whole run is one remembered block.
      this.prefixBlock(nf.prefix, info, both);
    } else {
      if (nf.prefix.length > 0) this.strC(K.logPrefix, nf.prefix);
      if (nf.mark !== undefined) this.num(K.mark, nf.mark);
      if (nf.uid !== undefined) this.num(K.uid, nf.uid);
      if (nf.gid !== undefined) this.num(K.gid, nf.gid);
      if (nf.arpHardwareType !== undefined) this.num(K.arpHardwareType, nf.arpHardwareType);
      if (nf.arpProtocolType !== undefined) this.num(K.arpProtocolType, nf.arpProtocolType);
      if (nf.arpOpcode !== undefined) this.num(K.arpOpcode, nf.arpOpcode);
      if (nf.truncated) this.raw(F_TRUNCATED);
      if (nf.unparsed !== undefined) this.strs(K.unparsed, nf.unparsed);
      this.prefixInfo(info, both);
    }
    if (both) {
      if (p.source === p.destination) this.strs(K.relatedIp, [p.source!]);
      else this.strs2(K.relatedIp, p.source!, p.destination!);
    } else if (p.source !== undefined) this.strs(K.relatedIp, [p.source]);
    else if (p.destination !== undefined) this.strs(K.relatedIp, [p.destination]);
  }

  /** MACs, VLAN, devices and ethertypes, in `writeNetfilter`'s order. */
  private link(nf: NetfilterFields): void {
    if (nf.sourceMac !== undefined) this.strC(K.sourceMac, nf.sourceMac);
    if (nf.destinationMac !== undefined) this.strC(K.destinationMac, nf.destinationMac);
    if (nf.vlanId !== undefined) {
      this.str(K.vlanId, String(nf.vlanId & 0x0fff));
      this.num(K.vlanPriority, nf.vlanId >> 13);
    }
    if (nf.inputDevice !== undefined) this.strC(K.inputDevice, nf.inputDevice);
    if (nf.outputDevice !== undefined) this.strC(K.outputDevice, nf.outputDevice);
    if (nf.physicalInputDevice !== undefined) this.strC(K.physicalInputDevice, nf.physicalInputDevice);
    if (nf.physicalOutputDevice !== undefined) this.strC(K.physicalOutputDevice, nf.physicalOutputDevice);
    if (nf.etherType !== undefined) this.num(K.etherType, nf.etherType);
    if (nf.vlanProtocol !== undefined) this.num(K.vlanEtherType, nf.vlanProtocol);
  }

  /**
   * Writes `link` (no VLAN id) as one remembered block: a host logs through a few interfaces
   * and link headers, so the combination repeats line after line.
   */
  private linkBlock(nf: NetfilterFields): void {
    const blocks = this.linkBlocks.items;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i] as LinkBlock;
      if (
        b.sourceMac === nf.sourceMac &&
        b.destinationMac === nf.destinationMac &&
        b.inputDevice === nf.inputDevice &&
        b.outputDevice === nf.outputDevice &&
        b.physicalInputDevice === nf.physicalInputDevice &&
        b.physicalOutputDevice === nf.physicalOutputDevice &&
        b.etherType === nf.etherType &&
        b.vlanProtocol === nf.vlanProtocol
      ) {
        this.raw(b.bytes);
        return;
      }
    }
    this.linkBlocks.add(new LinkBlock(nf, this.kept(() => this.link(nf))));
  }

  /**
   * Runs `write` and returns a copy of what it appended, to be remembered (a copy: the
   * writer's buffer is handed on with the chunk, so a view would change under the cache).
   */
  private kept(write: () => void): Uint8Array {
    const w = this.w;
    const start = w.pos;
    write();
    const bytes = new Uint8Array(w.pos - start);
    bytes.set(w.buf.subarray(start, w.pos));
    return bytes;
  }

  /** What the prefix says (`PrefixInfo`): rule and zone names, `event.type`, `event.action`, `event.outcome`. */
  private prefixInfo(info: PrefixInfo, both: boolean): void {
    if (info.ubiquitiRuleSet !== undefined) {
      this.strC(K.ubiquitiRuleSet, info.ubiquitiRuleSet);
      if (info.ubiquitiRuleNumber !== undefined) this.strC(K.ubiquitiRuleNumber, info.ubiquitiRuleNumber);
      if (info.ingressZone !== undefined) this.strC(K.ubiquitiInputZone, info.ingressZone);
      if (info.egressZone !== undefined) this.strC(K.ubiquitiOutputZone, info.egressZone);
    }
    if (info.ruleId !== undefined) this.strC(K.ruleId, info.ruleId);
    if (info.ruleName !== undefined) this.strC(K.ruleName, info.ruleName);
    if (info.ruleDescription !== undefined) this.strC(K.ruleDescription, info.ruleDescription);
    if (info.ruleset !== undefined) this.strC(K.ruleset, info.ruleset);
    if (info.ingressZone !== undefined) this.strC(K.ingressZone, info.ingressZone);
    if (info.egressZone !== undefined) this.strC(K.egressZone, info.egressZone);
    const verdict = info.verdict;
    if (verdict === 'denied') this.raw(both ? F_TYPE_DENIED_CONNECTION : F_TYPE_DENIED);
    else if (verdict === 'allowed') this.raw(both ? F_TYPE_ALLOWED_CONNECTION : F_TYPE_ALLOWED);
    else if (both) this.raw(F_TYPE_CONNECTION);
    if (info.action !== undefined) this.strC(K.action, info.action);
    if (verdict !== undefined) this.raw(verdict === 'denied' ? F_OUTCOME_FAILURE : F_OUTCOME_SUCCESS);
  }

  /**
   * Writes `iptables.log_prefix` and `prefixInfo` as one remembered block. The classifier hands out
   * one `PrefixInfo` object per prefix, so the info's identity, the prefix text and `both`
   * decide the bytes.
   */
  private prefixBlock(prefix: string, info: PrefixInfo, both: boolean): void {
    const blocks = this.prefixBlocks.items;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i] as PrefixBlock;
      if (b.info === info && b.both === both && b.prefix === prefix) {
        this.raw(b.bytes);
        return;
      }
    }
    const bytes = this.kept(() => {
      if (prefix.length > 0) this.strC(K.logPrefix, prefix);
      this.prefixInfo(info, both);
    });
    this.prefixBlocks.add(new PrefixBlock(prefix, info, both, bytes));
  }

  /** `writeOuterPacket` / `writeQuotedPacket` (packet-attributes.ts), in their order. */
  private packet(p: PacketFields, k: PacketKeys): void {
    if (p.source !== undefined) this.str(k.source, p.source);
    if (p.sourcePort !== undefined) this.num(k.sourcePort, p.sourcePort);
    if (p.destination !== undefined) this.str(k.destination, p.destination);
    if (p.destinationPort !== undefined) this.num(k.destinationPort, p.destinationPort);
    if (p.transport !== undefined) this.strC(k.transport, p.transport);
    const iana = p.ianaNumber;
    if (iana !== undefined) {
      if (iana >= 0 && iana < 256 && (iana | 0) === iana) this.raw(k.ianaNumber.numTextField(iana));
      else this.str(k.ianaNumber, String(iana));
    }
    if (p.length !== undefined) this.num(k.length, p.length);
    if (p.tos !== undefined) this.num(k.tos, p.tos);
    if (p.precedence !== undefined) this.num(k.precedence, p.precedence);
    if (p.ttl !== undefined) this.num(k.ttl, p.ttl);
    if (p.id !== undefined) this.num(k.id, p.id);
    if (p.fragmentFlags !== undefined) this.strs(k.fragmentFlags, p.fragmentFlags);
    if (p.fragmentOffset !== undefined) this.num(k.fragmentOffset, p.fragmentOffset);
    if (p.flowLabel !== undefined) this.num(k.flowLabel, p.flowLabel);
    if (p.tcpSeq !== undefined) this.num(k.tcpSeq, p.tcpSeq);
    if (p.tcpAck !== undefined) this.num(k.tcpAck, p.tcpAck);
    if (p.tcpWindow !== undefined) this.num(k.tcpWindow, p.tcpWindow);
    if (p.tcpReservedBits !== undefined) this.num(k.tcpReservedBits, p.tcpReservedBits);
    if (p.tcpFlags !== undefined) this.strs(k.tcpFlags, p.tcpFlags);
    if (p.udpLength !== undefined) this.num(k.udpLength, p.udpLength);
    if (p.spi !== undefined) this.num(k.spi, p.spi);
    if (p.incompleteBytes !== undefined) this.num(k.incompleteBytes, p.incompleteBytes);
    if (p.icmpType !== undefined) this.num(k.icmpType, p.icmpType);
    if (p.icmpCode !== undefined) this.num(k.icmpCode, p.icmpCode);
    if (p.icmpId !== undefined) this.num(k.icmpId, p.icmpId);
    if (p.icmpSeq !== undefined) this.num(k.icmpSeq, p.icmpSeq);
  }

  /** `writeHeader` (parse-frame.ts): header fields cached while the header repeats, the uptime, the peer. */
  private header(m: SyslogMessage, ctx: ReceiveContext | undefined): void {
    this.raw(this.headerSlot(m).bytes);
    // A source's own kernel stamp (ctx.attributes) replaces one from the frame, as in parse-frame.ts.
    if (m.kernelUptime !== undefined && ctx?.attributes?.['iptables.kernel_uptime_us'] === undefined) this.num(K.kernelUptime, Math.round(m.kernelUptime * 1e6));
    if (ctx === undefined) return;
    if (
      !this.ctxValid ||
      (ctx !== this.ctxLast &&
        (ctx.transport !== this.ctxTransport || ctx.peerAddress !== this.ctxAddress || ctx.peerPort !== this.ctxPort))
    ) {
      const w = new ProtobufWriter(256);
      if (ctx.transport !== undefined) writeGenericField(w, K.transport.kf, ctx.transport, false);
      if (ctx.peerAddress !== undefined) writeGenericField(w, K.peerAddress.kf, ctx.peerAddress, false);
      if (ctx.peerPort !== undefined) writeGenericField(w, K.peerPort.kf, ctx.peerPort, false);
      this.ctxBytes = w.finish();
      this.ctxTransport = ctx.transport;
      this.ctxAddress = ctx.peerAddress;
      this.ctxPort = ctx.peerPort;
      this.ctxValid = true;
    }
    this.ctxLast = ctx;
    this.raw(this.ctxBytes);
    // A source input's per-record attributes, as parse-frame.ts's writeHeader adds them; the
    // general writer checks room itself (a file path may be long).
    const extra = ctx.attributes;
    if (extra !== undefined) for (const k in extra) writeGenericField(this.w, ctxAttributeKey(k), extra[k]!, false);
  }

  /** The cached header fields of `m`'s header, built (replacing the oldest slot) when new. */
  private headerSlot(m: SyslogMessage): HeaderSlot {
    const slots = this.headers.items;
    for (let i = 0; i < slots.length; i++) {
      const h = slots[i] as HeaderSlot;
      if (
        h.host === m.hostname &&
        h.pri === m.priority &&
        h.fac === m.facility &&
        h.sev === m.severity &&
        h.app === m.appName &&
        h.proc === m.procId &&
        h.msgId === m.msgId
      ) {
        return h;
      }
    }
    return this.headers.add(new HeaderSlot(m, this.headerBytes(m)));
  }

  private headerBytes(m: SyslogMessage): Uint8Array {
    const w = new ProtobufWriter(512);
    if (m.hostname !== undefined) writeGenericField(w, K.observerName.kf, m.hostname, false);
    if (m.priority !== undefined) writeGenericField(w, K.priority.kf, m.priority, false);
    if (m.facility !== undefined) {
      writeGenericField(w, K.facilityCode.kf, m.facility, false);
      const name = facilityNameOf(m.facility);
      if (name !== '') writeGenericField(w, K.facilityName.kf, name, false);
    }
    if (m.severity !== undefined) {
      writeGenericField(w, K.severityCode.kf, m.severity, false);
      const name = severityTextOf(m.severity);
      if (name !== '') writeGenericField(w, K.severityName.kf, name, false);
    }
    if (m.appName !== undefined) writeGenericField(w, K.appName.kf, m.appName, false);
    if (m.procId !== undefined) writeGenericField(w, K.procId.kf, m.procId, false);
    if (m.msgId !== undefined) writeGenericField(w, K.msgId.kf, m.msgId, false);
    return w.finish();
  }

  // --- field writers (room ensured per record by `append`) -----------------------------

  /** Already encoded bytes. */
  private raw(f: Uint8Array): void {
    const w = this.w;
    w.buf.set(f, w.pos);
    w.pos += f.length;
  }

  /** A string attribute: ASCII up to HEAD_MAX characters behind a cached head, anything else natively. */
  private str(k: Key, s: string): void {
    const n = s.length;
    if (n <= HEAD_MAX) {
      const w = this.w;
      const buf = w.buf;
      const head = k.strHead(n);
      const p = w.pos;
      const v = p + head.length;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.strLong(k.kf, s);
          return;
        }
        buf[v + i] = c;
      }
      buf.set(head, p);
      w.pos = v + n;
      return;
    }
    this.strLong(k.kf, s);
  }

  /**
   * A string attribute whose value usually repeats (MACs, devices, the prefix and what it says,
   * the transport): the field is copied when the value is one of the key's last few (mostly the
   * same string object, so the compare is a pointer compare), written and remembered otherwise.
   */
  private strC(k: Key, s: string): void {
    const strs = k.cStrs;
    for (let i = 0; i < STR_CACHE; i++) {
      if (strs[i] === s) {
        this.raw(k.cFields[i] as Uint8Array);
        return;
      }
    }
    const f = this.kept(() => this.str(k, s));
    const fields = k.cFields;
    for (let i = STR_CACHE - 1; i > 0; i--) {
      strs[i] = strs[i - 1];
      fields[i] = fields[i - 1] as Uint8Array;
    }
    strs[0] = s;
    fields[0] = f;
  }

  /** Any string, natively (`writeStringField`). */
  private strLong(kf: Uint8Array, s: string): void {
    writeStringField(this.w, kf, s);
  }

  /** A number attribute: an `intValue` when integral (as the standard encoder decides), else through it. */
  private num(k: Key, v: number): void {
    if (!(v >= 0 && v < TWO_32 && Number.isInteger(v))) {
      this.generic(k, v);
      return;
    }
    const w = this.w;
    const buf = w.buf;
    const head = k.intHead(varintSize(v));
    buf.set(head, w.pos);
    w.pos = putVarint32(buf, w.pos + head.length, v);
  }

  /** A string array attribute: short ASCII elements with one-byte lengths, anything else through the standard writer. */
  private strs(k: Key, v: readonly string[]): void {
    let body = 0;
    for (let i = 0; i < v.length; i++) body += (v[i] as string).length + 4;
    const w = this.w;
    const buf = w.buf;
    let p = putArrayHead(buf, w.pos, k.kf, body);
    for (let i = 0; i < v.length && p >= 0; i++) p = putAsciiElement(buf, p, v[i] as string);
    if (p < 0) this.generic(k, v);
    else w.pos = p;
  }

  /**
   * `network.community_id` ("1:" and the base64 hash), hashed straight into the record: no
   * string. Nothing is written when the flow has none (as `communityId()` gives undefined).
   */
  private communityId(p: PacketFields, sp: number | undefined, dp: number | undefined): void {
    const w = this.w;
    const buf = w.buf;
    const head = K.communityId.strHead(2 + SHA1_BASE64_LENGTH);
    const at = w.pos;
    const v = at + head.length;
    buf[v] = 0x31; // '1'
    buf[v + 1] = 0x3a; // ':'
    const end =
      p.sourceV4 >= 0 && p.destinationV4 >= 0
        ? writeCommunityIdHashV4(buf, v + 2, p.sourceV4, p.destinationV4, p.ianaNumber, sp, dp)
        : writeCommunityIdHash(buf, v + 2, p.source, p.destination, p.ianaNumber, sp, dp);
    if (end < 0) return;
    buf.set(head, at);
    w.pos = end;
  }

  /** A two-string array attribute (`related.ip`) without building the array, when both are short ASCII. */
  private strs2(k: Key, a: string, b: string): void {
    const w = this.w;
    const buf = w.buf;
    let p = putArrayHead(buf, w.pos, k.kf, a.length + b.length + 8);
    if (p >= 0) p = putAsciiElement(buf, p, a);
    if (p >= 0) p = putAsciiElement(buf, p, b);
    if (p < 0) this.strs(k, [a, b]);
    else w.pos = p;
  }

  /** Any value through the standard encoder's general writer (same bytes by construction). */
  private generic(k: Key, v: string | number | readonly string[]): void {
    writeGenericField(this.w, k.kf, v as string, false);
  }


}
