import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { defineConformanceSuite } from '../../src/store/conformance/index.js';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { type RedisCluster, startRedisCluster } from '../support/servers.js';
import { type Admin, adminFor, flushAll, quarantinedRaw, writeGarbage } from './redis-support.js';

// A real 3-master Redis Cluster for the file, every master flushed before each case.
let cluster: RedisCluster;
let admin: Admin;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
  admin = adminFor(cluster.url);
});
afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

defineConformanceSuite(
  { describe, it, beforeEach, afterEach },
  {
    name: 'redis cluster',
    open: async () => {
      await flushAll(admin);
      return redisDriver({ url: cluster.url });
    },
    openPeer: async () => redisDriver({ url: cluster.url }),
    corrupt: async (_driver, key) => writeGarbage(admin, key),
    quarantined: async (_driver, key) => quarantinedRaw(admin, key),
  },
);
