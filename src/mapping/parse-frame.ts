/**
 * frame -> FirewallLogRecord: decodeSyslog -> nf_log scan -> attributes (names and types
 * from attribute-table.ts). Never throws; a frame that is not a netfilter line becomes a
 * record with `error.type`/`error.message`, its body and `log.record.original`.
 */
import type { HrTime } from '@opentelemetry/api';
import type { AttributeValue, FirewallLogRecord, ReceiveContext, RecordAttributes } from './record.js';
import type { SyslogDecodeOptions, SyslogMessage } from '../syslog/syslog-message.js';
import { decodeSyslog } from '../syslog/decode.js';
import { lastMessage } from '../syslog/message.js';
import { severityNumberOf, severityTextOf } from '../syslog/severity.js';
import { facilityNameOf } from '../syslog/facility.js';
import { scanNetfilter } from '../netfilter/scan-netfilter.js';
import type { NetfilterFields } from '../netfilter/packet-fields.js';
import { PrefixClassifier, type PrefixInfo } from '../netfilter/log-prefix.js';
import { communityId, communityIdV4 } from './community-id.js';
import { writeOuterExtras, writeOuterPacket, writeQuotedPacket } from './packet-attributes.js';
import { DEFAULT_PARSE_OPTIONS, type ParseOptions } from './parse-options.js';

export { DEFAULT_PARSE_OPTIONS, ParseOptionsError, validateParseOptions, type ParseOptions } from './parse-options.js';
export type { PrefixRule } from '../netfilter/log-prefix.js';

/** Per-options state built once: decoder options, the prefix classifier and its cache. */
interface Compiled {
  decode: SyslogDecodeOptions;
  /**
   * `decode` plus `nowMs`, set per frame when parseFrame reads the clock itself (no receive
   * time, no pinned `now`): year inference then reuses that read instead of a second one.
   */
  decodeAtClock: SyslogDecodeOptions;
  classifier: PrefixClassifier;
  preserveOriginal: boolean;
  dataset: string;
  namespace: string;
  now: Date | undefined;
}

const compiledByOptions = new WeakMap<ParseOptions, Compiled>();
const DEFAULT_COMPILED = compile({});

function compile(o: ParseOptions): Compiled {
  const decode: SyslogDecodeOptions = { timezone: o.timezone ?? DEFAULT_PARSE_OPTIONS.timezone };
  if (o.now !== undefined) decode.now = o.now;
  if (o.bootTimeMs !== undefined) decode.bootTimeMs = o.bootTimeMs;
  return {
    decode,
    decodeAtClock: { ...decode, nowMs: 0 },
    classifier: new PrefixClassifier(o.prefixRules ?? []),
    preserveOriginal: o.preserveOriginal ?? DEFAULT_PARSE_OPTIONS.preserveOriginal,
    dataset: o.dataset ?? DEFAULT_PARSE_OPTIONS.dataset,
    namespace: o.namespace ?? DEFAULT_PARSE_OPTIONS.namespace,
    now: o.now,
  };
}

function compiledFor(o: ParseOptions | undefined): Compiled {
  if (o === undefined) return DEFAULT_COMPILED;
  let c = compiledByOptions.get(o);
  if (c === undefined) {
    c = compile(o);
    compiledByOptions.set(o, c);
  }
  return c;
}

// Shared, frozen constant arrays: records are read-only once built, so sharing is safe and
// saves an allocation per record.
const CATEGORY_NETWORK = Object.freeze(['network']) as unknown as string[];
const TYPE_DENIED_CONNECTION = Object.freeze(['denied', 'connection']) as unknown as string[];
const TYPE_ALLOWED_CONNECTION = Object.freeze(['allowed', 'connection']) as unknown as string[];
const TYPE_CONNECTION = Object.freeze(['connection']) as unknown as string[];
const TYPE_DENIED = Object.freeze(['denied']) as unknown as string[];
const TYPE_ALLOWED = Object.freeze(['allowed']) as unknown as string[];
// Placeholder until build() picks the attributes object; never returned.
const EMPTY_ATTRIBUTES: RecordAttributes = Object.freeze({}) as RecordAttributes;

function hrNow(now: Date | undefined): HrTime {
  // Millisecond clock: cheaper than performance.now() per record, and inputs pass their own
  // receive time in ctx.receivedAt anyway.
  return hrOfMs(now !== undefined ? now.getTime() : Date.now());
}

