import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboxDriver, InboxEntry } from '../../src/store/contract.js';
import { type RedisDriver, redisDriver } from '../../src/store/drivers/redis.js';
import { INBOX_SHARDS, inboxKeys, inboxShardKeys, inboxShardOf } from '../../src/store/drivers/redis-keys.js';
import { LUA_SCRIPTS, type LuaScript } from '../../src/store/lua/generated/scripts.js';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '../support/servers.js';
import { keySlot } from './cluster-slots.js';
import { type Admin, adminFor, flushAll } from './redis-support.js';

// The Redis webhook inbox beyond the conformance cases: layout, exact order, the listing protocol
// that keeps every acknowledged entry findable by recovery, and scripts lost by a restart.

const NOW = 1_749_416_383_000;
const entry = (user: string, id: string, at: number, payload = id): InboxEntry => ({ id, user, at, payload });

function script(admin: Admin, s: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  return admin.eval(s.source, keys.length, ...keys, ...args) as Promise<unknown>;
}

async function listed(admin: Admin, user: string): Promise<number | null> {
  const score = await admin.zscore(inboxShardKeys('cs:', inboxShardOf(user)).index, user);
  return score === null ? null : Number(score);
}

function inboxOf(driver: RedisDriver): InboxDriver {
  if (!driver.inbox) throw new Error('the redis driver has no inbox');
  return driver.inbox;
}

