import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Cluster, Redis } from 'ioredis';
import { ChatstateError } from '../../errors.js';
import type {
  BeginRequest,
  BeginResult,
  ChangeEvent,
  CommitRequest,
  CommitResult,
  Driver,
  DriverCapabilities,
  StoredFields,
} from '../contract.js';
import type { LuaScript } from '../lua/generated/scripts.js';
import { redact } from '../open.js';
import { commitArgs, decodeBegin } from './redis-codec.js';
import { connectClient, readyClient } from './redis-connect.js';
import { type ErrorScope, isConnectionError, storeError } from './redis-errors.js';
import { ChangeFeed } from './redis-events.js';
import { redisInbox } from './redis-inbox.js';
import { quarantineKey, sessionKeys, transitionClaimKey } from './redis-keys.js';
import { OUTBOX_RETENTION_MS, OUTBOX_UNLIST_AFTER_MS, redisOutbox } from './redis-outbox.js';
import { PendingReleases } from './redis-release.js';
import { scanSessions } from './redis-scan.js';
import {
  evalScript,
  isNoScript,
  LUA_SCRIPTS,
  loadScripts,
  type RedisClient,
  runScript,
  type ScriptArg,
  sendScript,
} from './redis-scripts.js';
import { profileServers, type RedisServerStats, serverStats } from './redis-server-info.js';
import { intParam, parseRedisUrl } from './redis-url.js';

export type { RedisServerStats } from './redis-server-info.js';
export { parseRedisUrl } from './redis-url.js';

export interface RedisDriverOptions {
  /**
   * `redis://[user:password@]host:port/db`, `rediss://…` (TLS) or `redis+cluster://host:port,host:port`.
   * Query options: `prefix`, `timeout` (command timeout, ms), `connectTimeout` (ms), `grace` (ms),
   * `events=0`, `quarantineTtl` (ms), `outboxRetention` (ms), `cache` (sessions). Default
   * `redis://127.0.0.1:6379`. Ignored when `client` is given.
   */
  url?: string;
  /**
   * An existing ioredis client (`Redis` or `Cluster`) to use instead of opening one. The driver
   * never closes it, and its own settings (timeouts, retries, offline queue) stay in force.
   */
  client?: Redis | Cluster;
  /** Default key prefix of the store, also the prefix of the events channel. Default `cs:`. */
  prefix?: string;
  /** A command with no answer after this long fails with STORE_TIMEOUT. Default 3000 ms. */
  commandTimeoutMs?: number;
  /** How long opening may take before STORE_OPEN_FAILED. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long a session's keys outlive its expiry, so the next message still sees the expired
   * session (`draft.expired`, a "welcome back"). Default 60,000 ms; 0 removes keys at expiry.
   */
  expiredGraceMs?: number;
  /** Publish change events (commit, delete) on `<prefix>events`. Default true. */
  events?: boolean;
  /** How long quarantined records are kept. Default 30 days. */
  quarantineTtlMs?: number;
  /** TLS options for `rediss://` (CA, client certificate…). */
  tls?: ConnectionOptions;
  /** How long a reply (outbox entry) is kept after its last change. Default 7 days. */
  outboxRetentionMs?: number;
  /**
   * Redis Cluster: how old a listing of a user with no pending reply must be before recovery
   * removes it from the outbox index (a commit lists its user just before it lands). Default 60,000 ms.
   */
  outboxUnlistAfterMs?: number;
  /**
   * How many users' sessions the store keeps after its own leased transitions, so that their
   * next begin only asks Redis whether the copy is still current instead of reading it again
   * (docs/redis.md, "Session copies"). Least recently used go first. Default 10,000; 0 turns it off.
   */
  cacheSessions?: number;
}

/** The Redis driver: the contract plus what operations and metrics need. */
export interface RedisDriver extends Driver {
  readonly client: RedisClient;
  readonly prefix: string;
  /** Risky server settings found at connect (persistence, eviction), for logs and `chatstate doctor`. */
  readonly warnings: string[];
  /** `used_memory`, `evicted_keys`, `expired_keys` (summed over cluster masters). */
  serverStats(): Promise<RedisServerStats>;
}

const DAY = 86_400_000;
const DEFAULT_CACHE_SESSIONS = 10_000;

