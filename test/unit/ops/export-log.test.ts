import { describe, expect, it } from 'vitest';
import { ExportLog } from '../../../src/ops/export-log.js';
import { HealthTracker } from '../../../src/ops/health.js';
import { createLogger, forwardingLogger, type LogFields } from '../../../src/ops/logger.js';
import { endpointForLog, maskSecretValues, REDACTED, secretHeaderValues } from '../../../src/ops/redact.js';
import { PartialExportError, PermanentExportError } from '../../../src/output/export-error.js';
import { describeExportFailure, formatExportFailure, RETRYING } from '../../../src/output/export-failure.js';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { describeOtlpFailure, otlpSecrets } from '../../../src/output/otlp-http.js';
import { otlpStatusHandling } from '../../../src/output/otlp-http-status.js';
import { responseExcerpt } from '../../../src/output/response-body.js';

function capture(): { lines: LogFields[]; raw: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: LogFields[] = [];
  const raw: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: {
      write(l: string) {
        raw.push(l);
        lines.push(JSON.parse(l) as LogFields);
      },
    },
  });
  return { lines, raw, logger };
}

const REFUSED = formatExportFailure({ cause: 'ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:4318)', endpoint: 'http://127.0.0.1:4318/v1/logs', retry: RETRYING });
const UNAUTHORIZED = formatExportFailure({ cause: 'HTTP 401 Unauthorized', endpoint: 'https://c.example/v1/logs', retry: RETRYING, response: 'no' });
const BAD_REQUEST = formatExportFailure({ cause: 'HTTP 400 Bad Request', endpoint: 'https://c.example/v1/logs', retry: 'not retried, batch of 3 records dropped (export_rejected)', response: 'bad; very bad' });

describe('export failure text', () => {
  it('reads back status, code, endpoint, retry state and response', () => {
    expect(describeExportFailure(REFUSED)).toEqual({
      code: 'ECONNREFUSED',
      endpoint: 'http://127.0.0.1:4318/v1/logs',
      retrying: true,
      summary: REFUSED,
    });
    expect(describeExportFailure(new Error(UNAUTHORIZED))).toMatchObject({ status: 401, retrying: true, endpoint: 'https://c.example/v1/logs', response: 'no' });
    expect(describeExportFailure(BAD_REQUEST)).toMatchObject({ status: 400, retrying: false, response: 'bad; very bad' });
    expect(describeExportFailure(formatExportFailure({ cause: 'TIMEOUT (no response within 300 ms)', endpoint: 'http://h/v1/logs', retry: RETRYING }))).toMatchObject({ code: 'TIMEOUT', retrying: true });
  });

  it("another output's own message: the code it contains, retrying unless the error says otherwise", () => {
    const fluent = new Error('fluent forward: no connection (connect ECONNREFUSED 127.0.0.1:24224) within 1000 ms; giving up');
    expect(describeExportFailure(fluent)).toMatchObject({ code: 'ECONNREFUSED', retrying: true });
    expect(describeExportFailure(fluent).endpoint).toBeUndefined();
    expect(describeExportFailure(new PermanentExportError('console output: write EPIPE'))).toMatchObject({ code: 'EPIPE', retrying: false });
    expect(describeExportFailure('OTLP export failed')).toEqual({ retrying: true, summary: 'OTLP export failed' });
  });

  it('the error flag wins over the text', () => {
    expect(describeExportFailure(new PartialExportError(REFUSED, { export_too_large: 1 })).retrying).toBe(false);
  });
});

