import { MemcacheClient, type MultiCasRetrievalResponse } from 'memcache-client';
import { ChatstateError } from '../../errors.js';

/**
 * One memcached server as the driver sees it: the few text-protocol commands the driver uses, with
 * "not stored / exists / not found" returned as `false` and every transport failure turned into a
 * typed ChatstateError (STORE_TIMEOUT, STORE_UNAVAILABLE).
 *
 * The client keeps exactly one connection per server. Commands issued in one tick are written to
 * that socket in call order and memcached answers them in order, which is what lets the driver
 * pipeline several commands in one round trip and rely on their order (a claim recorded before the
 * lease release that follows it).
 */
export class MemcachedNode {
  readonly server: string;
  readonly client: MemcacheClient;
  /** Commands sent that expect a reply. */
  requests = 0;
  /** Commands sent with `noreply`. */
  noReplies = 0;

  constructor(server: string, client: MemcacheClient) {
    this.server = server;
    this.client = client;
  }

  /** `gets` of several keys in one command: key -> value and CAS unique. Missing keys are absent. */
  async gets(keys: string[]): Promise<Map<string, { value: Buffer; cas: string }>> {
    const reply = await this.#call(() => this.client.gets<MultiCasRetrievalResponse>(keys));
    const out = new Map<string, { value: Buffer; cas: string }>();
    for (const key of keys) {
      const hit = reply[key];
      if (hit) out.set(key, { value: toBuffer(hit.value), cas: String(hit.casUniq) });
    }
    return out;
  }

  /** `set`, `add`, `append` or `cas` (with `cas` given); false when memcached did not store it. */
  store(
    cmd: 'set' | 'add' | 'cas' | 'append',
    key: string,
    value: Buffer | string,
    exptime: number,
    cas?: string,
  ): Promise<boolean> {
    return this.#outcome(() =>
      this.client.store(cmd, key, value, {
        lifetime: exptime,
        ...(cas === undefined ? {} : { casUniq: cas }),
      }),
    );
  }

  /** Fire and forget: written in order on the connection, no reply, no round trip waited for. */
  storeNoReply(cmd: 'cas', key: string, value: Buffer | string, exptime: number, cas: string): void {
    this.noReplies++;
    this.client.store(cmd, key, value, { lifetime: exptime, casUniq: cas, noreply: true }).catch(() => {});
  }

  delete(key: string): Promise<boolean> {
    return this.#outcome(() => this.client.delete(key));
  }

  touch(key: string, exptime: number): Promise<boolean> {
    return this.#outcome(() => this.client.touch(key, exptime));
  }

  /** Sends one line and returns the raw reply (version, stats, flush_all). */
  command<T>(line: string): Promise<T> {
    return this.#call(() => this.client.cmd<T>(line));
  }

  close(): void {
    this.client.shutdown();
  }

  async #outcome(fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.#call(fn);
      return true;
    } catch (error) {
      const reply = (error as Error).message;
      if (reply === 'NOT_STORED' || reply === 'EXISTS' || reply === 'NOT_FOUND') return false;
      throw error;
    }
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    this.requests++;
    try {
      return await fn();
    } catch (error) {
      throw this.#wrap(error);
    }
  }

  #wrap(error: unknown): unknown {
    const message = (error as Error)?.message ?? String(error);
    // Store replies that are outcomes, not failures: the caller decides what they mean.
    if (message === 'NOT_STORED' || message === 'EXISTS' || message === 'NOT_FOUND') return error;
    const timeout = /timeout/i.test(message);
    const connecting = (error as { connecting?: boolean }).connecting === true;
    const what = connecting
      ? `cannot connect to memcached at ${this.server} (${message})`
      : `memcached at ${this.server} failed: ${message}`;
    const fix = timeout
      ? 'The server did not answer within timeoutMs: check that it is up and not overloaded, or raise timeoutMs.'
      : 'Check that memcached is running and reachable; the driver reconnects by itself when it returns.';
    return new ChatstateError(timeout ? 'STORE_TIMEOUT' : 'STORE_UNAVAILABLE', `${what}. ${fix}`, {
      component: 'memcached',
      cause: error,
      details: { server: this.server },
    });
  }
}

/**
 * Asks every server for its version. Every server that fails is named (one down server is a share of
 * the users), with the code of the first failure (STORE_UNAVAILABLE or STORE_TIMEOUT).
 */
export async function pingAll(nodes: MemcachedNode[]): Promise<void> {
  const results = await Promise.allSettled(nodes.map((node) => node.command('version')));
  const failures: string[] = [];
  let first: unknown;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    first ??= r.reason;
    const cause = (r.reason as Error).cause;
    failures.push(`${nodes[i]?.server} (${cause instanceof Error ? cause.message : String(r.reason)})`);
  });
  if (first === undefined) return;
  throw new ChatstateError(
    first instanceof ChatstateError ? first.code : 'STORE_UNAVAILABLE',
    `memcached did not answer: ${failures.join('; ')}. Check that it is running and reachable.`,
    { component: 'memcached', cause: first, details: { failures } },
  );
}

/** The client memcache-client builds for one server; see MemcachedNode for why one connection. */
export function createClient(server: string, timeoutMs: number): MemcacheClient {
  return new MemcacheClient({
    server: { server, maxConnections: 1 },
    cmdTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    noDelay: true,
  });
}

function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  // Items written by other clients with a text or number flag come back decoded; keep their bytes.
  return Buffer.from(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''), 'utf8');
}

/**
 * Parses `memcached://host:port[,host:port...]`. This is not a WHATWG URL (several hosts), so it is
 * read by hand. The only query parameter is `timeoutMs`.
 */
export function parseMemcachedUrl(url: string): { servers: string[]; timeoutMs: number | undefined } {
  const invalid = (why: string): never => {
    throw new ChatstateError(
      'STORE_URL_INVALID',
      `invalid memcached URL "${url}": ${why}. Use memcached://host:11211 or memcached://host1:11211,host2:11211 (optional ?timeoutMs=1000).`,
      { component: 'memcached' },
    );
  };
  const match = /^memcached:\/\/([^/?#]*)\/?(?:\?([^#]*))?$/i.exec(url);
  if (!match) return invalid('expected memcached:// followed by host:port pairs and nothing else');
  const [, hosts = '', query = ''] = match;
  if (hosts.includes('@')) invalid('credentials are not supported (memcached text protocol has no login)');
  if (!hosts) invalid('no server given');
  const servers = hosts.split(',').map((part) => {
    const hostPort = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(part.trim());
    if (!hostPort)
      return invalid(`"${part}" is not host:port (IPv6 literals are not supported: use a hostname)`);
    const port = hostPort[2] === undefined ? 11211 : Number(hostPort[2]);
    if (port < 1 || port > 65535) invalid(`port ${port} is out of range`);
    return `${hostPort[1]}:${port}`;
  });
  if (new Set(servers).size !== servers.length) invalid('a server is listed twice');
  let timeoutMs: number | undefined;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name !== 'timeoutMs') invalid(`unknown parameter "${name}"`);
    timeoutMs = Number(value);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
      invalid(`timeoutMs=${value} must be a positive integer`);
  }
  return { servers, timeoutMs };
}
