import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RedisDriver } from '../../src/store/drivers/redis.js';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { inboxShardOf, outboxShardKeys } from '../../src/store/drivers/redis-keys.js';
import { SessionStore } from '../../src/store/session-store.js';
import type { RedisServer } from '../support/servers.js';
import { startRedisWithAdmin, stopWithAdmin } from './redis-setup.js';
import { type Admin, flushAll } from './redis-support.js';

// The reply outbox on one redis-server, read back with an independent connection.
let server: RedisServer;
let admin: Admin;
beforeAll(async () => {
  ({ server, admin } = await startRedisWithAdmin());
});
afterAll(() => stopWithAdmin(server, admin));

describe('redis outbox', () => {
  let driver: RedisDriver;
  let store: SessionStore;
  beforeEach(async () => {
    await flushAll(admin);
    driver = await redisDriver({ url: server.url });
    store = new SessionStore(driver, {}, driver.prefix);
  });
  afterEach(async () => {
    await store.close();
  });

  const evalshaCalls = async () => {
    const stats = await admin.info('commandstats');
    return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  };

  it('commit.lua writes the state, the entries and the index listing in one script call', async () => {
    const before = await evalshaCalls();
    const result = await store.transition('u1', (s) => {
      s.set('step', 2);
      s.send({ text: 'a' }).send({ text: 'b' });
    });
    expect(result.status).toBe('committed');
    // begin + commit: the replies cost no extra round trip.
    expect((await evalshaCalls()) - before).toBe(2);
    expect(await admin.hget('{cs:u1}', 'v')).toBe('1');
    expect(await admin.hgetall('{cs:u1}:o:1:0')).toMatchObject({ p: '{"text":"a"}', s: 'pending', a: '0' });
    expect(await admin.hget('{cs:u1}:o:1:1', 'p')).toBe('{"text":"b"}');
    expect(await admin.zrange('{cs:u1}:oq', 0, -1)).toEqual(['1:0', '1:1']);
    const shard = outboxShardKeys('cs:', inboxShardOf('cs:u1'));
    expect(await admin.zscore(shard.index, 'cs:u1')).not.toBeNull();
    // Every outbox key of the user expires (7 days by default).
    const ttl = await admin.pttl('{cs:u1}:o:1:0');
    expect(ttl).toBeGreaterThan(6 * 86_400_000);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400_000);
  });

  it('a transition without replies sends exactly what it sent before (no outbox keys, 2 calls)', async () => {
    const before = await evalshaCalls();
    await store.transition('u2', (s) => void s.set('x', 1));
    expect((await evalshaCalls()) - before).toBe(2);
    expect(await admin.keys('{cs:u2}:o*')).toEqual([]);
  });

  it('a refused version or fencing check writes no entry', async () => {
    const outbox = [{ id: 'cs:u3:1:0', payload: '{"text":"never"}' }];
    const change = { kind: 'fields' as const, expiresAt: null, patch: emptyPatch() };
    const now = Date.now();
    await store.transition('u3', (s) => void s.set('x', 1));
    const stale = await driver.commit({ key: 'cs:u3', now, expectVersion: 0, change, outbox });
    expect(stale.status).toBe('conflict');
    const lease = await driver.acquireLease('cs:u3', 10_000, now);
    const fenced = await driver.commit({
      key: 'cs:u3',
      now,
      expectVersion: 1,
      leaseToken: (lease?.token ?? 0) + 1,
      change,
      outbox: [{ id: 'cs:u3:2:0', payload: '{"text":"never"}' }],
    });
    expect(fenced.status).toBe('lease_lost');
    expect(await admin.keys('{cs:u3}:o*')).toEqual([]);
    const shard = outboxShardKeys('cs:', inboxShardOf('cs:u3'));
    expect(await admin.zscore(shard.index, 'cs:u3')).toBeNull();
  });

  it('finished entries leave the pending set and the index in the same step', async () => {
    const result = await store.transition('u4', (s) => void s.send({ text: 'hi' }));
    const [reply] = result.status === 'duplicate' ? [] : result.replies;
    if (!reply) throw new Error('no reply');
    await store.outbox?.update(reply.id, { state: 'sent', attempts: 1, providerId: 'wamid.X1' });
    expect(await admin.zcard('{cs:u4}:oq')).toBe(0);
    const shard = outboxShardKeys('cs:', inboxShardOf('cs:u4'));
    expect(await admin.zscore(shard.index, 'cs:u4')).toBeNull();
    expect(await admin.get('cs:#w:wamid.X1')).toBe(reply.id);
    expect((await store.outbox?.byProviderId('wamid.X1'))?.state).toBe('sent');
  });
});

describe('redis outbox retention', () => {
  it('finished entries, their provider id key and the user sets expire after outboxRetentionMs', async () => {
    await flushAll(admin);
    const driver = await redisDriver({ url: server.url, outboxRetentionMs: 300 });
    const store = new SessionStore(driver, {}, driver.prefix);
    try {
      const result = await store.transition('r1', (s) => void s.send({ text: 'bye' }));
      const [reply] = result.status === 'duplicate' ? [] : result.replies;
      if (!reply) throw new Error('no reply');
      await store.outbox?.update(reply.id, { state: 'delivered', providerId: 'wamid.R1' });
      expect(await admin.hget('{cs:r1}:o:1:0', 's')).toBe('delivered');
      expect(await admin.pttl('{cs:r1}:o:1:0')).toBeLessThanOrEqual(300);
      await new Promise((r) => setTimeout(r, 700));
      expect(await admin.keys('{cs:r1}:o*')).toEqual([]);
      expect(await admin.exists('cs:#w:wamid.R1')).toBe(0);
      expect(await store.outbox?.forUser('r1')).toEqual([]);
      expect(await store.get('r1')).not.toBeNull();
    } finally {
      await store.close();
    }
  });
});

function emptyPatch() {
  return { reset: false, set: { n: '"x"' }, del: [], incr: {}, push: [], historyLimit: 10 };
}
