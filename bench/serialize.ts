/**
 * Serialisation cost per record, fast path vs SDK path, for OTLP protobuf and JSON.
 *
 *   npm run build && node dist/bench/serialize.js [records-per-batch] [seconds-per-case]
 *
 * Two inputs: "parsed" records are the parser benchmark's line mix (bench/parse-mix.ts) through
 * parseFrame with a peer and transport, as the pipeline encodes them (~44 attributes, ~1,750 B of
 * OTLP each, constant values shared between records); "synthetic" records carry ~30 attributes of
 * every type, like a parsed TCP SYN drop, with every value freshly built. Each case encodes whole
 * batches (default 512 records) repeatedly for a fixed time after a warm-up ("fresh batches":
 * each batch newly parsed and encoded once, parsing not timed, as in the pipeline, where strings
 * are new and never hashed or flattened before) and reports CPU µs per record and MB/s of output per CPU second. "SDK emit" is the extra cost the SDK path pays before
 * serialising: building a LogRecordImpl per record. `--fast-only` runs the two fast encoders only.
 */
import { LogsExporterMetricsHelper, JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { parseFrame } from '../src/mapping/parse-frame.js';
import type { FirewallLogRecord } from '../src/mapping/record.js';
import { OtlpJsonRequestEncoder } from '../src/output/otlp-json-request.js';
import { OtlpProtobufEncoder } from '../src/output/otlp-protobuf.js';
import { emitToLogger } from '../src/output/otlp-sdk.js';
import { completeResource, instrumentationScope } from '../src/output/otlp-settings.js';
import { makeBenchLines } from './parse-mix.js';

function record(i: number): FirewallLogRecord {
  return {
    timestamp: [1_732_599_999 + i, 987_654_321],
    observedTimestamp: [1_732_600_000 + i, 123_456_789],
    severityNumber: 13,
    severityText: 'warning',
    body: `kernel: [ 1234.567890] iptables-dropped: IN=eth0 OUT= MAC=f6:f5:70:01:f1:81:fa:7d:e7:90:d0:9f:08:00 SRC=192.0.2.${i % 250} DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${6079 + i} DF PROTO=TCP SPT=${40000 + (i % 20000)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0`,
    attributes: {
      'source.address': `192.0.2.${i % 250}`,
      'source.port': 40000 + (i % 20000),
      'destination.address': '198.51.100.7',
      'destination.port': 22,
      'network.type': 'ipv4',
      'network.transport': 'tcp',
      'network.iana_number': '6',
      'network.community_id': '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
      'source.mac': 'FA-7D-E7-90-D0-9F',
      'destination.mac': 'F6-F5-70-01-F1-81',
      'related.ip': [`192.0.2.${i % 250}`, '198.51.100.7'],
      'iptables.input_device': 'eth0',
      'iptables.output_device': '',
      'iptables.ether_type': 2048,
      'iptables.length': 60,
      'iptables.tos': 0,
      'iptables.precedence_bits': 0,
      'iptables.ttl': 64,
      'iptables.id': 6079 + i,
      'iptables.fragment_flags': ['DF'],
      'iptables.tcp.window': 64240,
      'iptables.tcp.reserved_bits': 0,
      'iptables.tcp.flags': ['SYN'],
      'iptables.tcp.urgent_pointer': 0,
      'iptables.kernel_uptime': 1234.56789 + i,
      'log.prefix': 'iptables-dropped:',
      'event.action': 'dropped',
      'host.hostname': 'fw1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': 51514,
      'data_stream.dataset': 'iptables.log',
    },
  };
}

interface Result {
  name: string;
  usPerRecord: number;
  mbPerSec: number;
  bytesPerRecord: number;
}

function measure(name: string, batch: number, seconds: number, fn: () => number): Result {
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) fn();
  let bytes = 0;
  let batches = 0;
  // CPU time, not wall time: the machine is shared, and time spent descheduled is not ours.
  const c0 = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    bytes += fn();
    batches++;
  }
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  const records = batches * batch;
  return {
    name,
    usPerRecord: (ms * 1000) / records,
    mbPerSec: bytes / 1e6 / (ms / 1000),
    bytesPerRecord: bytes / records,
  };
}

/** The parser benchmark's lines as the pipeline sees them: UDP from a peer, received now. */
function parsedRecords(n: number, seed?: number): FirewallLogRecord[] {
  return makeBenchLines(n, seed).map((l, i) =>
    parseFrame(l, { transport: 'udp', peerAddress: '127.0.0.1', peerPort: 40000 + (i % 100), receivedAt: [1_795_700_000, i * 1000] }),
  );
}

/**
 * Like `measure`, but every batch is fresh from the parser and encoded once, as in the pipeline:
 * strings not yet hashed or flattened, objects not yet promoted. Only encoding is timed.
 */
