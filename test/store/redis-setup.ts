// Setup shared by the Redis store test files, so that each says only what it tests: a real deployment
// (redis-server or Redis Cluster) for the file with an admin connection, the stores a case opens and
// closes, and the conformance suite run on such a deployment. Reading and writing data as an operator
// would is redis-support.ts's job; this file only starts, opens, flushes, closes and stops.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { defineConformanceSuite } from '../../src/store/conformance/index.js';
import { type RedisDriver, redisDriver } from '../../src/store/drivers/redis.js';
import { SessionStore } from '../../src/store/session-store.js';
import {
  type RedisCluster,
  type RedisClusterOptions,
  type RedisOptions,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '../support/servers.js';
import { type Admin, adminFor, flushAll, quarantinedRaw, writeGarbage } from './redis-support.js';

/** What a beforeAll started, or a clear error where it did not (a failed start fails every case). */
function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the Redis deployment for this file did not start');
  return value;
}

/** Starts a redis-server for the file and opens an admin connection to it (stop both with stopWithAdmin). */
export async function startRedisWithAdmin(
  opts?: RedisOptions,
): Promise<{ server: RedisServer; admin: Redis }> {
  const server = await startRedis(opts);
  return { server, admin: new Redis(server.url) };
}

/** Starts a Redis Cluster for the file and opens an admin connection to it (stop both with stopWithAdmin). */
export async function startClusterWithAdmin(
  opts?: RedisClusterOptions,
): Promise<{ cluster: RedisCluster; admin: Admin }> {
  const cluster = await startRedisCluster(opts);
  return { cluster, admin: adminFor(cluster.url) };
}

/** Disconnects the admin, then stops the deployment; either is missing when the start failed. */
export async function stopWithAdmin(
  deployment: { stop(): Promise<void> } | undefined,
  admin: Admin | undefined,
): Promise<void> {
  admin?.disconnect();
  await deployment?.stop();
}

/**
 * What a case opens on the file's deployment. `open` gives a redis driver on `url()` and a SessionStore
 * over it; the store, and whatever else the case pushes onto `cleanups`, is closed after the case,
 * latest first, and then `flush` empties the deployment for the next case.
 */
export function storesPerCase(url: () => string, flush: () => Promise<unknown>) {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
    await flush();
  });
  async function open(
    options: Parameters<typeof redisDriver>[0] = {},
    storeOptions: ConstructorParameters<typeof SessionStore>[1] = {},
  ): Promise<{ driver: RedisDriver; store: SessionStore }> {
    const driver = await redisDriver({ url: url(), ...options });
    const store = new SessionStore(driver, storeOptions, driver.prefix);
    cleanups.push(() => store.close());
    return { driver, store };
  }
  return { cleanups, open };
}

/**
 * A redis-server and an admin connection for the file, handed to `use` once started and stopped after the
 * last case, with storesPerCase on it: every case ends with its stores closed and the server flushed.
 */
export function redisStoresForFile(use: (started: { server: RedisServer; admin: Redis }) => void) {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    ({ server, admin } = await startRedisWithAdmin());
    use({ server, admin });
  });
  afterAll(() => stopWithAdmin(server, admin));
  return storesPerCase(
    () => started(server).url,
    () => started(admin).flushall(),
  );
}

/**
 * Runs the store conformance suite on a deployment `start` brings up for the file (stopped after it):
 * every case opens a driver on a flushed deployment, peers are separate connections, and corrupt values
 * and quarantined bytes go through an admin connection.
 */
export function defineRedisConformance(
  name: string,
  start: () => Promise<{ url: string; stop(): Promise<void> }>,
): void {
  let deployment: { url: string; stop(): Promise<void> } | undefined;
  let admin: Admin | undefined;
  beforeAll(async () => {
    deployment = await start();
    admin = adminFor(deployment.url);
  });
  afterAll(() => stopWithAdmin(deployment, admin));
  defineConformanceSuite(
    { describe, it, beforeEach, afterEach },
    {
      name,
      open: async () => {
        await flushAll(started(admin));
        return redisDriver({ url: started(deployment).url });
      },
      openPeer: async () => redisDriver({ url: started(deployment).url }),
      corrupt: async (_driver, key) => writeGarbage(started(admin), key),
      quarantined: async (_driver, key) => quarantinedRaw(started(admin), key),
    },
  );
}
