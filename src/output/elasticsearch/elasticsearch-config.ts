/**
 * The `elasticsearch:` section of the config file: where `setup elasticsearch` and
 * `check elasticsearch` connect. The service itself does not write to Elasticsearch (the
 * Collector does); the section only spares typing the endpoint and key on every command.
 * `--endpoint`, `--api-key`, `--ca-file` and `ELASTIC_API_KEY` override it (flag > environment > file).
 */

/** As written in the file (after schema validation). */
export interface ElasticsearchConfig {
  /** Base URL, e.g. `https://es.example:9200`. */
  endpoint?: string;
  /** API key (base64 `id:key`, Kibana's "Encoded" form). Never logged. */
  apiKey?: string;
  /** Basic auth user, when there is no API key. */
  username?: string;
  /** Basic auth password. Never logged. */
  password?: string;
  /** PEM CA bundle the server certificate must chain to. */
  caFile?: string;
}

/** One problem, by key below the section (`apiKey`, `password`). */
export interface ElasticsearchConfigIssue {
  key: string;
  message: string;
}

/** Checks what the schema cannot: credentials that go together. */
export function validateElasticsearchConfig(c: ElasticsearchConfig): ElasticsearchConfigIssue[] {
  const issues: ElasticsearchConfigIssue[] = [];
  if (c.apiKey !== undefined && c.username !== undefined) issues.push({ key: 'username', message: 'give either apiKey or username/password, not both' });
  if (c.username !== undefined && c.password === undefined) issues.push({ key: 'username', message: 'needs password' });
  if (c.password !== undefined && c.username === undefined) issues.push({ key: 'password', message: 'needs username' });
  return issues;
}