function measureFresh(name: string, batch: number, seconds: number, fn: (records: FirewallLogRecord[]) => number): Result {
  // One batch at a time, encoded right after parsing as the pipeline does (records still in cache).
  const POOL = 1;
  let bytes = 0;
  let batches = 0;
  let cpu = 0;
  let seed = 1;
  const end = performance.now() + 300 + seconds * 1000;
  const warmEnd = performance.now() + 300;
  while (performance.now() < end) {
    const pool = Array.from({ length: POOL }, () => parsedRecords(batch, seed++));
    const warm = performance.now() < warmEnd;
    const c0 = process.cpuUsage();
    let b = 0;
    for (const records of pool) b += fn(records);
    const c = process.cpuUsage(c0);
    if (warm) continue;
    cpu += c.user + c.system;
    bytes += b;
    batches += POOL;
  }
  const ms = cpu / 1000;
  const records = batches * batch;
  return { name, usPerRecord: (ms * 1000) / records, mbPerSec: bytes / 1e6 / (ms / 1000), bytesPerRecord: bytes / records };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const fastOnly = process.argv.includes('--fast-only');
  const batch = Number(args[0] ?? 512);
  const seconds = Number(args[1] ?? 2);
  const records = Array.from({ length: batch }, (_, i) => record(i));
  const parsed = parsedRecords(batch);
  const resource = completeResource({});
  const scope = instrumentationScope();

  const pb = new OtlpProtobufEncoder(resource, scope);
  const js = new OtlpJsonRequestEncoder(resource, scope);

  // SDK path: records as the SDK's LogRecordImpl (ReadableLogRecord), captured in memory.
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new SimpleLogRecordProcessor({ exporter })],
    logRecordLimits: { attributeCountLimit: 1024 },
  });
  const logger = provider.getLogger(scope.name, scope.version);
  for (const r of records) emitToLogger(logger, r);
  // SimpleLogRecordProcessor hands records to the exporter asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  const sdkRecords: ReadableLogRecord[] = exporter.getFinishedLogRecords().slice();
  exporter.reset();
  if (sdkRecords.length !== batch || LogsExporterMetricsHelper.countItems(sdkRecords) !== batch) {
    throw new Error('SDK records not captured');
  }

  const results: Result[] = [
    // As OtlpHttpOutput uses them: bytes on loan, returned after the (here: instant) send.
    measure('parsed: fast protobuf (OtlpProtobufEncoder)', batch, seconds, () => {
      const l = pb.encodeLeased(parsed);
      l.release();
      return l.bytes.length;
    }),
    measure('parsed: fast JSON (OtlpJsonRequestEncoder)', batch, seconds, () => {
      const l = js.encodeLeased(parsed);
      l.release();
      return l.bytes.length;
    }),
    measureFresh('parsed, fresh batches: fast protobuf', batch, seconds, (rs) => {
      const l = pb.encodeLeased(rs);
      l.release();
      return l.bytes.length;
    }),
    measureFresh('parsed, fresh batches: fast JSON', batch, seconds, (rs) => {
      const l = js.encodeLeased(rs);
      l.release();
      return l.bytes.length;
    }),
    measure('synthetic: fast protobuf', batch, seconds, () => {
      const l = pb.encodeLeased(records);
      l.release();
      return l.bytes.length;
    }),
    measure('synthetic: fast JSON', batch, seconds, () => {
      const l = js.encodeLeased(records);
      l.release();
      return l.bytes.length;
    }),
  ];
  if (!fastOnly) results.push(
    measure('SDK protobuf (ProtobufLogsSerializer)', batch, seconds, () => ProtobufLogsSerializer.serializeRequest(sdkRecords)?.length ?? 0),
    measure('SDK JSON (JsonLogsSerializer)', batch, seconds, () => JsonLogsSerializer.serializeRequest(sdkRecords)?.length ?? 0),
    measure('SDK emit (toSdkLogRecord + Logger.emit)', batch, seconds, () => {
      for (const r of records) emitToLogger(logger, r);
      exporter.reset();
      return 0;
    }),
  );
  console.log(
    `batch ${batch} records; parsed: ${Object.keys(parsed[0]!.attributes).length} attributes (first record), ` +
      `synthetic: ${Object.keys(records[0]!.attributes).length} attributes (SDK rows: synthetic); node ${process.version}`,
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(46)} ${r.usPerRecord.toFixed(2).padStart(7)} µs/record` +
        (r.bytesPerRecord > 0 ? `  ${r.bytesPerRecord.toFixed(0).padStart(5)} B/record  ${r.mbPerSec.toFixed(0).padStart(4)} MB/s` : ''),
    );
  }
  await provider.shutdown();
}

await main();
