import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { defineConformanceSuite } from '../../src/store/conformance/index.js';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { type RedisServer, startRedis } from '../support/servers.js';
import { type Admin, adminFor, flushAll, quarantinedRaw, writeGarbage } from './redis-support.js';

// One real redis-server for the file, flushed before every case; peers are separate connections.
let server: RedisServer;
let admin: Admin;
beforeAll(async () => {
  server = await startRedis();
  admin = adminFor(server.url);
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

defineConformanceSuite(
  { describe, it, beforeEach, afterEach },
  {
    name: 'redis',
    open: async () => {
      await flushAll(admin);
      return redisDriver({ url: server.url });
    },
    openPeer: async () => redisDriver({ url: server.url }),
    corrupt: async (_driver, key) => writeGarbage(admin, key),
    quarantined: async (_driver, key) => quarantinedRaw(admin, key),
  },
);
