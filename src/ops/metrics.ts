import { Counter, Gauge, Registry } from 'prom-client';

/**
 * Every counter and gauge the service exposes on `/metrics`, in one place.
 *
 * Components get a `Metrics` instance through their factory options and never
 * create metrics of their own, so the exposition stays consistent and a test can
 * use a private registry. Hot-path callers increment once per batch, not per record.
 */
export class Metrics {
  readonly registry: Registry;
  /** Frames received, by input name (`tcp://127.0.0.1:9001`). */
  readonly received: Counter<'input'>;
  /** Records produced by the parser, by outcome (`ok` / `partial` / `failed`). */
  readonly parsed: Counter<'outcome'>;
  /** Records that carry an `error.type` attribute. */
  readonly parseFailures: Counter;
  /** Framing errors (oversize, garbled octet count, ...) by input and reason; the stream re-syncs. */
  readonly framingErrors: Counter<'input' | 'reason'>;
  /** Records accepted by an output's far end, by output name. */
  readonly exported: Counter<'output'>;
  /** Failed export attempts (records in the failed batch), by output name. */
  readonly exportFailures: Counter<'output'>;
  /** Records or frames thrown away, by reason (`queue_full`, `shutdown_deadline`, ...). Never silent. */
  readonly dropped: Counter<'reason'>;
  /** Lines a source input read and deliberately did not export (e.g. `not_netfilter` kernel lines), by input and reason. */
  readonly skipped: Counter<'input' | 'reason'>;
  /** Source inputs' reader processes (journalctl) started again after they exited or failed to start, by input. */
  readonly inputRestarts: Counter<'input'>;
  /** Connections refused (max connections) or closed by us (idle timeout, buffer cap), by input and reason. */
  readonly connectionsClosed: Counter<'input' | 'reason'>;
  readonly queueRecords: Gauge;
  readonly queueBytes: Gauge;
  readonly openConnections: Gauge<'input'>;
  readonly pausedConnections: Gauge<'input'>;
  /** Bytes of the spool's segment files on disk. */
  readonly spoolBytes: Gauge;
  /** Frames in the spool not yet acknowledged by every output. */
  readonly spoolRecords: Gauge;
  /** Age of the oldest frame in the spool not yet acknowledged (0 when there is none). */
  readonly spoolOldestAge: Gauge;
  /** Spool bytes found damaged at start-up and skipped (the rest was delivered). */
  readonly spoolCorruptBytes: Counter;
  /** Failed spool writes or fsyncs (intake pauses; see the logs). */
  readonly spoolWriteErrors: Counter;
  /** What the spool gauges read at scrape time; set by the service when the spool is on. */
  spoolSource: (() => { bytes: number; records: number; oldestReceivedAtMs: number | undefined }) | undefined;
  /** Connections refused above maxConnections + maxPendingConnections, by input. */
  readonly connectionsRefused: Counter<'input'>;
  /** Connections accepted but not yet read (waiting for a free slot under maxConnections), by input. */
  readonly waitingConnections: Gauge<'input'>;
  /** Bytes held in partial (unterminated) frames across all stream connections (the input budget). */
  readonly partialFrameBytes: Gauge;
  /** SO_RCVBUF the kernel granted each UDP input (bytes), by input. */
  readonly udpReceiveBufferBytes: Gauge<'input'>;
  /** UDP senders read by the reader thread (each on a socket of its own), by input. */
  readonly udpReaderThreadSenders: Gauge<'input'>;
  /** Read errors of UDP sender sockets that an ICMP message set (the socket is still read), by input and code. */
  readonly udpSocketErrors: Counter<'input' | 'code'>;
  /** Times a UDP listener stopped reading because the pipeline was full (the kernel buffer held the burst), by input. */
  readonly udpListenerPauses: Counter<'input'>;
  /**
   * Longest event-loop delay of this thread since the previous scrape (the reader's worst
   * stall: a UDP burst longer than the receive buffer holds is lost while the loop stands).
   * Measured from the first scrape on (see `EventLoopStallMonitor`).
   */
  readonly eventLoopDelayMax: Gauge;
  private eventLoopStalls: EventLoopStallMonitor | undefined;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const r = [registry];
    this.received = new Counter({ name: 'iptables_otel_received_total', help: 'Frames received, by input.', labelNames: ['input'], registers: r });
    this.parsed = new Counter({ name: 'iptables_otel_parsed_total', help: 'Records produced by the parser, by outcome (ok, partial, failed).', labelNames: ['outcome'], registers: r });
    this.parseFailures = new Counter({ name: 'iptables_otel_parse_failures_total', help: 'Records that carry error.type (the original text is kept).', registers: r });
    this.framingErrors = new Counter({ name: 'iptables_otel_framing_errors_total', help: 'Framing errors (the stream re-syncs), by input and reason.', labelNames: ['input', 'reason'], registers: r });
    this.exported = new Counter({ name: 'iptables_otel_exported_total', help: 'Records acknowledged by an output, by output.', labelNames: ['output'], registers: r });
    this.exportFailures = new Counter({ name: 'iptables_otel_export_failures_total', help: 'Records in failed export attempts (they are retried), by output.', labelNames: ['output'], registers: r });
    this.dropped = new Counter({ name: 'iptables_otel_dropped_total', help: 'Records or frames dropped, by reason.', labelNames: ['reason'], registers: r });
    this.skipped = new Counter({ name: 'iptables_otel_skipped_total', help: 'Lines read from a local source and not exported by design (e.g. not_netfilter), by input and reason.', labelNames: ['input', 'reason'], registers: r });
    this.inputRestarts = new Counter({ name: 'iptables_otel_input_restarts_total', help: "Source inputs' reader processes (journalctl) started again after they exited or failed to start, by input.", labelNames: ['input'], registers: r });
    this.connectionsClosed = new Counter({ name: 'iptables_otel_connections_closed_total', help: 'Connections refused or closed by the receiver, by input and reason.', labelNames: ['input', 'reason'], registers: r });
    this.queueRecords = new Gauge({ name: 'iptables_otel_queue_records', help: 'Records waiting in the pipeline queue.', registers: r });
    this.queueBytes = new Gauge({ name: 'iptables_otel_queue_bytes', help: 'Approximate bytes waiting in the pipeline queue.', registers: r });
    this.openConnections = new Gauge({ name: 'iptables_otel_open_connections', help: 'Open TCP/TLS connections, by input.', labelNames: ['input'], registers: r });
    const metrics = this;
    this.spoolSource = undefined;
    this.spoolBytes = new Gauge({
      name: 'iptables_otel_spool_bytes',
      help: 'Bytes of the persistent spool on disk.',
      registers: r,
      collect() {
        this.set(metrics.spoolSource?.().bytes ?? 0);
      },
    });
    this.spoolRecords = new Gauge({
      name: 'iptables_otel_spool_records',
      help: 'Records (frames) in the spool not yet acknowledged by every output.',
      registers: r,
      collect() {
        this.set(metrics.spoolSource?.().records ?? 0);
      },
    });
    this.spoolOldestAge = new Gauge({
      name: 'iptables_otel_spool_oldest_age_seconds',
      help: 'Age of the oldest record in the spool not yet acknowledged (0 when empty).',
      registers: r,
      collect() {
        const at = metrics.spoolSource?.().oldestReceivedAtMs;
        this.set(at === undefined ? 0 : Math.max(0, (Date.now() - at) / 1000));
      },
    });
    this.spoolCorruptBytes = new Counter({ name: 'iptables_otel_spool_corrupt_bytes_total', help: 'Spool bytes found damaged at start-up and skipped.', registers: r });
    this.spoolWriteErrors = new Counter({ name: 'iptables_otel_spool_write_errors_total', help: 'Failed spool writes or fsyncs (intake pauses meanwhile).', registers: r });
    this.pausedConnections = new Gauge({ name: 'iptables_otel_paused_connections', help: 'TCP/TLS connections paused by backpressure, by input.', labelNames: ['input'], registers: r });
    this.connectionsRefused = new Counter({ name: 'iptables_otel_connections_refused_total', help: 'Connections refused above maxConnections + maxPendingConnections, by input.', labelNames: ['input'], registers: r });
    this.waitingConnections = new Gauge({ name: 'iptables_otel_waiting_connections', help: 'Connections accepted but waiting (not read) for a slot under maxConnections, by input.', labelNames: ['input'], registers: r });
    this.partialFrameBytes = new Gauge({ name: 'iptables_otel_partial_frame_bytes', help: 'Bytes held in partial frames across all TCP/TLS connections (the input budget).', registers: r });
    this.udpReaderThreadSenders = new Gauge({ name: 'iptables_otel_udp_reader_thread_senders', help: 'UDP senders read by the reader thread, each on a socket of its own, by input.', labelNames: ['input'], registers: r });
    this.udpSocketErrors = new Counter({ name: 'iptables_otel_udp_socket_errors_total', help: 'Errors UDP sender sockets returned on read, held for their sender by an ICMP message (ECONNREFUSED, EHOSTUNREACH...); the socket is still read. By input and code.', labelNames: ['input', 'code'], registers: r });
    this.udpListenerPauses = new Counter({ name: 'iptables_otel_udp_listener_pauses_total', help: 'Times a UDP listener stopped reading because the pipeline was full (arriving datagrams waited in the kernel receive buffer), by input.', labelNames: ['input'], registers: r });
    this.udpReceiveBufferBytes = new Gauge({ name: 'iptables_otel_udp_receive_buffer_bytes', help: 'UDP receive buffer (SO_RCVBUF) the kernel granted, by input.', labelNames: ['input'], registers: r });
    this.eventLoopDelayMax = new Gauge({
      name: 'iptables_otel_event_loop_delay_max_seconds',
      help: 'Longest event-loop delay of the main thread (the socket reader) since the previous scrape.',
      registers: r,
      collect() {
        // Started at the first scrape: a process nobody scrapes pays nothing for it.
        this.set((metrics.eventLoopStalls ??= new EventLoopStallMonitor()).takeMaxSeconds());
      },
    });
  }
}

/**
 * The longest delay of a 10 ms timer of this thread's event loop beyond its due time, since the
 * last `takeMaxSeconds()`. Not `monitorEventLoopDelay`: resetting its histogram at a scrape drops
 * the interval in progress, so a stall followed by a scrape in the same loop turn went unseen.
 */
class EventLoopStallMonitor {
  private last = performance.now();
  private max = 0;

  constructor(private readonly intervalMs = 10) {
    setInterval(() => {
      const now = performance.now();
      const late = now - this.last - this.intervalMs;
      if (late > this.max) this.max = late;
      this.last = now;
    }, intervalMs).unref();
  }

  /** The longest delay (seconds) since the previous call, counting a delay still in progress. */
  takeMaxSeconds(): number {
    const now = performance.now();
    const inProgress = now - this.last - this.intervalMs;
    const max = Math.max(this.max, inProgress, 0);
    this.max = 0;
    // The delay counted now is not counted again when the timer runs: it is measured from here on.
    if (inProgress > 0) this.last = now - this.intervalMs;
    return max / 1000;
  }
}