describe('OTLP failures as text', () => {
  it('status table: 413 splits, 400/422 are rejected, everything else is retried', () => {
    expect(otlpStatusHandling(413)).toBe('split');
    for (const s of [400, 422]) expect(otlpStatusHandling(s)).toBe('reject');
    for (const s of [401, 403, 404, 405, 407, 408, 409, 415, 429, 500, 501, 502, 503, 504]) expect(otlpStatusHandling(s)).toBe('retry');
  });

  it('an HTTP error: status, endpoint without userinfo or query, masked and truncated body', () => {
    const url = 'https://bobby:pw-4567@c.example:4318/v1/logs?token=tok-9999#frag';
    const secrets = otlpSecrets({ url, headers: { Authorization: 'Bearer abcdef-123', 'Content-Type': 'application/json' } });
    const err = new OTLPExporterError('Unauthorized', 401, `token Bearer abcdef-123 user bobby pw pw-4567 tok-9999 ${'z'.repeat(1000)}`);
    const f = describeOtlpFailure(err, { url, secrets });
    expect(f.retryable).toBe(true);
    expect(f.tooLarge).toBe(false);
    const text = f.error.message;
    expect(text.startsWith('HTTP 401 Unauthorized from https://c.example:4318/v1/logs; retrying with backoff; response: token [REDACTED] user [REDACTED] pw [REDACTED] [REDACTED] zzz')).toBe(true);
    for (const s of ['abcdef-123', 'pw-4567', 'tok-9999', 'bobby']) expect(text).not.toContain(s);
    expect(Buffer.byteLength(describeExportFailure(text).response!.replace(/…\(\d+ bytes\)$/, ''))).toBeLessThanOrEqual(512);
  });

  it('400 is a PermanentExportError naming the records dropped; 413 is too large; a network error keeps its code', () => {
    const r = describeOtlpFailure(new OTLPExporterError('Bad Request', 400, ''), { url: 'http://h:1/v1/logs', records: 3 });
    expect(r.error).toBeInstanceOf(PermanentExportError);
    expect(r.error.message).toBe('HTTP 400 Bad Request from http://h:1/v1/logs; not retried, batch of 3 records dropped (export_rejected)');
    expect(describeOtlpFailure(new OTLPExporterError('Payload Too Large', 413, ''), { url: 'http://h:1/v1/logs' }).tooLarge).toBe(true);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(describeOtlpFailure(refused, { url: 'http://h:1/v1/logs' }).error.message).toBe(
      'ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:1) from http://h:1/v1/logs; retrying with backoff',
    );
    expect(describeOtlpFailure(new Error('Request timed out'), { url: 'http://h:1/v1/logs', timeoutMs: 300 }).error.message).toBe(
      'TIMEOUT (no response within 300 ms) from http://h:1/v1/logs; retrying with backoff',
    );
    expect(describeExportFailure(describeOtlpFailure(new OTLPExporterError('Export failed with retryable status'), { url: 'http://h:1/' }).error)).toMatchObject({
      retrying: true,
    });
  });

  it('response excerpt: control bytes shown as dots, whitespace folded, cut on a character boundary', () => {
    expect(responseExcerpt('\u0008\u0003\u0012\u001dbad\n\n  thing', [])).toBe('....bad thing');
    expect(responseExcerpt('', [])).toBeUndefined();
    const cut = responseExcerpt('é'.repeat(600), [], 512)!;
    expect(cut).toBe(`${'é'.repeat(256)}…(1200 bytes)`);
  });
});

describe('redaction helpers', () => {
  it('endpointForLog drops userinfo, query and fragment', () => {
    expect(endpointForLog('https://u:p@h.example:8443/v1/logs?api_key=x#f')).toBe('https://h.example:8443/v1/logs');
    expect(endpointForLog('not a url://u:p@x?k=v')).toBe('not a url://u:p@x');
    expect(endpointForLog('otlp://u:p@x/y?k=v')).toBe('otlp://x/y');
  });

  it('maskSecretValues masks whole values and the credential after a scheme word', () => {
    expect(maskSecretValues('a ApiKey k-123456 b k-123456', ['ApiKey k-123456'])).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(maskSecretValues('the abc word', ['abc'])).toBe('the abc word'); // too short to mask safely
    expect(secretHeaderValues({ 'content-type': 'x', Authorization: 'y' })).toEqual(['y']);
  });
});

