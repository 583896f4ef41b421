import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/store/contract.js';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { sessionKeys, transitionClaimKey } from '../../src/store/drivers/redis-keys.js';
import { openStore } from '../../src/store/open.js';
import { SessionStore } from '../../src/store/session-store.js';
import { type RedisServer, startRedis } from '../support/servers.js';
import { redisStoresForFile } from './redis-setup.js';
import { quarantinedRaw } from './redis-support.js';

// Behaviour a real redis-server shows and the conformance suite does not measure: round trips,
// encodings, TTLs, events, corrupt values, adopted clients, configuration warnings.
let server: RedisServer;
let admin: Redis;
const { cleanups, open } = redisStoresForFile((started) => {
  ({ server, admin } = started);
});

const seed = (s: Parameters<Parameters<SessionStore['transition']>[1]>[0]) => {
  s.goto('awaiting_email').set('name', 'John Doe').set('flow', 'onboarding_v2').set('retry_count', 1);
};

async function scriptCalls(): Promise<{ evalsha: number; eval: number }> {
  const info = await admin.info('commandstats');
  const calls = (cmd: string) => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { evalsha: calls('evalsha'), eval: calls('eval') };
}

describe('redis driver behaviour', () => {
  it('a transition with claim, lease, history and TTL costs exactly two round trips', async () => {
    const { driver, store } = await open();
    const addr = /addr=(\S+)/.exec(String(await driver.client.call('CLIENT', 'INFO')))?.[1];
    const monitor = await admin.monitor();
    cleanups.push(async () => monitor.disconnect());
    const fromDriver: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === addr) fromDriver.push(String(args[0]).toLowerCase());
    });
    const before = await scriptCalls();
    const n = 20;
    for (let i = 0; i < n; i++) {
      const result = await store.transition(
        '12025550123',
        (s) => {
          seed(s);
          s.incr('retries');
          s.remember({ dir: 'in', text: `message ${i}` });
        },
        { claim: `wamid.${i}`, ttlMs: 3_600_000 },
      );
      expect(result.status).toBe('committed');
    }
    const after = await scriptCalls();
    await new Promise((r) => setTimeout(r, 200)); // MONITOR lines arrive asynchronously
    expect(after.evalsha - before.evalsha).toBe(2 * n);
    expect(after.eval - before.eval).toBe(0);
    expect(fromDriver).toEqual(Array.from({ length: 2 * n }, () => 'evalsha'));
  });

  it('the seed session stays a listpack hash, and every key of a session has a TTL', async () => {
    const { store } = await open();
    await store.transition('12025550123', seed, { claim: 'wamid.seed' });
    const k = sessionKeys('cs:12025550123');
    expect(await admin.object('ENCODING', k.hash)).toBe('listpack');
    await store.transition(
      '12025550123',
      (s) => void s.remember({ dir: 'out', text: 'What is your email?' }),
    );
    const held = await store.acquireLease('12025550123');
    expect(held).not.toBeNull();
    const keys = [k.hash, k.history, k.lease, transitionClaimKey('cs:12025550123', 'cs:wamid.seed')];
    for (const key of keys) expect(await admin.pttl(key), key).toBeGreaterThan(0);
    const all = await admin.keys('*');
    expect(all.sort()).toEqual([...keys].sort());
    if (held) await store.releaseLease(held);
    // A var value over hash-max-listpack-value (64 bytes) is what converts a hash: measured in docs/redis.md.
    await store.transition('12025550123', (s) => void s.set('address', 'x'.repeat(65)));
    expect(await admin.object('ENCODING', k.hash)).toBe('hashtable');
  });

  it('a numeric var holding a float still increments (HINCRBYFLOAT fallback)', async () => {
    const { store } = await open();
    await store.transition('f1', (s) => void s.set('score', 1.5).set('big', 2 ** 62));
    await store.transition('f1', (s) => {
      s.incr('score', 2);
      s.incr('big', 2 ** 40);
    });
    const got = await store.get('f1');
    expect(got?.vars.score).toBe(3.5);
    expect(got?.vars.big).toBe(2 ** 62 + 2 ** 40);
  });

  it('change events reach a subscriber on another connection', async () => {
    const writer = await open();
    const reader = await open();
    const events: Array<ChangeEvent & { id: string }> = [];
    const unsubscribe = await reader.store.subscribe((e) => events.push(e));
    await writer.store.transition('ev1', (s) => void s.set('a', 1));
    await writer.store.transition('ev1', (s) => void s.set('a', 2));
    await writer.store.delete('ev1');
    for (let i = 0; i < 50 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([
      { key: 'cs:ev1', id: 'ev1', version: 1, type: 'commit' },
      { key: 'cs:ev1', id: 'ev1', version: 2, type: 'commit' },
      { key: 'cs:ev1', id: 'ev1', version: 2, type: 'delete' },
    ]);
    await unsubscribe();
    await writer.store.transition('ev1', (s) => void s.set('a', 3));
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(3);
  });

  it('values that are not sessions are quarantined, never a WRONGTYPE crash', async () => {
    const { store } = await open();
    const reports: string[] = [];
    store.on('corrupt', (e) => reports.push(`${e.id}: ${e.reason}`));
    await admin.set('{cs:str}', 'plain string');
    await admin.hset('{cs:garbage}', 'v', '1', 'x:a', '{not json');
    await admin.hset('{cs:noversion}', 's', '1', 'c', '1', 'u', '1');
    await admin.hset('{cs:badutf8}', 'v', '1', 's', '1', 'c', '1', 'u', '1', 'n', Buffer.from([0xff, 0xfe]));
    await store.transition('histset', (s) => void s.set('ok', true));
    await admin.sadd('{cs:histset}:h', 'x');
    await admin.rpush('{cs:list}', 'a list');
    const ids = ['str', 'garbage', 'noversion', 'badutf8', 'histset', 'list'];
    for (const id of ids) expect(await store.get(id), id).toBeNull();
    expect(reports.map((r) => r.split(':')[0])).toEqual(ids);
    for (const id of ids) {
      expect(await admin.exists(`{cs:${id}}`, `{cs:${id}}:h`), id).toBe(0);
      expect(await quarantinedRaw(admin, `cs:${id}`), id).toHaveLength(1);
    }
    expect(Buffer.from((await quarantinedRaw(admin, 'cs:str'))[0] ?? []).toString()).toContain(
      'plain string',
    );
    const next = await store.transition('str', (s) => void s.set('fresh', 1), { claim: 'wamid.q' });
    expect(next.status).toBe('committed');
    expect((await store.get('str'))?.vars).toEqual({ fresh: 1 });
  });

  it('adopts an existing ioredis client and leaves it open on close', async () => {
    const client = new Redis(server.url, { lazyConnect: true });
    cleanups.push(async () => client.quit());
    const driver = await redisDriver({ client, prefix: 'app:' });
    const store = new SessionStore(driver, {}, driver.prefix);
    await store.transition('c1', (s) => void s.set('a', 1));
    expect(await admin.exists('{app:c1}')).toBe(1);
    await store.close();
    expect(await client.ping()).toBe('PONG');
    const withPrefix = new Redis(server.url, { keyPrefix: 'x:' });
    cleanups.push(async () => withPrefix.quit());
    await expect(redisDriver({ client: withPrefix })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('opens from a URL with query options', async () => {
    const store = await openStore(`${server.url}/2?prefix=bot:&timeout=750&grace=0&events=0`);
    cleanups.push(() => store.close());
    expect(store.options.prefix).toBe('bot:');
    expect(store.capabilities.changeEvents).toBe(false);
    await expect(store.subscribe(() => {})).rejects.toMatchObject({ code: 'CAPABILITY_MISSING' });
    await store.transition('u', (s) => void s.set('a', 1).setTtl(60_000));
    const db2 = new Redis(`${server.url}/2`);
    cleanups.push(async () => db2.quit());
    const pttl = await db2.pttl('{bot:u}');
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('reports risky server settings and server statistics', async () => {
    const { driver } = await open();
    expect(driver.warnings.join('\n')).toMatch(/persistence is off/);
    const stats = await driver.serverStats();
    expect(stats.usedMemoryBytes).toBeGreaterThan(100_000);
    expect(stats.evictedKeys).toBe(0);
    expect(stats.expiredKeys).toBeGreaterThanOrEqual(0);

    const safe = await startRedis({ appendonly: true, appendfsync: 'everysec' });
    cleanups.push(() => safe.stop());
    const good = await redisDriver({ url: safe.url });
    cleanups.push(() => good.close());
    expect(good.warnings).toEqual([]);
    expect(good.capabilities).toMatchObject({ persistent: true, evicts: false });

    const risky = await startRedis({ extraArgs: ['--maxmemory-policy', 'volatile-lru'] });
    cleanups.push(() => risky.stop());
    const evicting = await redisDriver({ url: risky.url });
    cleanups.push(() => evicting.close());
    expect(evicting.warnings.join('\n')).toMatch(/maxmemory-policy is volatile-lru/);
    expect(evicting.capabilities.evicts).toBe(true);

    const managed = await startRedis({ extraArgs: ['--rename-command', 'CONFIG', ''] });
    cleanups.push(() => managed.stop());
    const noConfig = await redisDriver({ url: managed.url });
    cleanups.push(() => noConfig.close());
    expect(noConfig.warnings.join('\n')).toMatch(/could not read the server configuration/);
  });
});