function hrOfMs(ms: number): HrTime {
  const sec = Math.floor(ms / 1000);
  return [sec, (ms - sec * 1000) * 1e6];
}

function frameText(frame: unknown): string {
  if (typeof frame === 'string') return frame;
  if (Buffer.isBuffer(frame)) return frame.toString('utf8');
  if (frame instanceof Uint8Array) return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
  return '';
}

/** Length of the text without trailing LF, CR and NUL (where MSG ends, per decodeSyslog). */
function trimmedEnd(text: string): number {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c === 0x0a || c === 0x0d || c === 0) end--;
    else break;
  }
  return end;
}

/**
 * Where MSG starts inside the frame text, or -1. decodeSyslog's contract: MSG is the frame minus
 * its header and its trailing LF/CR/NUL, so it is a suffix of the trimmed frame. Spot-checked
 * (first, middle and last character) rather than compared in full. build() only calls this when
 * the decoder's own record of where MSG lies (`lastMessage`) does not apply.
 */
function msgOffset(text: string, msg: string): number {
  const end = trimmedEnd(text);
  const n = msg.length;
  const at = end - n;
  if (at < 0) return -1;
  if (n === 0) return at;
  const mid = n >> 1;
  return text.charCodeAt(at) === msg.charCodeAt(0) &&
    text.charCodeAt(at + mid) === msg.charCodeAt(mid) &&
    text.charCodeAt(end - 1) === msg.charCodeAt(n - 1)
    ? at
    : -1;
}

/** Header attributes every record gets (also failures): observer, log.syslog.*, peer. */
function writeHeader(a: RecordAttributes, m: SyslogMessage, ctx: ReceiveContext | undefined): void {
  if (m.hostname !== undefined) a['observer.name'] = m.hostname;
  if (m.priority !== undefined) a['log.syslog.priority'] = m.priority;
  if (m.facility !== undefined) {
    a['log.syslog.facility.code'] = m.facility;
    const name = facilityNameOf(m.facility);
    if (name !== '') a['log.syslog.facility.name'] = name;
  }
  if (m.severity !== undefined) {
    a['log.syslog.severity.code'] = m.severity;
    const name = severityTextOf(m.severity);
    if (name !== '') a['log.syslog.severity.name'] = name;
  }
  if (m.appName !== undefined) a['log.syslog.appname'] = m.appName;
  if (m.procId !== undefined) a['log.syslog.procid'] = m.procId;
  if (m.msgId !== undefined) a['log.syslog.msgid'] = m.msgId;
  if (m.kernelUptime !== undefined) a['iptables.kernel_uptime_us'] = Math.round(m.kernelUptime * 1e6);
  if (ctx !== undefined) {
    if (ctx.transport !== undefined) a['log.syslog.transport'] = ctx.transport;
    if (ctx.peerAddress !== undefined) a['network.peer.address'] = ctx.peerAddress;
    if (ctx.peerPort !== undefined) a['network.peer.port'] = ctx.peerPort;
    // A source input's per-record attributes (input.type, log.file.path, ...); otlp-direct.ts writes the same.
    // The source's value wins over one the frame gave (a printk stamp in a kmsg message) and
    // goes last, as otlp-direct.ts writes it.
    const extra = ctx.attributes;
    if (extra !== undefined) {
      for (const k in extra) {
        if (k in a) delete a[k];
        a[k] = extra[k]!;
      }
    }
  }
}

// Never true; see NetfilterAttributes.
const SIZE_HINT: boolean = false;

/**
 * Attributes of a parsed record. The constructor sets the keys every netfilter record has.
 * V8 gives instances of a class in-object room for the properties its constructor assigns
 * (counted in the source, executed or not) plus a little slack; the ~45 stores that follow
 * would otherwise spill into an out-of-object array that grows 3 slots at a time (a copy every
 * third store). The never-run block below makes that room 64 properties: measured 4x cheaper
 * stores. Slack tracking trims unused room after the first few instances. Instances are still
 * ordinary string-keyed objects, and never get the hint properties.
 */
