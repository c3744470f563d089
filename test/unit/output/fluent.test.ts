import { EventTime } from '@fluent-org/logger';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertRequirement, hasCommand, requirement, shouldRun } from '../../helpers/requirements.js';
import { FluentOutput, hrTimeToRfc3339, validateFluentOutputConfig, type FluentOutputConfig } from '../../../src/output/fluent.js';
import { startFluentSink, type FluentSink } from '../../helpers/fluent-sink.js';
import { sampleRecord, sampleRecords } from './sample-records.js';

const open: Array<{ close(): Promise<void> } | { shutdown(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) {
    if ('close' in o) await o.close();
    else await o.shutdown();
  }
});

function cfg(port: number, extra: Partial<FluentOutputConfig> = {}): FluentOutputConfig {
  return { type: 'fluent', host: '127.0.0.1', port, tag: 'iptables', ack: true, timeoutMs: 5000, ...extra };
}

async function sink(opts = {}): Promise<FluentSink> {
  const s = await startFluentSink(opts);
  open.push(s);
  return s;
}

function output(c: FluentOutputConfig): FluentOutput {
  const o = new FluentOutput(c);
  open.push(o);
  return o;
}

describe('Fluent forward output', () => {
  it('resolves on ack, with body as message, flat attributes, EventTime with ns', async () => {
    const s = await sink();
    const out = output(cfg(s.port));
    const r = sampleRecord(3);
    await out.export([r]);
    // With acks, export resolves only after the server has the chunk.
    expect(s.entries).toHaveLength(1);
    const e = s.entries[0]!;
    expect(e.tag).toBe('iptables');
    expect(e.time).toBeInstanceOf(EventTime);
    expect((e.time as EventTime).epoch).toBe(r.timestamp![0]);
    expect((e.time as EventTime).nano).toBe(r.timestamp![1]);
    expect(e.record['message']).toBe(r.body);
    expect(e.record['source.port']).toBe(r.attributes['source.port']);
    expect(e.record['related.ip']).toEqual(r.attributes['related.ip']);
    expect(e.record['sample.ratio']).toBe(r.attributes['sample.ratio']);
    expect(e.record['severity_text']).toBe('warning');
    expect(e.record['severity_number']).toBe(13);
    expect(e.record['observed_time']).toBe('2024-11-26T05:46:43.123456789Z');
    expect(Number.isInteger(e.record['iptables.ttl'])).toBe(true);
  });

  it('delivers batches with shared-key authentication', async () => {
    const s = await sink({ sharedKey: 's3cret' });
    const out = output(cfg(s.port, { sharedKey: 's3cret', tag: 'fw.logs' }));
    await out.export(sampleRecords(0, 200));
    await out.export(sampleRecords(200, 200));
    expect(s.entries).toHaveLength(400);
    expect(new Set(s.entries.map((e) => e.record['iptables.seq'])).size).toBe(400);
    expect(s.entries.every((e) => e.tag === 'fw.logs')).toBe(true);
  });

  it('does not deliver with a wrong shared key (export fails, nothing received)', async () => {
    const s = await sink({ sharedKey: 'right' });
    const out = output(cfg(s.port, { sharedKey: 'wrong', timeoutMs: 500 }));
    await expect(out.export(sampleRecords(0, 3))).rejects.toThrow();
    expect(s.entries).toHaveLength(0);
  });

  it('fails the export while the server is down and reconnects when it is back', async () => {
    const first = await startFluentSink();
    const port = first.port;
    await first.close();
    const out = output(cfg(port, { timeoutMs: 300, reconnect: { minDelayMs: 20, maxDelayMs: 100 } }));
    await expect(out.export(sampleRecords(0, 5))).rejects.toThrow(/fluent forward/);
    const s = await sink({ port });
    // The pipeline would retry the batch: do the same here.
    let ok = false;
    for (let i = 0; i < 30 && !ok; i++) {
      try {
        await out.export(sampleRecords(5, 5));
        ok = true;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(ok).toBe(true);
    const seqs = new Set(s.entries.map((e) => e.record['iptables.seq']));
    for (let i = 5; i < 10; i++) expect(seqs.has(i)).toBe(true);
  });

  const openssl = requirement(hasCommand('openssl'), 'openssl is needed to make a test certificate');
  it.skipIf(!shouldRun(openssl))('delivers over TLS with shared-key auth (CA file checked)', async () => {
    assertRequirement(openssl);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fluent-tls-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ], { stdio: 'ignore' });
      const s = await sink({ sharedKey: 'k', tls: { key: readFileSync(key), cert: readFileSync(cert) } });
      const out = output(cfg(s.port, { sharedKey: 'k', tls: { ca: cert, servername: 'localhost' } }));
      await out.export(sampleRecords(0, 50));
      expect(s.entries).toHaveLength(50);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('formats observed time with nanoseconds and validates keys', () => {
    expect(hrTimeToRfc3339([0, 5])).toBe('1970-01-01T00:00:00.000000005Z');
    const issues = validateFluentOutputConfig({ type: 'fluent', host: '', port: 70000, tag: 'a b', ack: true });
    expect(issues.map((i) => i.key)).toEqual(['outputs.fluent.host', 'outputs.fluent.port', 'outputs.fluent.tag']);
  });
});
