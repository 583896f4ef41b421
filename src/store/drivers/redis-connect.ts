import type { ConnectionOptions } from 'node:tls';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { ChatstateError } from '../../errors.js';
import { openError } from './redis-errors.js';
import type { RedisClient } from './redis-scripts.js';
import type { RedisTarget } from './redis-url.js';

export interface ConnectSettings {
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  tls: ConnectionOptions | undefined;
}

// Reconnect forever with a short backoff: a store that comes back is used again within a second.
const backoff = (times: number) => Math.min(100 * times, 1000);

/**
 * Creates and connects an ioredis client (ioredis is imported here, on first use only). The
 * options make failures fast and unambiguous instead of queued: no offline queue, no retry of a
 * command whose connection dropped (its outcome is unknown, so the caller gets a typed error),
 * a per-command timeout, and background reconnection.
 */
export async function connectClient(
  target: RedisTarget,
  where: string,
  s: ConnectSettings,
): Promise<RedisClient> {
  const { Redis, Cluster } = await import('ioredis');
  const common: RedisOptions = {
    username: target.username,
    password: target.password,
    ...(target.tls ? { tls: s.tls ?? {} } : {}),
    connectTimeout: s.connectTimeoutMs,
    commandTimeout: s.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: 'chatstate',
    lazyConnect: true,
  };
  let client: RedisClient;
  if (target.cluster) {
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      scaleReads: 'master',
      clusterRetryStrategy: backoff,
      retryDelayOnTryAgain: 50,
      slotsRefreshTimeout: Math.max(1000, s.commandTimeoutMs),
      redisOptions: common,
    };
    client = new Cluster(target.nodes, options);
  } else {
    const node = target.nodes[0] as { host: string; port: number };
    client = new Redis({
      ...common,
      ...node,
      db: target.db,
      enableOfflineQueue: false,
      retryStrategy: backoff,
    });
  }
  // The first failure is the cause (WRONGPASS, ECONNREFUSED…); later ones are its echoes.
  let firstError: unknown;
  const remember = (error: unknown) => {
    firstError ??= error;
  };
  client.on('error', remember);
  client.on('node error', remember);
  try {
    await withTimeout(client.connect(), s.connectTimeoutMs + 1000);
    if (!target.cluster && (await clusterEnabled(client))) {
      throw new ChatstateError(
        'STORE_OPEN_FAILED',
        `${where} is a Redis Cluster node: use redis+cluster://host:port,host:port (any nodes of the cluster).`,
        { component: 'redis' },
      );
    }
  } catch (error) {
    client.disconnect();
    if (error instanceof ChatstateError) throw error;
    // The server's reply (WRONGPASS, NOAUTH…) says more than ioredis's "Connection is closed".
    throw openError(where, firstError ?? error);
  } finally {
    client.off('error', remember);
    client.off('node error', remember);
  }
  // Background errors show up as failed commands (typed errors); without a listener ioredis prints them.
  client.on('error', () => {});
  return client;
}

/** Waits for a client someone else created until it is ready (connecting it if it is lazy). */
export async function readyClient(client: RedisClient, where: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  try {
    if (client.status === 'wait') await withTimeout(client.connect(), timeoutMs);
    else {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          client.once('ready', resolve);
          client.once('end', () => reject(new Error('the client was closed')));
        }),
        timeoutMs,
      );
    }
  } catch (error) {
    throw openError(where, error);
  }
}

async function clusterEnabled(client: RedisClient): Promise<boolean> {
  try {
    return /^cluster_enabled:1/m.test(await client.info('cluster'));
  } catch {
    return false; // INFO may be restricted on managed servers: then trust the URL
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connect ETIMEDOUT (no ready server after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