class NetfilterAttributes {
  [name: string]: AttributeValue;
  constructor(dataset: string, namespace: string) {
    this['event.kind'] = 'event';
    this['event.category'] = CATEGORY_NETWORK;
    this['event.dataset'] = dataset;
    this['event.module'] = 'iptables';
    this['data_stream.dataset'] = dataset;
    this['data_stream.namespace'] = namespace;
    if (SIZE_HINT) {
      this.h1 = 0; this.h2 = 0; this.h3 = 0; this.h4 = 0; this.h5 = 0; this.h6 = 0; this.h7 = 0;
      this.h8 = 0; this.h9 = 0; this.h10 = 0; this.h11 = 0; this.h12 = 0; this.h13 = 0; this.h14 = 0;
      this.h15 = 0; this.h16 = 0; this.h17 = 0; this.h18 = 0; this.h19 = 0; this.h20 = 0; this.h21 = 0;
      this.h22 = 0; this.h23 = 0; this.h24 = 0; this.h25 = 0; this.h26 = 0; this.h27 = 0; this.h28 = 0;
      this.h29 = 0; this.h30 = 0; this.h31 = 0; this.h32 = 0; this.h33 = 0; this.h34 = 0; this.h35 = 0;
      this.h36 = 0; this.h37 = 0; this.h38 = 0; this.h39 = 0; this.h40 = 0; this.h41 = 0; this.h42 = 0;
      this.h43 = 0; this.h44 = 0; this.h45 = 0; this.h46 = 0; this.h47 = 0; this.h48 = 0; this.h49 = 0;
      this.h50 = 0; this.h51 = 0; this.h52 = 0; this.h53 = 0; this.h54 = 0; this.h55 = 0; this.h56 = 0;
      this.h57 = 0; this.h58 = 0;
    }
  }
}

function writeRouting(a: RecordAttributes, c: Compiled): void {
  a['event.dataset'] = c.dataset;
  a['event.module'] = 'iptables';
  a['data_stream.dataset'] = c.dataset;
  a['data_stream.namespace'] = c.namespace;
}

/**
 * Netfilter fields + prefix classification -> a new attributes object (the success path).
 * Allocating here rather than in build() lets V8 inline the constructor: build() has spent its
 * inlining budget on the decoder.
 */
