import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { defineConformanceSuite } from '../../src/store/conformance/index.js';
import { type MemcachedDriver, memcachedDriver } from '../../src/store/drivers/memcached.js';
import { itemKey } from '../../src/store/drivers/memcached-codec.js';
import { type MemcachedServer, memcachedRaw, startMemcached } from '../support/servers.js';

// One real memcached for the whole file; every case starts from an empty server (flush_all).
let server: MemcachedServer | undefined;
beforeAll(async () => {
  server = await startMemcached();
});
afterAll(async () => {
  await server?.stop();
});

const port = () => {
  if (!server) throw new Error('memcached did not start');
  return server.port;
};
const open = () => memcachedDriver({ servers: [`127.0.0.1:${port()}`] });

defineConformanceSuite(
  { describe, it, beforeEach, afterEach },
  {
    name: 'memcached',
    open: async () => {
      await memcachedRaw(port(), 'flush_all\r\n');
      return open();
    },
    // A second driver with its own connection: another process's view of the same server.
    openPeer: async () => open(),
    // Bytes that are not a chatstate item at all (no driver header), written by another client.
    corrupt: async (_driver, key) => {
      const reply = await memcachedRaw(port(), `set ${itemKey('s', key)} 0 0 13\r\nnot a session\r\n`);
      if (reply !== 'STORED\r\n') throw new Error(`corrupt write failed: ${reply}`);
    },
    quarantined: async (driver, key) =>
      (await (driver as MemcachedDriver).quarantined(key)).map((r) => r.raw),
  },
);