for (const mode of ['single', 'cluster'] as const) {
  describe(`redis inbox (${mode})`, () => {
    let server: RedisServer | undefined;
    let cluster: RedisCluster | undefined;
    let url = '';
    let admin: Admin;
    let driver: RedisDriver;
    let peer: RedisDriver;
    beforeAll(async () => {
      if (mode === 'single') {
        server = await startRedis();
        url = server.url;
      } else {
        cluster = await startRedisCluster({ masters: 3 });
        url = cluster.url;
      }
      admin = adminFor(url);
      [driver, peer] = await Promise.all([redisDriver({ url }), redisDriver({ url })]);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([driver?.close(), peer?.close()]);
      admin?.disconnect();
      await server?.stop();
      await cluster?.stop();
    });
    beforeEach(async () => {
      await flushAll(admin);
    });

    it('orders by millisecond timestamp, then arrival, exactly; keys in the user slot, no TTL', async () => {
      const inbox = inboxOf(driver);
      const user = 'cs:14155550100';
      // 25 entries on one timestamp (arrival counters 1..25 must sort as numbers), around them
      // entries one millisecond apart, added in scrambled order over three calls.
      const same = Array.from({ length: 25 }, (_, i) => entry(user, `same.${i}`, NOW));
      await inbox.add([entry(user, 'late', NOW + 1), ...same.slice(0, 10)], NOW);
      await inbox.add([...same.slice(10), entry(user, 'early', NOW - 1)], NOW);
      expect(
        await inbox.add([entry(user, 'same.3', NOW - 5), entry(user, 'x', NOW - 2, 'ünïcødé ✓')], NOW),
      ).toBe(1);
      const got = await inbox.peek(user, 100);
      expect(got.map((e) => e.id)).toEqual(['x', 'early', ...same.map((e) => e.id), 'late']);
      expect(got[0]).toEqual({ id: 'x', user, at: NOW - 2, payload: 'ünïcødé ✓' });
      expect(got.at(-1)?.at).toBe(NOW + 1);

      const k = inboxKeys(user);
      expect([await admin.type(k.order), await admin.type(k.bodies)]).toEqual(['zset', 'hash']);
      expect([await admin.pttl(k.order), await admin.pttl(k.bodies)]).toEqual([-1, -1]);
      const shard = inboxShardKeys('cs:', inboxShardOf(user));
      expect(await admin.pttl(shard.index)).toBe(-1);
      if (cluster) {
        const port = cluster.nodes[0]?.port ?? 0;
        const slot = await keySlot(port, `{${user}}`);
        for (const key of [k.order, k.bodies]) expect(await keySlot(port, key), key).toBe(slot);
        expect(await keySlot(port, shard.tokens)).toBe(await keySlot(port, shard.index));
      }

      await inbox.remove(
        user,
        got.map((e) => e.id),
      );
      expect(await admin.exists(k.order, k.bodies)).toBe(0);
      expect(await listed(admin, user)).toBeNull();
    });

    it('spreads users over the index shards and lists them oldest first across shards', async () => {
      const inbox = inboxOf(driver);
      const users = Array.from({ length: 40 }, (_, i) => `cs:1415555${String(i).padStart(4, '0')}`);
      expect(new Set(users.map(inboxShardOf)).size).toBeGreaterThan(INBOX_SHARDS / 2);
      // One webhook with entries of 20 users, then 20 more users one at a time, later.
      await inbox.add(
        users.slice(0, 20).map((u) => entry(u, `a.${u}`, NOW)),
        1000,
      );
      for (const [i, u] of users.slice(20).entries()) await inbox.add([entry(u, `b.${u}`, NOW)], 2000 + i);
      expect(await inbox.users(1500, 100)).toHaveLength(20);
      const all = await inbox.users(10_000, 100);
      expect(all.slice(20)).toEqual(users.slice(20));
      expect(new Set(all.slice(0, 20))).toEqual(new Set(users.slice(0, 20)));
      expect(await inbox.users(10_000, 5)).toHaveLength(5);
      expect(await peer.inbox?.users(10_000, 100)).toHaveLength(40);
    });

    it('an unlist that raced with an add (stale token) leaves the user listed', async () => {
      const inbox = inboxOf(driver);
      const user = 'cs:14155550101';
      const k = inboxKeys(user);
      const shard = inboxShardKeys('cs:', inboxShardOf(user));
      await inbox.add([entry(user, 'm1', NOW)], 1000);
      expect(await listed(admin, user)).toBe(1000);
      // A remover reads the token, then empties the inbox...
      const token = (await admin.hget(shard.tokens, user)) ?? '';
      expect(token).toMatch(/^[0-9a-f]{16}$/);
      expect(await script(admin, LUA_SCRIPTS.inboxRemove, [k.order, k.bodies], ['m1'])).toBe(0);
      // ...another process adds a message before the remover unlists the user...
      await inboxOf(peer).add([entry(user, 'm2', NOW + 1)], 2000);
      // ...and the remover's unlist, holding the token it read first, changes nothing.
      expect(await script(admin, LUA_SCRIPTS.inboxUnlist, [shard.index, shard.tokens], [user, token])).toBe(
        0,
      );
      expect(await inbox.users(5000, 10)).toEqual([user]);
      // The normal path: the last remove unlists.
      await inbox.remove(user, ['m2']);
      expect(await listed(admin, user)).toBeNull();
      expect(await admin.hexists(shard.tokens, user)).toBe(0);
    });

    it('a listing without entries (add failed after the first step) is pruned by users()', async () => {
      const inbox = inboxOf(driver);
      const ghost = 'cs:14155550102';
      const live = 'cs:14155550103';
      const shard = inboxShardKeys('cs:', inboxShardOf(ghost));
      await script(admin, LUA_SCRIPTS.inboxList, [shard.index, shard.tokens], ['500', '', ghost]);
      await inbox.add([entry(live, 'l1', NOW)], 1000);
      expect(await listed(admin, ghost)).toBe(500);
      expect(await inbox.users(5000, 10)).toEqual([live]);
      expect(await listed(admin, ghost)).toBeNull();
      expect(await listed(admin, live)).toBe(1000);
    });

    it('concurrent adds and removes from two drivers: every waiting entry stays listed', async () => {
      const users = Array.from({ length: 12 }, (_, i) => `cs:1415777${String(i).padStart(4, '0')}`);
      const removed = new Map<string, number>();
      let stop = false;
      let next = 0;
      const adder = async (d: RedisDriver) => {
        for (let round = 0; round < 40; round++) {
          const batch = Array.from({ length: 3 }, () => {
            const n = next++;
            return entry(users[(n * 7) % users.length] as string, `c.${n}`, NOW + n);
          });
          await inboxOf(d).add(batch, 1000 + round);
        }
      };
      const remover = async (d: RedisDriver, mine: string[]) => {
        while (!stop) {
          for (const u of mine) {
            const got = await inboxOf(d).peek(u, 2);
            if (got.length > 0) await inboxOf(d).remove(u, [got[0]?.id as string]);
            for (const e of got.slice(0, 1)) removed.set(e.id, (removed.get(e.id) ?? 0) + 1);
          }
        }
      };
      const removers = [
        remover(driver, users.slice(0, 6)),
        remover(peer, users.slice(6)),
        remover(peer, users.slice(0, 6).reverse()),
      ];
      await Promise.all([adder(driver), adder(peer)]);
      stop = true;
      await Promise.all(removers);
      // Quiet now: every user with waiting entries is listed.
      for (const u of users) {
        const waiting = await admin.zcard(inboxKeys(u).order);
        if (waiting > 0) expect(await listed(admin, u), u).not.toBeNull();
      }
      // Drain the rest through users(), as recovery would.
      for (const u of await inboxOf(driver).users(1_000_000, 100)) {
        const got = await inboxOf(driver).peek(u, 1000);
        await inboxOf(driver).remove(
          u,
          got.map((e) => e.id),
        );
        for (const e of got) removed.set(e.id, (removed.get(e.id) ?? 0) + 1);
      }
      expect(removed.size).toBe(next);
      for (const u of users) {
        expect(await admin.exists(inboxKeys(u).order), u).toBe(0);
        expect(await listed(admin, u), u).toBeNull();
      }
    }, 60_000);

    it('works again after the server lost its scripts (SCRIPT FLUSH)', async () => {
      const inbox = inboxOf(driver);
      const user = 'cs:14155550104';
      const masters = admin instanceof Redis ? [admin] : admin.nodes('master');
      await Promise.all(masters.map((m) => m.script('FLUSH')));
      expect(await inbox.add([entry(user, 'f1', NOW), entry(user, 'f2', NOW)], 1000)).toBe(2);
      await Promise.all(masters.map((m) => m.script('FLUSH')));
      expect((await inbox.peek(user, 10)).map((e) => e.id)).toEqual(['f1', 'f2']);
      await Promise.all(masters.map((m) => m.script('FLUSH')));
      await inbox.remove(user, ['f1', 'f2']);
      await Promise.all(masters.map((m) => m.script('FLUSH')));
      expect(await inbox.users(5000, 10)).toEqual([]);
      expect(await listed(admin, user)).toBeNull();
    });
  });
}