describe('ExportLog', () => {
  it('first failure at once (warn), then one line per interval with the count since the last line, recovery at info', () => {
    let now = 0;
    const { lines, logger } = capture();
    const log = new ExportLog(logger, { intervalMs: 60_000, now: () => now });
    log.failed('otlp', REFUSED);
    for (let i = 0; i < 9; i++) {
      now += 5_000;
      log.failed('otlp', REFUSED);
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', output: 'otlp', code: 'ECONNREFUSED', retrying: true, failures: 1, endpoint: 'http://127.0.0.1:4318/v1/logs' });
    expect(lines[0]!.msg).toBe('output otlp: export failed; retrying with backoff');
    now = 60_000;
    log.failed('otlp', REFUSED);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 'warn', failures: 10, failuresInOutage: 11, downForMs: 60_000 });
    expect(lines[1]!.msg).toBe('output otlp: exports still failing; retrying with backoff');
    now = 75_500;
    log.succeeded('otlp');
    log.succeeded('otlp');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ level: 'info', output: 'otlp', downForMs: 75_500, downFor: '75.5 s', failures: 11 });
  });

  it('flush() writes the held-back count once the interval is over, even without a new failure', () => {
    let now = 0;
    const { lines, logger } = capture();
    const log = new ExportLog(logger, { intervalMs: 1_000, now: () => now });
    log.failed('otlp', REFUSED);
    log.failed('otlp', REFUSED);
    log.failed('otlp', REFUSED);
    log.flush();
    expect(lines).toHaveLength(1);
    now = 1_000;
    log.flush();
    log.flush();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ failures: 2 });
  });

  it('HTTP 4xx still retried is logged at error; outputs are limited apart', () => {
    const { lines, logger } = capture();
    const log = new ExportLog(logger, { now: () => 0 });
    log.failed('a', UNAUTHORIZED);
    log.failed('b', REFUSED);
    log.failed('a', UNAUTHORIZED);
    expect(lines.map((l) => [l.output, l.level])).toEqual([
      ['a', 'error'],
      ['b', 'warn'],
    ]);
    expect(lines[0]).toMatchObject({ status: 401, response: 'no' });
  });

  it('drops (not retried) are errors limited apart from the outage, and do not make the output down', () => {
    let now = 0;
    const { lines, logger } = capture();
    const log = new ExportLog(logger, { intervalMs: 60_000, now: () => now });
    log.failed('otlp', REFUSED);
    log.failed('otlp', BAD_REQUEST);
    log.failed('otlp', BAD_REQUEST);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
    expect(lines[1]).toMatchObject({ status: 400, retrying: false, failures: 1, response: 'bad; very bad' });
    expect(lines[1]!.msg).toBe('output otlp: export refused, records dropped');
    now = 60_000;
    log.flush();
    expect(lines[2]).toMatchObject({ level: 'error', status: 400, failures: 1 });
    log.succeeded('otlp');
    expect(lines[3]).toMatchObject({ level: 'info', failures: 1 }); // the one refused connection
    // A rejection alone is no outage: a success after it says nothing.
    log.failed('x', BAD_REQUEST);
    log.succeeded('x');
    expect(lines.filter((l) => l.output === 'x').map((l) => l.level)).toEqual(['error']);
  });

  it('a flapping output: a new outage within the interval is counted, not logged, and its recovery is silent', () => {
    let now = 0;
    const { lines, logger } = capture();
    const log = new ExportLog(logger, { intervalMs: 60_000, now: () => now });
    log.failed('otlp', REFUSED);
    now = 1_000;
    log.succeeded('otlp');
    now = 2_000;
    log.failed('otlp', REFUSED);
    now = 3_000;
    log.succeeded('otlp');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    now = 70_000;
    log.failed('otlp', REFUSED);
    expect(lines[2]).toMatchObject({ level: 'warn', failures: 2 });
  });

  it('HealthTracker feeds it: worker text and in-process errors alike; nothing is logged without a logger', () => {
    const { lines, logger } = capture();
    const h = new HealthTracker({ unhealthyAfterFailures: 3, unhealthyAfterStallMs: 1e9 }, () => 0, () => 0, { logger });
    h.exportFailed('otlp', new Error(REFUSED));
    h.exportFailed('otlp', REFUSED);
    h.exportSucceeded('otlp');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    const quiet = new HealthTracker({ unhealthyAfterFailures: 3, unhealthyAfterStallMs: 1e9 });
    quiet.exportFailed('otlp', REFUSED);
    expect(quiet.report().outputs['otlp']!.lastError).toBe(REFUSED);
    const late = new HealthTracker({ unhealthyAfterFailures: 3, unhealthyAfterStallMs: 1e9 }, () => 0, () => 0);
    late.setLogger(logger);
    late.exportFailed('fluent', new Error('connect ECONNREFUSED 127.0.0.1:24224'));
    expect(lines[2]).toMatchObject({ output: 'fluent', level: 'warn', code: 'ECONNREFUSED' });
  });
});

describe('forwardingLogger', () => {
  it('hands info and above to the callback with the bindings; debug is dropped', () => {
    const got: Array<[string, string, LogFields]> = [];
    const l = forwardingLogger((level, msg, fields) => got.push([level, msg, fields]), { thread: 1 }).child({ output: 'otlp' });
    l.debug('d');
    l.info('i', { a: 1 });
    l.error('e');
    expect(got).toEqual([
      ['info', 'i', { thread: 1, output: 'otlp', a: 1 }],
      ['error', 'e', { thread: 1, output: 'otlp' }],
    ]);
    expect(l.isLevelEnabled('debug')).toBe(false);
    expect(l.isLevelEnabled('warn')).toBe(true);
  });
});
