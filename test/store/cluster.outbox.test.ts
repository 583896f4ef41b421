import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisDriver, redisDriver } from '../../src/store/drivers/redis.js';
import { inboxShardOf, OUTBOX_SHARDS, outboxShardKeys } from '../../src/store/drivers/redis-keys.js';
import { LUA_SCRIPTS } from '../../src/store/lua/generated/scripts.js';
import { SessionStore } from '../../src/store/session-store.js';
import type { RedisCluster } from '../support/servers.js';
import { startClusterWithAdmin, stopWithAdmin } from './redis-setup.js';
import { type Admin, flushAll } from './redis-support.js';

// The reply outbox on a real 3-master cluster: entries in the user's slot, users listed in 16 shards.
let cluster: RedisCluster;
let admin: Admin;
beforeAll(async () => {
  ({ cluster, admin } = await startClusterWithAdmin({ masters: 3, replicasPerMaster: 0 }));
});
afterAll(() => stopWithAdmin(cluster, admin));

const slot = async (key: string) => Number(await admin.call('cluster', 'keyslot', key));
const listedUsers = async () => {
  const users: string[] = [];
  for (let n = 0; n < OUTBOX_SHARDS; n++)
    users.push(...(await admin.zrange(outboxShardKeys('cs:', n).index, 0, -1)));
  return users.sort();
};

async function open(options: { outboxUnlistAfterMs?: number } = {}) {
  const driver: RedisDriver = await redisDriver({ url: cluster.url, ...options });
  return new SessionStore(driver, {}, driver.prefix);
}

describe('redis cluster outbox', () => {
  it('lists users with pending replies across shards, finds them, and prunes old listings only', async () => {
    await flushAll(admin);
    const store = await open();
    const ids = Array.from({ length: 40 }, (_, i) => `1202555${String(i).padStart(4, '0')}`);
    try {
      await Promise.all(ids.map((id) => store.transition(id, (s) => void s.send({ text: `hi ${id}` }))));
      // Every outbox key of a user sits in the user's slot; the users spread over the shards.
      for (const id of ids.slice(0, 5)) {
        const home = await slot(`{cs:${id}}`);
        for (const key of [`{cs:${id}}:o`, `{cs:${id}}:oq`, `{cs:${id}}:o:1:0`]) {
          expect(await admin.exists(key)).toBe(1);
          expect(await slot(key)).toBe(home);
        }
      }
      expect(await listedUsers()).toEqual(ids.map((id) => `cs:${id}`).sort());
      const shardsUsed = new Set<number>();
      for (let n = 0; n < OUTBOX_SHARDS; n++) {
        if ((await admin.zcard(outboxShardKeys('cs:', n).index)) > 0) shardsUsed.add(n);
      }
      expect(shardsUsed.size).toBeGreaterThan(5);
      const pending = (await store.outbox?.pending(-1000, 100)) ?? [];
      expect(pending.map((e) => e.userId).sort()).toEqual([...ids].sort());
      for (const e of pending) await store.outbox?.update(e.id, { state: 'sent', attempts: 1 });
      // Nothing pending any more; the listings are fresh (a commit may follow its listing), so they stay.
      expect(await store.outbox?.pending(-1000, 100)).toEqual([]);
      expect((await listedUsers()).length).toBe(ids.length);
    } finally {
      await store.close();
    }
    // A process whose listings count as old removes the users that have nothing pending.
    const pruner = await open({ outboxUnlistAfterMs: 0 });
    try {
      await pruner.transition(ids[0] as string, (s) => void s.send({ text: 'again' }));
      expect(await pruner.outbox?.pending(-1000, 100)).toHaveLength(1);
      expect(await listedUsers()).toEqual([`cs:${ids[0]}`]);
    } finally {
      await pruner.close();
    }
  });

  it('a listing whose token changed after it was read is not removed (a commit listed the user again)', async () => {
    await flushAll(admin);
    const store = await open({ outboxUnlistAfterMs: 0 });
    try {
      const first = await store.transition('u1', (s) => void s.send({ text: 'one' }));
      if (first.status === 'duplicate') throw new Error('unexpected');
      await store.outbox?.update(first.replies[0]?.id ?? '', { state: 'sent' });
      const { index, tokens } = outboxShardKeys('cs:', inboxShardOf('cs:u1'));
      const stale = (await admin.hget(tokens, 'cs:u1')) ?? '';
      expect(stale).not.toBe('');
      // Another commit lists the user again (a new token) before the pruner's unlist runs.
      await new Promise((r) => setTimeout(r, 5));
      await store.transition('u1', (s) => void s.send({ text: 'two' }));
      // The pruner's unlist, with the token it read before it found the pending set empty.
      const removed = await admin.eval(
        LUA_SCRIPTS.outboxUnlist.source,
        2,
        index,
        tokens,
        '0',
        String(Date.now()),
        'cs:u1',
        stale,
      );
      expect(removed).toBe(0);
      expect(await admin.zscore(index, 'cs:u1')).not.toBeNull();
      expect((await store.outbox?.pending(-1000, 10))?.map((e) => JSON.parse(e.payload).text)).toEqual([
        'two',
      ]);
    } finally {
      await store.close();
    }
  });
});
