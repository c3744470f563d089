/**
 * `setup elasticsearch` / `check elasticsearch` errors and exit codes, against a tiny local HTTP
 * server that answers like Elasticsearch would (401, 403 with Elastic's privilege text, 405 on
 * `GET /`, old and unknown versions, OpenSearch, no product header), a closed port, and the
 * command line's own mistakes. Also how credentials reach the server (flag > env > file).
 */
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError, HELP_TEXT } from '../../../../src/cli/cli-args.js';
import { runCli } from '../../../../src/cli/cli.js';
import type { CliIo } from '../../../../src/cli/cli-io.js';
import { freePort } from '../../../helpers/collector.js';
import { makeTlsCerts } from '../../../helpers/tls-certs.js';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Route = (method: string, url: string, headers: IncomingHttpHeaders, body: string) => Reply | undefined;

interface Fake {
  url: string;
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

const servers: Fake[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

const ES = { 'x-elastic-product': 'Elasticsearch' };

/** Answers like a minimal Elasticsearch 8.19 unless `route` answers first. */
async function fake(route: Route = () => undefined, version = '8.19.0', tls?: { cert: Buffer; key: Buffer }): Promise<Fake> {
  const requests: Fake['requests'] = [];
  const handler: RequestListener = (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers });
      const r: Reply = route(req.method!, req.url!, req.headers, body) ??
        (req.url === '/'
          ? { status: 405, body: { error: 'Incorrect HTTP method for uri [/] and method [GET], allowed: []', status: 405 }, headers: ES }
          : req.url!.startsWith('/_nodes/_local')
            ? { status: 200, body: { nodes: { abc: { version } } }, headers: ES }
            : req.method === 'GET' && /^\/_(index|component)_template\//.test(req.url!)
              ? { status: 404, body: { error: { type: 'resource_not_found_exception', reason: 'not found' }, status: 404 }, headers: ES }
              : req.url!.startsWith('/_resolve/index/')
                ? { status: 200, body: { indices: [], aliases: [], data_streams: [] }, headers: ES }
              : req.method === 'PUT'
                ? { status: 200, body: { acknowledged: true }, headers: ES }
                : { status: 404, body: { error: 'no route' }, headers: ES });
      res.writeHead(r.status, { 'content-type': 'application/json', ...(r.headers ?? {}) });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    });
  };
  const server: Server = tls ? (createHttpsServer(tls, handler) as unknown as Server) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const f: Fake = {
    url: `${tls ? 'https://localhost' : 'http://127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  servers.push(f);
  return f;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout: new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }),
    stderr: new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) }),
    env,
  };
  return { code: await runCli(args, io), out, err };
}

const securityException = (action: string, privileges: string): Reply => ({
  status: 403,
  headers: ES,
  body: {
    error: {
      root_cause: [{ type: 'security_exception', reason: `action [${action}] is unauthorized for API key id [k1] of user [fw], this action is granted by the cluster privileges [${privileges}]` }],
      type: 'security_exception',
      reason: `action [${action}] is unauthorized for API key id [k1] of user [fw], this action is granted by the cluster privileges [${privileges}]`,
    },
    status: 403,
  },
});

describe('setup elasticsearch: errors and exit codes', () => {
  it('the minimal distribution (405 on GET /): the version comes from _nodes/_local, templates are put, exit 0', async () => {
    const f = await fake();
    const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain(`Elasticsearch 8.19.0 at ${f.url}`);
    expect(f.requests.filter((r) => r.method === 'PUT').map((r) => r.url)).toEqual([
      '/_component_template/iptables-otel-logs-iptables.log%40mappings',
      '/_component_template/iptables-otel-logs-iptables.log.otel%40mappings',
      '/_index_template/iptables-otel-logs-iptables.log',
      '/_index_template/iptables-otel-logs-iptables.log.otel',
    ]);
  });

  it('unreachable: names the URL and the OS error, exit 4', async () => {
    const port = await freePort();
    const run = await cli(['setup', 'elasticsearch', '--endpoint', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(4);
    expect(run.err).toContain(`cannot reach http://127.0.0.1:${port}/`);
    expect(run.err).toContain('ECONNREFUSED');
  });

  it('401: bad credentials, exit 5, and says where a key comes from', async () => {
    const f = await fake(() => ({ status: 401, headers: ES, body: { error: { type: 'security_exception', reason: 'unable to authenticate with provided credentials and anonymous access is not allowed for this request' }, status: 401 } }));
    const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url, '--api-key', 'bad']);
    expect(run.code).toBe(5);
    expect(run.err).toContain('401 Unauthorized');
    expect(run.err).toContain('--api-key, ELASTIC_API_KEY or elasticsearch.apiKey');
    expect(run.err).toContain('unable to authenticate');
  });

  it('403 on the template PUT: names the missing privilege manage_index_templates, exit 5', async () => {
    const f = await fake((m) => (m === 'PUT' ? securityException('indices:admin/index_template/put', 'manage_index_templates,manage,all') : undefined));
    const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
    expect(run.code).toBe(5);
    expect(run.err).toContain('403 Forbidden on PUT /_component_template/');
    expect(run.err).toContain('needs the cluster privilege manage_index_templates');
  });

  it('403 on reading the version: names monitor, exit 5', async () => {
    const f = await fake((_m, url) => (url === '/' || url.startsWith('/_nodes') ? { status: 403, headers: ES, body: { error: { type: 'security_exception', reason: 'action [cluster:monitor/main] is unauthorized' } } } : undefined));
    const run = await cli(['check', 'elasticsearch', '--endpoint', f.url]);
    expect(run.code).toBe(5);
    expect(run.err).toContain('to read the cluster version the API key (or user) needs the cluster privilege monitor');
  });

  it.each([
    ['7.17.28', /Elasticsearch 7\.17\.28 .* is not supported: setup elasticsearch needs 8\.13 or later/],
    ['8.12.2', /Elasticsearch 8\.12\.2 .* is not supported/],
    ['10.0.0', /Elasticsearch 10\.0\.0 .* is not supported/],
  ])('unsupported version %s: exit 6, nothing put', async (version, message) => {
    const f = await fake(undefined, version);
    const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
    expect(run.code).toBe(6);
    expect(run.err).toMatch(message);
    expect(f.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('accepts 8.13 and 9.x (GET / where it exists)', async () => {
    for (const v of ['8.13.0', '9.2.1']) {
      const f = await fake((_m, url) => (url === '/' ? { status: 200, headers: ES, body: { name: 'n', version: { number: v, build_flavor: 'default' }, tagline: 'You Know, for Search' } } : undefined));
      const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
      expect(run.code, run.err).toBe(0);
      expect(run.out).toContain(`Elasticsearch ${v}`);
      expect(f.requests.some((r) => r.url.startsWith('/_nodes'))).toBe(false);
    }
  });

  it('OpenSearch: says so and points at the opensearch exporter, exit 6', async () => {
    const f = await fake((_m, url) => (url === '/' ? { status: 200, body: { version: { distribution: 'opensearch', number: '2.19.6' }, tagline: 'The OpenSearch Project: https://opensearch.org/' } } : undefined));
    const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
    expect(run.code).toBe(6);
    expect(run.err).toContain(`${f.url} is OpenSearch 2.19.6, not Elasticsearch`);
    expect(run.err).toContain('opensearch exporter');
  });

  it('a server without the X-Elastic-Product header is not Elasticsearch, exit 6', async () => {
    const f = await fake((_m, url) => (url === '/' ? { status: 200, body: { version: { number: '8.19.0' } } } : url.startsWith('/_nodes') ? { status: 200, body: { nodes: { a: { version: '8.19.0' } } } } : undefined));
    const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
    expect(run.code).toBe(6);
    expect(run.err).toContain('is not Elasticsearch: its replies carry no "X-Elastic-Product: Elasticsearch" header');
  });

  it('Elasticsearch rejecting a template: its reason, exit 1', async () => {
    const f = await fake((m) => (m === 'PUT' ? { status: 400, headers: ES, body: { error: { root_cause: [{ type: 'illegal_argument_exception', reason: 'index template [x] has index patterns [logs-iptables.log-*] matching patterns from existing templates [mine] with the same priority' }] }, status: 400 } } : undefined));
    const run = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
    expect(run.code).toBe(1);
    expect(run.err).toContain('failed with 400: illegal_argument_exception: index template [x] has index patterns');
  });
});

describe('setup elasticsearch: command line, environment, config', () => {
  it('no endpoint anywhere: usage error, exit 2', async () => {
    const run = await cli(['setup', 'elasticsearch']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('no Elasticsearch endpoint: give --endpoint URL (or ELASTICSEARCH_ENDPOINT, or elasticsearch.endpoint in the config)');
  });

  it('an unreadable --ca-file: exit 2, names the file', async () => {
    const run = await cli(['setup', 'elasticsearch', '--endpoint', 'https://127.0.0.1:1', '--ca-file', '/nonexistent/ca.pem']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('cannot read --ca-file /nonexistent/ca.pem');
  });

  it('https: --ca-file makes the server certificate trusted; without it, a TLS error names the URL (exit 4)', async () => {
    const certs = makeTlsCerts();
    try {
      const f = await fake(undefined, '8.19.0', { cert: certs.cert, key: certs.key });
      const without = await cli(['setup', 'elasticsearch', '--endpoint', f.url]);
      expect(without.code).toBe(4);
      expect(without.err).toContain(`cannot reach ${f.url}/`);
      expect(without.err).toMatch(/certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
      const withCa = await cli(['setup', 'elasticsearch', '--endpoint', f.url, '--ca-file', certs.caFile]);
      expect(withCa.err).toBe('');
      expect(withCa.code).toBe(0);
    } finally {
      certs.cleanup();
    }
  });

  it('the API key: --api-key over ELASTIC_API_KEY over the config file; basic auth with --username and ELASTIC_PASSWORD', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-es-'));
    const cfg = path.join(dir, 'c.yaml');
    const f = await fake();
    writeFileSync(cfg, `elasticsearch:\n  endpoint: ${f.url}\n  apiKey: from-file\n`);
    const auth = (): string | undefined => f.requests.at(-1)?.headers.authorization;
    expect((await cli(['check', 'elasticsearch', '--config', cfg])).code).toBe(1);
    expect(auth()).toBe('ApiKey from-file');
    await cli(['check', 'elasticsearch', '--config', cfg], { ELASTIC_API_KEY: 'from-env' });
    expect(auth()).toBe('ApiKey from-env');
    await cli(['check', 'elasticsearch', '--config', cfg, '--api-key', 'from-flag'], { ELASTIC_API_KEY: 'from-env' });
    expect(auth()).toBe('ApiKey from-flag');
    // `id:key` (as the create-API-key API returns the parts) is sent encoded.
    await cli(['check', 'elasticsearch', '--config', cfg, '--api-key', 'VuaCfGcBCdbkQm:ui2lp2axTNmsyakw9tvNnw']);
    expect(auth()).toBe(`ApiKey ${Buffer.from('VuaCfGcBCdbkQm:ui2lp2axTNmsyakw9tvNnw').toString('base64')}`);
    await cli(['check', 'elasticsearch', '--config', cfg, '--username', 'fw'], { ELASTIC_PASSWORD: 'pw' });
    expect(auth()).toBe(`Basic ${Buffer.from('fw:pw').toString('base64')}`);
    // The environment's endpoint is used when there is no flag.
    const g = await fake();
    await cli(['check', 'elasticsearch'], { ELASTICSEARCH_ENDPOINT: g.url });
    expect(g.requests.length).toBeGreaterThan(0);
  });

  it('the elasticsearch: config section is validated with file, line and key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iptables-otel-es-'));
    const cfg = path.join(dir, 'bad.yaml');
    writeFileSync(cfg, 'elasticsearch:\n  endpoint: not-a-url\n  apiKey: k\n  username: u\n  passwrd: x\n');
    const run = await cli(['setup', 'elasticsearch', '--config', cfg]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(`${cfg}:2: elasticsearch.endpoint: must be a URL (http:// or https://)`);
    expect(run.err).toContain(`${cfg}:5: elasticsearch.passwrd: unknown key "passwrd"`);
    writeFileSync(cfg, 'elasticsearch:\n  endpoint: http://es:9200\n  apiKey: k\n  username: u\n  password: p\n');
    const both = await cli(['setup', 'elasticsearch', '--config', cfg]);
    expect(both.code).toBe(2);
    expect(both.err).toContain(`${cfg}:4: elasticsearch.username: give either apiKey or username/password, not both`);
  });

  it('parses setup/check elasticsearch and rejects their flags elsewhere', () => {
    expect(parseCliArgs(['setup', 'elasticsearch', '--endpoint', 'http://es:9200', '--api-key', 'k', '--ca-file', 'ca.pem', '--dataset', 'fw.log'])).toEqual({
      command: 'setup-elasticsearch',
      overrides: {},
      elasticsearch: { endpoint: 'http://es:9200', apiKey: 'k', caFile: 'ca.pem', dataset: 'fw.log' },
    });
    expect(parseCliArgs(['check', 'elasticsearch', '-c', 'x.yaml'])).toMatchObject({ command: 'check-elasticsearch', configFile: 'x.yaml' });
    expect(() => parseCliArgs(['setup'])).toThrow(/setup needs a target: iptables-otel setup elasticsearch/);
    expect(() => parseCliArgs(['setup', 'kibana'])).toThrow(UsageError);
    expect(() => parseCliArgs(['run', '--endpoint', 'http://es:9200'])).toThrow(/--endpoint is an option of setup elasticsearch and check elasticsearch only/);
    for (const w of ['setup elasticsearch', 'check elasticsearch', '--endpoint', '--api-key', '--ca-file', '--username', '--dataset', 'ELASTIC_API_KEY', 'manage_index_templates']) expect(HELP_TEXT).toContain(w);
  });
});