/** Opens (or adopts) a Redis or Redis Cluster connection and returns a `model: 'fields'` driver. */
export async function redisDriver(options: RedisDriverOptions = {}): Promise<RedisDriver> {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const target = options.client ? null : parseRedisUrl(url);
  const param = (name: string, fallback: number) =>
    target ? intParam(target, url, name, fallback) : fallback;
  const prefix = options.prefix ?? target?.params.get('prefix') ?? 'cs:';
  if (/[{}]/.test(prefix)) {
    throw new ChatstateError(
      'INVALID_ARGUMENT',
      `prefix "${prefix}" contains a brace: Redis Cluster reads braces as a hash tag.`,
      {
        component: 'redis',
      },
    );
  }
  const commandTimeoutMs = options.commandTimeoutMs ?? param('timeout', 3000);
  const connectTimeoutMs = options.connectTimeoutMs ?? param('connectTimeout', 5000);
  const graceMs = options.expiredGraceMs ?? param('grace', 60_000);
  const quarantineTtlMs = options.quarantineTtlMs ?? param('quarantineTtl', 30 * DAY);
  const events = options.events ?? target?.params.get('events') !== '0';
  const outboxRetentionMs = options.outboxRetentionMs ?? param('outboxRetention', OUTBOX_RETENTION_MS);
  const copies = options.cacheSessions ?? param('cache', DEFAULT_CACHE_SESSIONS);
  const channel = events ? `${prefix}events` : '';

  let client: RedisClient;
  let where: string;
  if (options.client) {
    client = options.client;
    where = describeClient(client);
    if (client.options.keyPrefix) {
      throw new ChatstateError(
        'INVALID_ARGUMENT',
        `the given ioredis client has keyPrefix set: use the driver's prefix option instead.`,
        {
          component: 'redis',
        },
      );
    }
    await readyClient(client, where, connectTimeoutMs);
  } else {
    where = redact(url);
    client = await connectClient(target as NonNullable<typeof target>, where, {
      commandTimeoutMs,
      connectTimeoutMs,
      tls: options.tls,
    });
  }
  const owned = !options.client;
  const cluster = client.isCluster;
  const masters = (): Redis[] => (cluster ? (client as Cluster).nodes('master') : [client as Redis]);
  const scope: ErrorScope = { where, commandTimeoutMs: owned ? commandTimeoutMs : undefined };

  let profile: Awaited<ReturnType<typeof profileServers>>;
  try {
    [profile] = await Promise.all([profileServers(masters(), cluster), loadScripts(masters())]);
  } catch (error) {
    if (owned) client.disconnect();
    throw error instanceof ChatstateError ? error : storeError(error, 'loading the Lua scripts', scope);
  }

  const capabilities: DriverCapabilities = {
    model: 'fields',
    nativeTtl: true,
    scan: true,
    changeEvents: events,
    persistent: profile.persistent,
    evicts: profile.evicts,
    maxValueBytes: 512 * 1024 * 1024,
    ttlResolutionMs: 1,
    outbox: true,
    sessionCopies: copies,
  };
  const feed = new ChangeFeed(
    () =>
      cluster
        ? (client as Cluster).duplicate(undefined, { enableOfflineQueue: true })
        : (client as Redis).duplicate({ enableOfflineQueue: true, lazyConnect: true }),
    `${prefix}events`,
  );
  let closed = false;

  const closedError = () =>
    new ChatstateError('STORE_CLOSED', `the redis store is closed.`, { component: 'redis' });
  /** Runs one operation: refuses after close and turns every failure into a typed error. */
  const op =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (closed) throw closedError();
      try {
        return await fn(...args);
      } catch (error) {
        throw storeError(error, name, scope);
      }
    };
  const ms = (n: number) => String(Math.max(1, Math.ceil(n)));
  /** A failure before anything was sent (a key with a brace, a patch the driver cannot store), as a rejection. */
  const refuse = (error: unknown, name: string) =>
    Promise.reject(error instanceof ChatstateError ? error : storeError(error, name, scope));

  /**
   * The script call of begin or commit (every transition), with op()'s checks, and `decode` run on
   * its reply: one reaction on the EVALSHA's own promise. An async wrapper here and another in
   * begin and commit cost a promise and a microtask turn each, four per transition.
   */
  const call = <R>(
    name: string,
    script: LuaScript,
    keys: string[],
    args: ScriptArg[],
    decode: (reply: unknown) => R,
  ): Promise<R> => {
    if (closed) return Promise.reject(closedError());
    let sent: Promise<unknown>;
    try {
      sent = sendScript(client, script, keys, args);
    } catch (error) {
      return refuse(error, name);
    }
    return sent.then(decode, (error) => {
      if (!isNoScript(error)) throw storeError(error, name, scope);
      return evalScript(client, script, keys, args).then(decode, (e) => {
        throw storeError(e, name, scope);
      });
    });
  };

  const begin = (req: BeginRequest, name = 'begin'): Promise<BeginResult> => {
    let keys: string[];
    const args: string[] = [];
    let held: number | undefined;
    try {
      const k = sessionKeys(req.key);
      keys = [k.hash, k.history, k.lease];
      if (req.claimKey !== undefined) keys.push(transitionClaimKey(req.key, req.claimKey));
      args.push(req.claimKey === undefined ? '0' : '1', req.lease ? ms(req.lease.ttlMs) : '', '1');
      // Copies are validated, and stamps given, only under the user's lease, taken here or held
      // (withLease); begin.lua checks that a held lease is still the caller's. Without copies the
      // held token is not sent: begin.lua would read the lease key for nothing.
      held = copies && !req.lease ? req.heldLease : undefined;
      const copy = copies && (req.lease || held !== undefined) ? req.copy : undefined;
      if (copy) args.push(String(copy.version), copy.stamp);
      if (held !== undefined) {
        if (!copy) args.push('', '');
        args.push(String(held));
      }
    } catch (error) {
      return refuse(error, name);
    }
    return call(name, LUA_SCRIPTS.begin, keys, args, (raw) => beginResult(req, held, raw));
  };

  const beginResult = (req: BeginRequest, held: number | undefined, raw: unknown): BeginResult => {
    const reply = decodeBegin(raw, graceMs);
    if (reply.kind === 'duplicate') return { status: 'duplicate' };
    if (reply.kind === 'busy') return { status: 'busy', leaseExpiresAt: req.now + Math.max(1, reply.pttl) };
    const lease =
      req.lease && reply.token > 0 ? { token: reply.token, expiresAt: req.now + req.lease.ttlMs } : null;
    // Only sent with a copy and a lease taken or still held.
    if (reply.kind === 'unchanged') return { status: 'unchanged', lease };
    // A token in the reply: read under the lease begin took, or under the held one (still held).
    if (copies && reply.token > 0 && (lease || reply.token === held)) {
      const stamp = stampOf(reply.record);
      if (stamp !== undefined) return { status: 'ok', lease, record: reply.record, stamp };
    }
    return { status: 'ok', lease, record: reply.record };
  };

  const argOptions = { graceMs, channel };
  const outbox = redisOutbox(client, prefix, {
    retentionMs: outboxRetentionMs,
    unlistAfterMs: options.outboxUnlistAfterMs ?? OUTBOX_UNLIST_AFTER_MS,
  });
  const commit = (req: CommitRequest): Promise<CommitResult> => {
    let keys: string[];
    let args: ScriptArg[];
    try {
      const k = sessionKeys(req.key);
      keys = [k.hash, k.history, k.lease];
      if (req.claim) keys.push(transitionClaimKey(req.key, req.claim.key));
      // With a copy's stamp the script also checks that the stored writer token is still that one.
      args = commitArgs(req, argOptions, req.copyStamp ?? '');
      if (req.outbox?.length) {
        // The replies ride in the same script call as the state change (commit.lua).
        const parts = outbox.commitParts(req, req.claim !== undefined);
        keys.push(...parts.keys);
        args.push(...parts.args);
        // A cluster lists the user in the outbox index first (redis-outbox.ts).
        if (cluster) return listThenCommit(req, keys, args);
      }
    } catch (error) {
      return refuse(error, 'commit');
    }
    return sendCommit(req, keys, args);
  };

  const sendCommit = (req: CommitRequest, keys: string[], args: ScriptArg[]) =>
    call('commit', LUA_SCRIPTS.commit, keys, args, (raw) => commitResult(req, raw));

  const listThenCommit = async (req: CommitRequest, keys: string[], args: ScriptArg[]) => {
    try {
      await outbox.beforeCommit(req);
    } catch (error) {
      throw storeError(error, 'outbox listing', scope);
    }
    return sendCommit(req, keys, args);
  };

  const commitResult = (req: CommitRequest, raw: unknown): CommitResult => {
    const reply = raw as number[];
    if (reply[0] !== 0) return { status: reply[0] === 2 ? 'lease_lost' : 'conflict' };
    const version = req.expectVersion + (req.change ? 1 : 0);
    // A commit under a lease writes its token as `w`: with `v`, what a later begin validates.
    if (!copies || req.leaseToken === undefined) return { status: 'ok', version };
    const stamp = req.change ? String(req.leaseToken) : req.copyStamp;
    return stamp ? { status: 'ok', version, stamp } : { status: 'ok', version };
  };

  const inbox = redisInbox(client, prefix);
  const releases = new PendingReleases(client);

  const driver: RedisDriver = {
    name: 'redis',
    capabilities,
    client,
    prefix,
    warnings: profile.warnings,
    // The webhook inbox (redis-inbox.ts): per-user sorted set + hash, 16 index shards for recovery.
    inbox: {
      add: op('inbox add', inbox.add),
      peek: op('inbox peek', inbox.peek),
      remove: op('inbox remove', inbox.remove),
      users: op('inbox users', inbox.users),
    },
    // The reply outbox (redis-outbox.ts): entries written by commit.lua with the state change.
    outbox: {
      pending: op('outbox pending', outbox.pending),
      update: op('outbox update', outbox.update),
      byProviderId: op('outbox byProviderId', outbox.byProviderId),
      forUser: op('outbox forUser', outbox.forUser),
    },
    begin,
    commit,
    load: op('load', async (key: string, now: number): Promise<StoredFields | null> => {
      const reply = await begin({ key, now }, 'load');
      return reply.status === 'ok' ? (reply.record as StoredFields | null) : null;
    }),
    claim: op(
      'claim',
      async (key: string, ttlMs: number) => (await client.set(key, '1', 'PX', ms(ttlMs), 'NX')) === 'OK',
    ),
    acquireLease: op('acquireLease', async (key: string, ttlMs: number, now: number) => {
      const k = sessionKeys(key);
      const reply = decodeBegin(
        await runScript(client, LUA_SCRIPTS.begin, [k.hash, k.history, k.lease], ['0', ms(ttlMs), '0']),
        graceMs,
      );
      return reply.kind === 'ok' ? { token: reply.token, expiresAt: now + ttlMs } : null;
    }),
    extendLease: op('extendLease', async (key: string, token: number, ttlMs: number) => {
      return (
        (await runScript(
          client,
          LUA_SCRIPTS.extend,
          [sessionKeys(key).lease],
          [String(token), ms(ttlMs)],
        )) === 1
      );
    }),
    releaseLease: op('releaseLease', async (key: string, token: number) => {
      try {
        return (
          (await runScript(client, LUA_SCRIPTS.release, [sessionKeys(key).lease], [String(token)])) === 1
        );
      } catch (error) {
        // Sent again once the server is back, so the user is not blocked for the rest of the TTL.
        const message = error instanceof Error ? error.message : '';
        if (isConnectionError(message) || message === 'Command timed out') releases.add(key, token);
        throw error;
      }
    }),
    delete: op('delete', async (key: string) => {
      const k = sessionKeys(key);
      return (await runScript(client, LUA_SCRIPTS.delete, [k.hash, k.history], [channel, key])) === 1;
    }),
    quarantine: op('quarantine', async (key: string, raw: Uint8Array, reason: string, now: number) => {
      const k = sessionKeys(key);
      const q = quarantineKey(key, now, randomBytes(4).toString('hex'));
      const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      await runScript(
        client,
        LUA_SCRIPTS.quarantine,
        [k.hash, k.history, q],
        [bytes, reason, String(now), ms(quarantineTtlMs)],
      );
    }),
    scan: op('scan', (keyPrefix: string, cursor: string | null, limit: number, now: number) =>
      scanSessions(client, masters, keyPrefix, cursor, limit, now, graceMs),
    ),
    // Without events nothing is published, so there is nothing to subscribe to.
    ...(events
      ? { subscribe: op('subscribe', (listener: (event: ChangeEvent) => void) => feed.add(listener)) }
      : {}),
    serverStats: op('serverStats', () => serverStats(masters())),
    ping: op('ping', async () => {
      await client.ping();
    }),
    async close() {
      if (closed) return;
      closed = true;
      releases.close();
      await feed.close();
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  };
  return driver;
}

function describeClient(client: RedisClient): string {
  if (client.isCluster) {
    const nodes = (client as Cluster).nodes('master').map((n) => `${n.options.host}:${n.options.port}`);
    return `the given Redis Cluster client (${nodes.join(',') || 'not connected yet'})`;
  }
  const o = (client as Redis).options;
  return `the given Redis client (${o.host}:${o.port})`;
}

/**
 * The writer token (`w`) of a record read under the caller's lease, which identifies its content
 * together with `v` ('' for no session); undefined when it has none (written without a lease).
 */
function stampOf(record: StoredFields | null): string | undefined {
  if (record === null) return '';
  const w = record.fields.w;
  return w === undefined ? undefined : typeof w === 'string' ? w : Buffer.from(w).toString('latin1');
}