function writeNetfilter(nf: NetfilterFields, info: PrefixInfo, c: Compiled): RecordAttributes {
  const a: RecordAttributes = new NetfilterAttributes(c.dataset, c.namespace);
  const p = nf.packet;
  writeOuterPacket(a, p);
  if (p.family !== 0) a['network.type'] = p.family === 4 ? 'ipv4' : 'ipv6';
  const isIcmp = p.ianaNumber === 1 || p.ianaNumber === 58;
  const sp = isIcmp ? p.icmpType : p.sourcePort;
  const dp = isIcmp ? p.icmpCode : p.destinationPort;
  const cid =
    p.sourceV4 >= 0 && p.destinationV4 >= 0
      ? communityIdV4(p.sourceV4, p.destinationV4, p.ianaNumber, sp, dp)
      : communityId(p.source, p.destination, p.ianaNumber, sp, dp);
  if (cid !== undefined) a['network.community_id'] = cid;
  if (nf.sourceMac !== undefined) a['source.mac'] = nf.sourceMac;
  if (nf.destinationMac !== undefined) a['destination.mac'] = nf.destinationMac;
  if (nf.vlanId !== undefined) {
    // nf_log prints the whole tag control information: PCP(3) DEI(1) VID(12).
    a['network.vlan.id'] = String(nf.vlanId & 0x0fff);
    a['iptables.vlan.priority'] = nf.vlanId >> 13;
  }

  if (nf.inputDevice !== undefined) a['iptables.input_device'] = nf.inputDevice;
  if (nf.outputDevice !== undefined) a['iptables.output_device'] = nf.outputDevice;
  if (nf.physicalInputDevice !== undefined) a['iptables.physical_input_device'] = nf.physicalInputDevice;
  if (nf.physicalOutputDevice !== undefined) a['iptables.physical_output_device'] = nf.physicalOutputDevice;
  if (nf.etherType !== undefined) a['iptables.ether_type'] = nf.etherType;
  if (nf.vlanProtocol !== undefined) a['iptables.vlan.ether_type'] = nf.vlanProtocol;
  writeOuterExtras(a, p);
  if (p.quoted !== undefined) writeQuotedPacket(a, p.quoted);
  if (nf.prefix.length > 0) a['iptables.log_prefix'] = nf.prefix;
  if (nf.mark !== undefined) a['iptables.mark'] = nf.mark;
  if (nf.uid !== undefined) a['iptables.uid'] = nf.uid;
  if (nf.gid !== undefined) a['iptables.gid'] = nf.gid;
  if (nf.arpHardwareType !== undefined) a['iptables.arp.hardware_type'] = nf.arpHardwareType;
  if (nf.arpProtocolType !== undefined) a['iptables.arp.protocol_type'] = nf.arpProtocolType;
  if (nf.arpOpcode !== undefined) a['iptables.arp.opcode'] = nf.arpOpcode;
  if (nf.truncated) a['iptables.truncated'] = true;
  if (nf.unparsed !== undefined) a['iptables.unparsed'] = nf.unparsed;

  if (info.ubiquitiRuleSet !== undefined) {
    a['iptables.ubiquiti.rule_set'] = info.ubiquitiRuleSet;
    if (info.ubiquitiRuleNumber !== undefined) a['iptables.ubiquiti.rule_number'] = info.ubiquitiRuleNumber;
    if (info.ingressZone !== undefined) a['iptables.ubiquiti.input_zone'] = info.ingressZone;
    if (info.egressZone !== undefined) a['iptables.ubiquiti.output_zone'] = info.egressZone;
  }
  if (info.ruleId !== undefined) a['rule.id'] = info.ruleId;
  if (info.ruleName !== undefined) a['rule.name'] = info.ruleName;
  if (info.ruleDescription !== undefined) a['rule.description'] = info.ruleDescription;
  if (info.ruleset !== undefined) a['rule.ruleset'] = info.ruleset;
  if (info.ingressZone !== undefined) a['observer.ingress.zone'] = info.ingressZone;
  if (info.egressZone !== undefined) a['observer.egress.zone'] = info.egressZone;

  const both = p.source !== undefined && p.destination !== undefined;
  const verdict = info.verdict;
  if (verdict === 'denied') a['event.type'] = both ? TYPE_DENIED_CONNECTION : TYPE_DENIED;
  else if (verdict === 'allowed') a['event.type'] = both ? TYPE_ALLOWED_CONNECTION : TYPE_ALLOWED;
  else if (both) a['event.type'] = TYPE_CONNECTION;
  if (info.action !== undefined) a['event.action'] = info.action;
  if (verdict !== undefined) a['event.outcome'] = verdict === 'denied' ? 'failure' : 'success';
  if (both) a['related.ip'] = p.source === p.destination ? [p.source!] : [p.source!, p.destination!];
  else if (p.source !== undefined) a['related.ip'] = [p.source];
  else if (p.destination !== undefined) a['related.ip'] = [p.destination];
  return a;
}

/**
 * One frame decoded and scanned, before any attribute is built: what `parseFrame` turns into a
 * record, and what the direct OTLP encoder (src/output/otlp-direct.ts) writes from. Read it
 * before the next scan: the object is reused.
 */
export interface ScannedFrame {
  /** The frame as text. */
  text: string;
  message: SyslogMessage;
  observedTimestamp: HrTime;
  /** The nf_log fields; `nf.found` is false when the frame is not a netfilter line. */
  nf: NetfilterFields;
  /** What the log prefix says (when `nf.found`). */
  prefix: PrefixInfo | undefined;
}

/** The parser settings an encoder of `ScannedFrame`s needs. */
export interface ParseSettings {
  readonly dataset: string;
  readonly namespace: string;
  readonly preserveOriginal: boolean;
}

/** The resolved settings of `options` (cached per options object). */
export function parseSettings(options?: ParseOptions): ParseSettings {
  return compiledFor(options);
}

