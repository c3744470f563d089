/**
 * Why `setup elasticsearch` / `check elasticsearch` stopped, with the exit code each reason gets
 * (documented in the CLI help), and the one place that turns an HTTP reply into that reason.
 */
import { EsConnectionError, type EsClient, type EsResponse } from './es-client.js';

/** Exit codes of `setup elasticsearch` and `check elasticsearch`. */
export const ES_EXIT = {
  ok: 0,
  /** Elasticsearch refused a request (e.g. a template it rejects), or `check` found a problem. */
  failed: 1,
  /** Usage or configuration error (no endpoint, unreadable CA file). */
  usage: 2,
  /** No reply: refused, DNS, TLS, timeout. */
  unreachable: 4,
  /** 401 (bad or missing credentials) or 403 (a privilege is missing). */
  auth: 5,
  /** Not Elasticsearch (OpenSearch, say), or a version outside 8.13 .. 9.x. */
  unsupported: 6,
} as const;

/** Reasons, each with its exit code. */
export type EsErrorKind = 'failed' | 'unreachable' | 'auth' | 'unsupported';

/** A reason to stop, with a message a person can act on. */
export class EsCommandError extends Error {
  override readonly name = 'EsCommandError';
  constructor(
    readonly kind: EsErrorKind,
    message: string,
  ) {
    super(message);
  }
  /** The command's exit code for this error. */
  get exitCode(): number {
    return ES_EXIT[this.kind];
  }
}

/** Elasticsearch's own reason from an error body (`error.root_cause[0].reason`, `error.reason`), or the text. */
export function errorReason(json: unknown): string {
  if (typeof json === 'string') return json.slice(0, 300);
  const err = (json as { error?: unknown } | undefined)?.error;
  if (typeof err === 'string') return err;
  const e = err as { reason?: string; type?: string; root_cause?: Array<{ reason?: string; type?: string }> } | undefined;
  const root = e?.root_cause?.[0];
  const reason = root?.reason ?? e?.reason;
  const type = root?.type ?? e?.type;
  if (reason !== undefined) return type !== undefined ? `${type}: ${reason}` : reason;
  return JSON.stringify(json ?? '').slice(0, 300);
}

/** What a request is for: named in the message of a 403. */
export interface RequestPurpose {
  /** E.g. `install index templates`. */
  what: string;
  /** The privilege that allows it, e.g. `the cluster privilege manage_index_templates`. */
  privilege: string;
}

/**
 * Sends a request and returns the reply when its status is in `ok` (default 2xx); turns a
 * connection failure, 401, 403 or any other status into an `EsCommandError`.
 */
export async function call(client: EsClient, method: string, path: string, purpose: RequestPurpose, body?: unknown, ok: (status: number) => boolean = (s) => s >= 200 && s < 300): Promise<EsResponse> {
  let res: EsResponse;
  try {
    res = await client.request(method, path, body);
  } catch (err) {
    if (err instanceof EsConnectionError) throw new EsCommandError('unreachable', err.message);
    throw err;
  }
  if (ok(res.status)) return res;
  if (res.status === 401) {
    throw new EsCommandError('auth', `401 Unauthorized from ${client.endpoint}: the credentials are missing or wrong (give an API key with --api-key, ELASTIC_API_KEY or elasticsearch.apiKey). Elasticsearch said: ${errorReason(res.json)}`);
  }
  if (res.status === 403) {
    // Elasticsearch names the privileges that grant the action ("... granted by the cluster privileges [manage_index_templates,manage,all]").
    const reason = errorReason(res.json);
    const granted = /granted by the (cluster|index) privileges \[([^\]]+)\]/.exec(reason);
    const privilege = granted ? `the ${granted[1]} privilege ${granted[2]!.split(',')[0]}` : purpose.privilege;
    throw new EsCommandError('auth', `403 Forbidden on ${method} ${path}: to ${purpose.what} the API key (or user) needs ${privilege}. Elasticsearch said: ${reason}`);
  }
  throw new EsCommandError('failed', `${method} ${path} failed with ${res.status}: ${errorReason(res.json)}`);
}
