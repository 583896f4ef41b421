import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { SessionStore } from '../../src/store/session-store.js';
import { type RedisCluster, startRedisCluster, waitForClusterOk } from '../support/servers.js';
import { failover, keySlot, replicaOf, slotOwner } from './cluster-slots.js';
import { startCounterLoad } from './counter-load.js';

// A manual failover (3 masters, 1 replica each) while two "processes" run transitions on one
// counter: every transition succeeds or fails with a typed error, and no update is lost.
let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('redis cluster failover', () => {
  it('no lost update across two manual failovers of the user slot', async () => {
    const stores: SessionStore[] = [];
    for (let i = 0; i < 2; i++) {
      const driver = await redisDriver({ url: cluster.url });
      stores.push(new SessionStore(driver, { leaseTtlMs: 2000, leaseWaitMs: 10_000 }, driver.prefix));
    }
    const slot = await keySlot(cluster.nodes[0]?.port ?? 0, '{cs:hot}');
    const load = startCounterLoad(stores, {
      key: 'hot',
      claimPrefix: 'wamid.fo.',
      attempts: 20,
      retryDelayMs: 50,
      onFailure: (code) => expect(['STORE_UNAVAILABLE', 'STORE_TIMEOUT', 'LEASE_BUSY']).toContain(code),
    });
    const { applied, failures } = load;
    try {
      for (let round = 0; round < 2; round++) {
        await new Promise((r) => setTimeout(r, 500));
        const master = await slotOwner(cluster.nodes, slot);
        const replica = await replicaOf(cluster.nodes, master);
        await failover(replica);
        // Other nodes learn the new configuration over the cluster bus: wait for their view.
        const until = Date.now() + 5000;
        while ((await slotOwner(cluster.nodes, slot)).port !== replica.port && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 50));
        }
        expect((await slotOwner(cluster.nodes, slot)).port).toBe(replica.port);
      }
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await load.stop();
    }
    await waitForClusterOk(
      cluster.nodes.map((n) => n.port),
      3,
    );
    const final = await stores[0]?.get('hot');
    expect(applied.size).toBeGreaterThan(20);
    expect(final?.retries).toBe(applied.size);
    console.log(
      `failover: ${applied.size} messages applied once each, ${failures.length} typed failures (${[...new Set(failures)].join(', ') || 'none'})`,
    );
    for (const store of stores) await store.close();
  }, 90_000);
});
