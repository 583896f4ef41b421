import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/store/contract.js';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { SessionStore } from '../../src/store/session-store.js';
import { type RedisCluster, type RedisClusterNode, resp, startRedisCluster } from '../support/servers.js';
import { keySlot, migrateSlot, slotOwner } from './cluster-slots.js';
import { startCounterLoad } from './counter-load.js';
import { storesPerCase } from './redis-setup.js';

// Cluster-only behaviour on a real 3-master Redis Cluster: one slot per user (no CROSSSLOT ever),
// events across nodes, listing across masters, and no lost update while a slot migrates.
let cluster: RedisCluster;
let nodes: RedisClusterNode[];
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
  nodes = cluster.nodes;
});
afterAll(async () => {
  await cluster?.stop();
});
const perCase = storesPerCase(
  () => cluster.url,
  () => Promise.all(nodes.map((n) => resp(n.port, ['FLUSHALL']))),
);

async function open(options: ConstructorParameters<typeof SessionStore>[1] = {}): Promise<SessionStore> {
  return (await perCase.open({}, options)).store;
}

async function allKeys(pattern: string): Promise<string[]> {
  const out: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = (await resp(node.port, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [
        string,
        string[],
      ];
      out.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return out;
}

describe('redis cluster behaviour', () => {
  it('every key of a user hashes to one slot: many users with claims never hit CROSSSLOT', async () => {
    const store = await open();
    const users = Array.from({ length: 150 }, (_, i) => `1202555${String(i).padStart(4, '0')}`);
    const results = await Promise.all(
      users.flatMap((id) =>
        [0, 1, 2].map((n) =>
          store.transition(id, (s) => void (s.incr('retries'), s.remember({ dir: 'in', text: `m${n}` })), {
            claim: n === 2 ? `wamid.{odd}}${id}` : `wamid.${id}.${n}`,
          }),
        ),
      ),
    );
    expect(results.every((r) => r.status === 'committed')).toBe(true);
    for (const id of users.slice(0, 25)) {
      // A released lease has no key: held here, so its key is counted and its slot checked too.
      const held = await store.acquireLease(id);
      expect(held, id).not.toBeNull();
      const keys = await allKeys(`{cs:${id}}*`);
      expect(keys.length, id).toBe(6); // hash, history, lease, three claims
      const slot = await keySlot(nodes[0]?.port ?? 0, `{cs:${id}}`);
      for (const key of keys) expect(await keySlot(nodes[0]?.port ?? 0, key), key).toBe(slot);
      if (held) await store.releaseLease(held);
      expect((await store.get(id))?.retries).toBe(3);
    }
    const perMaster = await Promise.all(nodes.map(async (n) => Number(await resp(n.port, ['DBSIZE']))));
    expect(perMaster.every((count) => count > 0)).toBe(true);
  });

  it('lists sessions across all masters, page by page', async () => {
    const store = await open();
    const ids = Array.from({ length: 40 }, (_, i) => `list${i}`);
    await Promise.all(ids.map((id) => store.transition(id, (s) => void s.set('a', 1))));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { ids: string[]; cursor: string | null } = await store.list({
        prefix: 'list',
        limit: 7,
        cursor,
      });
      expect(page.ids.length).toBeLessThanOrEqual(7);
      seen.push(...page.ids);
      cursor = page.cursor;
    } while (cursor !== null);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('change events from every master reach one subscriber', async () => {
    const writer = await open();
    const reader = await open();
    const events: ChangeEvent[] = [];
    await reader.subscribe((e) => events.push(e));
    const ids = Array.from({ length: 12 }, (_, i) => `ev${i}`);
    await Promise.all(ids.map((id) => writer.transition(id, (s) => void s.set('a', 1))));
    for (let i = 0; i < 100 && events.length < ids.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events.map((e) => e.key).sort()).toEqual(ids.map((id) => `cs:${id}`).sort());
  });

  it('a redis:// URL pointing at a cluster node fails to open and says to use redis+cluster://', async () => {
    const error = await redisDriver({ url: `redis://127.0.0.1:${nodes[0]?.port}` }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_OPEN_FAILED' });
    expect(String((error as Error).message)).toMatch(/redis\+cluster:\/\//);
  });

  it('no lost update while the user slot migrates between masters', async () => {
    const options = { leaseTtlMs: 2000, leaseWaitMs: 10_000 };
    const stores = [await open(options), await open(options)];
    const slot = await keySlot(nodes[0]?.port ?? 0, '{cs:hot}');
    await stores[0]?.transition('hot', (s) => void s.set('start', true));
    // A message is retried with the same claim until it is committed or reported duplicate:
    // duplicate after a failure means the failed attempt had in fact been committed.
    const load = startCounterLoad(stores, {
      key: 'hot',
      claimPrefix: 'wamid.hot.',
      attempts: 10,
      onApplied: (r, attempt) => expect(r.status === 'committed' || attempt > 0).toBe(true),
      onFailure: (code) => expect(['STORE_UNAVAILABLE', 'STORE_TIMEOUT', 'LEASE_BUSY']).toContain(code),
    });
    const { applied, failures } = load;
    let migrations = 0;
    for (let round = 0; round < 3; round++) {
      await new Promise((r) => setTimeout(r, 300));
      const from = await slotOwner(nodes, slot);
      const to = nodes.find((n) => n !== from) as RedisClusterNode;
      expect(await migrateSlot(nodes, slot, from, to)).toBeGreaterThan(0);
      expect((await slotOwner(nodes, slot)).port).toBe(to.port);
      migrations++;
    }
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    const final = await stores[1]?.get('hot');
    expect(migrations).toBe(3);
    expect(applied.size).toBeGreaterThan(20);
    expect(final?.retries).toBe(applied.size);
    console.log(
      `slot ${slot}: ${applied.size} messages applied once each, ${failures.length} typed failures (${[...new Set(failures)].join(', ') || 'none'})`,
    );
  }, 60_000);
});
