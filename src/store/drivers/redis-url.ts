import { ChatstateError } from '../../errors.js';
import { redact } from '../open.js';

/** Where and how to connect, parsed from a store URL. */
export interface RedisTarget {
  cluster: boolean;
  tls: boolean;
  nodes: Array<{ host: string; port: number }>;
  username: string | undefined;
  password: string | undefined;
  /** Database index (single server only; a cluster has only database 0). */
  db: number;
  /** Query-string options (KNOWN_PARAMS): `prefix`, `timeout`, `connectTimeout`, `grace`, `events`, … */
  params: URLSearchParams;
}

const KNOWN_PARAMS = new Set([
  'prefix',
  'timeout',
  'connectTimeout',
  'grace',
  'events',
  'quarantineTtl',
  'outboxRetention',
  'cache',
]);

/**
 * Parses `redis://[user:pass@]host:port/db`, `rediss://…` (TLS) and
 * `redis+cluster://[user:pass@]host:port,host:port,…` (also `rediss+cluster://`). Parsed by hand:
 * a cluster URL with several hosts is not a WHATWG URL.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const m =
    /^(rediss?)(\+cluster)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(
      url,
    );
  if (!m)
    invalid(url, 'expected redis://[user:password@]host:port/db or redis+cluster://host:port,host:port');
  const [, scheme = '', cluster, user, pass, hostList = '', path = '', query = ''] = m;
  const nodes = hostList.split(',').map((part) => parseHostPort(url, part));
  if (nodes.length === 0 || hostList === '') invalid(url, 'no host given');
  if (!cluster && nodes.length > 1) invalid(url, 'several hosts need redis+cluster://');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isSafeInteger(db) || db < 0) invalid(url, `database "${path}" is not a number`);
  if (cluster && db !== 0) invalid(url, 'Redis Cluster has only database 0');
  const params = new URLSearchParams(query);
  for (const name of params.keys()) {
    if (!KNOWN_PARAMS.has(name))
      invalid(url, `unknown option "${name}" (known: ${[...KNOWN_PARAMS].join(', ')})`);
  }
  return {
    cluster: cluster !== undefined,
    tls: scheme.toLowerCase() === 'rediss',
    nodes,
    username: user ? decode(url, user) : undefined,
    password: pass !== undefined && pass !== '' ? decode(url, pass) : undefined,
    db,
    params,
  };
}

function parseHostPort(url: string, part: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(part.trim());
  if (!m?.[1]) invalid(url, `"${part}" is not host:port`);
  const port = m[2] === undefined ? 6379 : Number(m[2]);
  if (!(port > 0 && port < 65536)) invalid(url, `port ${m[2]} is out of range`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return invalid(url, 'the user or password is not valid percent-encoding');
  }
}

/** A positive integer query option, or the fallback when absent. */
export function intParam(target: RedisTarget, url: string, name: string, fallback: number): number {
  const raw = target.params.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) invalid(url, `option ${name}=${raw} must be an integer >= 0`);
  return n;
}

function invalid(url: string, why: string): never {
  throw new ChatstateError('STORE_URL_INVALID', `cannot use Redis URL "${redact(url)}": ${why}.`, {
    component: 'redis',
  });
}
