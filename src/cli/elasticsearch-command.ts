import { ConfigError, loadConfig } from '../config/load-config.js';
import { checkElasticsearch, resolveOurs } from '../output/elasticsearch/check.js';
import { createEsClient, type EsClient, type EsConnection } from '../output/elasticsearch/es-client.js';
import { ES_EXIT, EsCommandError } from '../output/elasticsearch/es-errors.js';
import { setupElasticsearch } from '../output/elasticsearch/setup.js';
import type { ElasticsearchFlags } from './cli-args.js';
import type { CliIo } from './cli-io.js';

/** The connection and dataset from flags, environment and config file (in that precedence). */
interface Resolved {
  connection: EsConnection;
  dataset: string;
}

function resolve(configFile: string | undefined, flags: ElasticsearchFlags, env: NodeJS.ProcessEnv): Resolved | string {
  let cfg;
  try {
    cfg = loadConfig({ ...(configFile !== undefined ? { file: configFile } : {}), env, checkFiles: false });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return `configuration error:\n${err.message}`;
  }
  const file = cfg.elasticsearch ?? {};
  const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);
  const endpoint = flags.endpoint ?? nonEmpty(env.ELASTICSEARCH_ENDPOINT) ?? file.endpoint;
  if (endpoint === undefined) return 'no Elasticsearch endpoint: give --endpoint URL (or ELASTICSEARCH_ENDPOINT, or elasticsearch.endpoint in the config)';
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `--endpoint ${endpoint}: not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `--endpoint ${endpoint}: must be http:// or https://`;
  const connection: EsConnection = { endpoint };
  // A username on the command line means basic auth, whatever key the environment holds.
  const username = flags.username ?? (flags.apiKey === undefined && nonEmpty(env.ELASTIC_API_KEY) === undefined ? file.username : undefined);
  const apiKey = flags.username !== undefined ? undefined : (flags.apiKey ?? nonEmpty(env.ELASTIC_API_KEY) ?? file.apiKey);
  if (apiKey !== undefined) connection.apiKey = apiKey;
  else if (username !== undefined) {
    connection.username = username;
    const password = env.ELASTIC_PASSWORD ?? file.password;
    if (password !== undefined) connection.password = password;
  }
  const caFile = flags.caFile ?? file.caFile;
  if (caFile !== undefined) connection.caFile = caFile;
  return { connection, dataset: flags.dataset ?? cfg.parser.dataset };
}

/**
 * `iptables-otel setup elasticsearch` and `iptables-otel check elasticsearch`. Resolves with the
 * exit code (ES_EXIT: 0 ok, 1 refused or a problem found, 2 usage, 4 unreachable, 5 401/403,
 * 6 unsupported).
 */
export async function elasticsearchCommand(which: 'setup' | 'check', configFile: string | undefined, flags: ElasticsearchFlags, io: CliIo): Promise<number> {
  const name = `${which} elasticsearch`;
  const r = resolve(configFile, flags, io.env);
  if (typeof r === 'string') {
    io.stderr.write(`iptables-otel: ${name}: ${r}\n`);
    return ES_EXIT.usage;
  }
  let client: EsClient;
  try {
    client = createEsClient(r.connection);
  } catch (err) {
    io.stderr.write(`iptables-otel: ${name}: cannot read --ca-file ${r.connection.caFile}: ${(err as Error).message}\n`);
    return ES_EXIT.usage;
  }
  try {
    if (which === 'setup') {
      const result = await setupElasticsearch(client, {
        dataset: r.dataset,
        onCluster: (cluster, stack) => {
          const how = [
            stack.ecs ? "ecs mode extends Elastic's logs template" : 'ecs mode: complete templates (no stack logs template)',
            stack.otel ? "otel mode extends Elastic's logs-otel@template" : 'otel mode: complete templates (no otel-data templates)',
          ].join('; ');
          io.stdout.write(`Elasticsearch ${cluster.version} at ${client.endpoint}: ${how}\n`);
        },
        progress: (line) => io.stdout.write(`  ${line}\n`),
      });
      const count = (a: string): number => result.objects.filter((o) => o.action === a).length;
      io.stdout.write(`setup elasticsearch: ${result.objects.length} objects: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged\n`);
      // Best effort: the templates are in; a key without read access to the indices still succeeded.
      try {
        const { plainIndices } = await resolveOurs(client, r.dataset);
        for (const idx of plainIndices) {
          io.stdout.write(`warning: ${idx} is a plain index created before these templates: it keeps its dynamic mappings (CIDR queries on source.ip find nothing). Delete it so the next document creates the data stream; see check elasticsearch\n`);
        }
      } catch (err) {
        if (!(err instanceof EsCommandError)) throw err;
        io.stdout.write(`note: could not look for indices created before setup: ${err.message}\n`);
      }
      return ES_EXIT.ok;
    }
    const report = await checkElasticsearch(client, { dataset: r.dataset });
    for (const line of report.lines) io.stdout.write(`${line}\n`);
    return report.ok ? ES_EXIT.ok : ES_EXIT.failed;
  } catch (err) {
    if (!(err instanceof EsCommandError)) throw err;
    io.stderr.write(`iptables-otel: ${name}: ${err.message}\n`);
    return err.exitCode;
  } finally {
    client.close();
  }
}