function scan(frame: string | Buffer, ctx: ReceiveContext | undefined, c: Compiled): ScannedFrame {
  let observedTimestamp: HrTime;
  let decode = c.decode;
  if (ctx?.receivedAt !== undefined) observedTimestamp = ctx.receivedAt;
  else if (c.now !== undefined) observedTimestamp = hrNow(c.now);
  else {
    // One clock read for both the observed time and year inference (decode would read it again).
    const ms = Date.now();
    observedTimestamp = hrOfMs(ms);
    decode = c.decodeAtClock;
    decode.nowMs = ms;
  }
  // Decode from one string: the scanner then reads the frame itself (a flat string), which is
  // faster than reading MSG (a substring of it).
  const text = frameText(frame);
  const m = decodeSyslog(text, decode);
  // newMessage() recorded where it cut MSG from this very text: when MSG runs to the trimmed end,
  // that is exactly what msgOffset() would find, without comparing characters.
  const at =
    lastMessage.source === text && lastMessage.end === trimmedEnd(text) ? lastMessage.start : msgOffset(text, m.msg);
  const nf = at >= 0 ? scanNetfilter(text, at + m.contentStart, at + m.msg.length) : scanNetfilter(m.msg, m.contentStart);
  // One object, refilled per frame: every reader consumes it before the next scan.
  const out = lastScan;
  out.text = text;
  out.message = m;
  out.observedTimestamp = observedTimestamp;
  out.nf = nf;
  out.prefix = nf.found ? c.classifier.classify(nf.prefix) : undefined;
  return out;
}

const lastScan: ScannedFrame = {
  text: '',
  message: undefined as unknown as SyslogMessage,
  observedTimestamp: [0, 0],
  nf: undefined as unknown as NetfilterFields,
  prefix: undefined,
};

/**
 * Decodes and scans one frame without building its attributes (see `ScannedFrame`). Throws
 * only on a parser bug; `parseFrame` is the never-throwing entry point.
 */
export function scanFrame(frame: string | Buffer, ctx?: ReceiveContext, options?: ParseOptions): ScannedFrame {
  return scan(frame, ctx, compiledFor(options));
}

function build(frame: string | Buffer, ctx: ReceiveContext | undefined, c: Compiled): FirewallLogRecord {
  const s = scan(frame, ctx, c);
  const m = s.message;
  const text = s.text;
  const sev = m.severity;
  const record: FirewallLogRecord = {
    observedTimestamp: s.observedTimestamp,
    severityNumber: sev !== undefined ? severityNumberOf(sev) : 0,
    body: m.msg,
    attributes: EMPTY_ATTRIBUTES,
  };
  if (m.timestamp !== undefined) record.timestamp = m.timestamp;
  if (sev !== undefined) {
    const text = severityTextOf(sev);
    if (text !== '') record.severityText = text;
  }
  const nf = s.nf;
  if (nf.found) {
    const a = writeNetfilter(nf, s.prefix!, c);
    record.attributes = a;
    writeHeader(a, m, ctx);
    if (c.preserveOriginal) a['log.record.original'] = text;
    return record;
  }
  const a: RecordAttributes = {};
  record.attributes = a;
  writeHeader(a, m, ctx);
  writeRouting(a, c);
  a['event.kind'] = 'pipeline_error';
  const empty = m.msg.length === 0 || m.msg.trim().length === 0;
  a['error.type'] = empty ? 'empty_frame' : 'not_netfilter';
  a['error.message'] = empty
    ? 'empty frame: no syslog message'
    : 'not a netfilter log line: no IN= key and no truncated TTL= start';
  a['log.record.original'] = text;
  return record;
}

/**
 * Parses one syslog frame (no framing bytes) into a record. Never throws: frames that are
 * not netfilter lines come back with `error.type`, `error.message`, the body and
 * `log.record.original` (the raw frame, which is also kept on success when
 * `options.preserveOriginal` is set). `ctx` supplies the sender (`network.peer.*`), the
 * listener transport (`log.syslog.transport`) and the receive time.
 */
export function parseFrame(frame: string | Buffer, ctx?: ReceiveContext, options?: ParseOptions): FirewallLogRecord {
  const c = compiledFor(options);
  try {
    return build(frame, ctx, c);
  } catch (e) {
    // Defensive: a parser bug must not lose the frame.
    let text = '';
    try {
      text = frameText(frame);
    } catch {
      text = '';
    }
    return {
      observedTimestamp: ctx?.receivedAt ?? hrNow(c.now),
      severityNumber: 0,
      body: text,
      attributes: {
        'event.kind': 'pipeline_error',
        'error.type': 'internal_error',
        'error.message': `parser error: ${e instanceof Error ? e.message : String(e)}`,
        'log.record.original': text,
        'event.dataset': c.dataset,
        'event.module': 'iptables',
        'data_stream.dataset': c.dataset,
        'data_stream.namespace': c.namespace,
      },
    };
  }
}