describe('redis inbox (single): the steps of one add reach the server in order', () => {
  let server: RedisServer;
  let driver: RedisDriver;
  let monitor: Redis;
  beforeAll(async () => {
    server = await startRedis();
    driver = await redisDriver({ url: server.url });
  });
  afterAll(async () => {
    monitor?.disconnect();
    await driver?.close();
    await server?.stop();
  });

  it('list, entries, token + list again', async () => {
    const seen: string[] = [];
    const names = new Map(Object.values(LUA_SCRIPTS).map((s) => [s.sha1, s.name.split(':').at(-1)]));
    monitor = await new Redis(server.url).monitor();
    monitor.on('monitor', (_t: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'evalsha') {
        const name = names.get((args[1] ?? '') as never) ?? '?';
        seen.push(name === 'inboxList' ? `inboxList(${args[6] === '' ? 'no token' : 'token'})` : name);
      }
    });
    const users = ['cs:a', 'cs:b', 'cs:c'];
    expect(users.map(inboxShardOf)).toEqual(users.map(inboxShardOf)); // deterministic
    await driver.inbox?.add(
      users.map((u, i) => entry(u, `o${i}`, NOW)),
      1000,
    );
    await new Promise((r) => setTimeout(r, 100));
    const shards = new Set(users.map(inboxShardOf)).size;
    expect(seen).toEqual([
      ...Array(shards).fill('inboxList(no token)'),
      'inboxAdd',
      'inboxAdd',
      'inboxAdd',
      ...Array(shards).fill('inboxList(token)'),
    ]);
  });
});
