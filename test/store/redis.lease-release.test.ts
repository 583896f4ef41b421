import { afterAll, describe, expect, it } from 'vitest';
import { isChatstateError } from '../../src/errors.js';
import { type RedisDriver, redisDriver } from '../../src/store/drivers/redis.js';
import { type RedisServer, startRedis } from '../support/servers.js';

// A lease whose release failed because Redis was down is released once Redis is back, instead of
// blocking its user for the rest of the TTL (the webhook runtime's drains would wait for it).

let server: RedisServer | undefined;
let driver: RedisDriver | undefined;
let peer: RedisDriver | undefined;
afterAll(async () => {
  await Promise.all([driver?.close(), peer?.close()]);
  await server?.stop();
});

describe('redis driver: lease release across an outage', () => {
  it('a release that failed while the server was down is sent again on reconnect', async () => {
    server = await startRedis({ appendonly: true, appendfsync: 'always' });
    driver = await redisDriver({ url: `${server.url}?timeout=1000` });
    const grant = await driver.acquireLease('cs:14155550199', 30_000, Date.now());
    expect(grant).not.toBeNull();
    const other = await driver.acquireLease('cs:14155550198', 30_000, Date.now());

    await server.kill('SIGKILL');
    const failure = await driver.releaseLease('cs:14155550199', grant?.token ?? 0).catch((e: unknown) => e);
    expect(isChatstateError(failure) && failure.code).toBe('STORE_UNAVAILABLE');
    await server.start();

    // The lease survived the restart (AOF) with ~30 s left, yet it is free again within moments.
    peer = await redisDriver({ url: server.url });
    const deadline = Date.now() + 5000;
    let taken = await peer.acquireLease('cs:14155550199', 30_000, Date.now());
    while (!taken && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      taken = await peer.acquireLease('cs:14155550199', 30_000, Date.now());
    }
    expect(taken?.token).toBeGreaterThan(grant?.token ?? 0);
    // Only the failed release is replayed: a lease nobody released stays held.
    expect(other).not.toBeNull();
    expect(await peer.acquireLease('cs:14155550198', 30_000, Date.now())).toBeNull();
  }, 30_000);
});
