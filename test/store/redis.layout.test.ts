import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { codecByName } from '../../src/session/codec.js';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { sessionKeys, transitionClaimKey } from '../../src/store/drivers/redis-keys.js';
import { SessionStore } from '../../src/store/session-store.js';
import { startRedis } from '../support/servers.js';
import { redisStoresForFile } from './redis-setup.js';

// The session hash's layout (docs/redis.md, "Keys" and "Memory"): what is stored, how expiresAt
// is read back from the key's own expiry, sessions written by earlier versions, and the commit's
// checks that replaced the key-type lookups.
let admin: Redis;
const { cleanups, open } = redisStoresForFile((started) => {
  admin = started.admin;
});

const fields = async (key: string) => admin.hgetall(key);
const GRACE = 60_000;

describe('redis session layout', () => {
  it('stores no expiry field, updatedAt as an offset from createdAt, and the schema only when not 1', async () => {
    const { store } = await open();
    const first = await store.transition('12025550123', (s) => {
      s.setFlow('onboarding_v2').goto('awaiting_email').set('name', 'John Doe').incr('retries');
    });
    expect(first.status).toBe('committed');
    const created = first.status === 'committed' ? first.session.createdAt : 0;
    expect(await fields('{cs:12025550123}')).toEqual({
      v: '1',
      // The fencing token of the lease the commit held (what validates a session copy).
      w: expect.stringMatching(/^[0-9]{16}$/),
      c: String(created),
      d: '0',
      f: 'onboarding_v2',
      n: 'awaiting_email',
      'x:name': '"John Doe"',
      r: '1',
    });
    await new Promise((r) => setTimeout(r, 5));
    const second = await store.transition('12025550123', (s) => void s.goto('done'));
    const updated = second.status === 'committed' ? second.session.updatedAt : 0;
    expect(updated).toBeGreaterThan(created);
    expect((await fields('{cs:12025550123}')).d).toBe(String(updated - created));
    const got = await store.get('12025550123');
    expect([got?.createdAt, got?.updatedAt, got?.schema]).toEqual([created, updated, 1]);

    const v2 = await open({}, { schemaVersion: 2 });
    await v2.store.transition('s2', (s) => void s.set('a', 1));
    expect((await fields('{cs:s2}')).s).toBe('2');
    expect((await v2.store.get('s2'))?.schema).toBe(2);
  });

  it('a released lease leaves no key; a released marker of earlier scripts is free, and the next token is above it', async () => {
    const { store } = await open();
    const lease = sessionKeys('cs:m1').lease;
    await store.transition('m1', (s) => void s.set('a', 1));
    expect(await admin.exists(lease)).toBe(0);
    const held = await store.acquireLease('m1');
    expect(await admin.get(lease)).toBe(String(held?.token));
    if (held) await store.releaseLease(held);
    expect(await admin.exists(lease)).toBe(0);

    // Earlier versions of begin.lua / commit.lua / release.lua released with '~<token>' kept for
    // the lease TTL. A marker whose token is ahead of the server clock: the grant derives from it.
    const ahead = String(Date.now() * 1000 + 3_600_000_000);
    await admin.set(lease, `~${ahead}`, 'PX', 30_000);
    const result = await store.transition('m1', (s) => void s.set('a', 2));
    expect(result.status).toBe('committed');
    expect((await fields('{cs:m1}')).w).toBe(String(BigInt(ahead) + 1n));
    expect(await admin.exists(lease)).toBe(0);
    // A held lease (no '~') is still busy.
    await admin.set(lease, ahead, 'PX', 30_000);
    await expect(store.transition('m1', (s) => void s.set('a', 3), { waitForLease: false })).rejects.toThrow(
      /leased by another worker/,
    );
  });

  it('reads expiresAt back from the key: exact to the ms, null without a TTL', async () => {
    const { store } = await open();
    const result = await store.transition('t1', (s) => void s.set('a', 1).setTtl(3_600_000));
    const expiresAt = result.status === 'committed' ? result.session.expiresAt : null;
    expect(expiresAt).not.toBeNull();
    expect(Number(await admin.call('PEXPIRETIME', '{cs:t1}'))).toBe((expiresAt ?? 0) + GRACE);
    expect((await store.get('t1'))?.expiresAt).toBe(expiresAt);
    // A claim-only transition changes nothing, the expiry included.
    await store.transition('t1', () => {}, { claim: 'wamid.1' });
    expect((await store.get('t1'))?.expiresAt).toBe(expiresAt);

    await store.transition('t1', (s) => void s.setTtl(null));
    expect(await admin.pttl('{cs:t1}')).toBe(-1);
    expect((await store.get('t1'))?.expiresAt).toBeNull();

    const { store: noGrace } = await open({ expiredGraceMs: 0, prefix: 'g0:' });
    const r0 = await noGrace.transition('t2', (s) => void s.set('a', 1).setTtl(60_000));
    const e0 = r0.status === 'committed' ? r0.session.expiresAt : null;
    expect(Number(await admin.call('PEXPIRETIME', '{g0:t2}'))).toBe(e0);
    expect((await noGrace.get('t2'))?.expiresAt).toBe(e0);
  });

  it('reads and updates sessions written in the earlier layout (e, absolute u, s)', async () => {
    const { store } = await open();
    const now = Date.now();
    const expiresAt = now + 3_600_000;
    await admin.hset('{cs:old}', {
      v: '3',
      e: String(expiresAt),
      c: String(now - 5000),
      s: '1',
      u: String(now - 1000),
      n: 'awaiting_email',
      'x:name': '"Ann"',
      r: '2',
    });
    await admin.pexpireat('{cs:old}', expiresAt + GRACE);
    const codec = codecByName('msgpack');
    await admin.rpush('{cs:old}:h', Buffer.from(codec.encode([0, now - 1000, 'hi'])));
    await admin.pexpireat('{cs:old}:h', expiresAt + GRACE);
    expect(await store.get('old')).toMatchObject({
      version: 3,
      node: 'awaiting_email',
      vars: { name: 'Ann' },
      retries: 2,
      schema: 1,
      createdAt: now - 5000,
      updatedAt: now - 1000,
      expiresAt,
      history: [{ dir: 'in', at: now - 1000, text: 'hi' }],
    });
    const next = await store.transition('old', (s) => void s.incr('retries'), { claim: 'wamid.o' });
    expect(next.status).toBe('committed');
    const got = await store.get('old');
    expect(got).toMatchObject({ version: 4, retries: 3, createdAt: now - 5000, vars: { name: 'Ann' } });
    expect(got?.updatedAt).toBe(next.status === 'committed' ? next.session.updatedAt : -1);
    expect(got?.expiresAt).toBe(next.status === 'committed' ? next.session.expiresAt : -1);
  });

  it('without PEXPIRETIME (Redis before 7.0) expiresAt comes from PTTL, and list() still skips expired sessions', async () => {
    const old = await startRedis({ extraArgs: ['--rename-command', 'PEXPIRETIME', ''] });
    cleanups.push(() => old.stop());
    const driver = await redisDriver({ url: old.url, expiredGraceMs: 2000 });
    const store = new SessionStore(driver, {}, driver.prefix);
    cleanups.push(() => store.close());
    const result = await store.transition('p1', (s) => void s.set('a', 1).setTtl(3_600_000));
    const expiresAt = result.status === 'committed' ? (result.session.expiresAt ?? 0) : 0;
    const got = await store.get('p1');
    expect(Math.abs((got?.expiresAt ?? 0) - expiresAt)).toBeLessThanOrEqual(2);
    await store.transition('p2', (s) => void s.set('a', 1).setTtl(200));
    await store.transition('p3', (s) => void s.set('a', 1).setTtl(null));
    await new Promise((r) => setTimeout(r, 400));
    expect((await store.list({ prefix: 'p' })).ids).toEqual(['p1', 'p3']);
    expect((await store.get('p3'))?.expiresAt).toBeNull();
  });

  it('a history key of another type written after begin: the commit changes nothing and takes its claim back', async () => {
    const { driver, store } = await open();
    await store.transition('h1', (s) => void s.set('a', 1));
    const key = 'cs:h1';
    const claim = 'cs:wamid.H';
    const begun = await driver.begin({ key, now: Date.now(), claimKey: claim, lease: { ttlMs: 10_000 } });
    expect(begun.status).toBe('ok');
    const token = begun.status === 'ok' ? begun.lease?.token : undefined;
    await admin.sadd(sessionKeys(key).history, 'not a list');
    const before = await fields('{cs:h1}');
    const codec = codecByName('msgpack');
    const result = await driver.commit({
      key,
      now: Date.now(),
      expectVersion: 1,
      leaseToken: token,
      release: true,
      claim: { key: claim, ttlMs: 60_000 },
      change: {
        kind: 'fields',
        expiresAt: null,
        patch: {
          reset: false,
          set: { 'x:a': '2' },
          del: [],
          incr: {},
          push: [codec.encode([0, 1, 'x'])],
          historyLimit: 5,
        },
      },
    });
    expect(result.status).toBe('conflict');
    expect(await fields('{cs:h1}')).toEqual(before);
    expect(await admin.exists(transitionClaimKey(key, claim))).toBe(0);
    expect(await admin.get(sessionKeys(key).lease)).toBe(String(token)); // still held
  });

  it('a claim recorded without a version change by a lease-less writer still refuses a leased commit', async () => {
    const { driver, store } = await open();
    await store.transition('c1', (s) => void s.set('a', 1));
    const key = 'cs:c1';
    const begun = await driver.begin({
      key,
      now: Date.now(),
      claimKey: 'cs:wamid.C',
      lease: { ttlMs: 10_000 },
    });
    const token = begun.status === 'ok' ? begun.lease?.token : undefined;
    expect(token).toBeGreaterThan(0);
    const other = await store.transition('c1', () => 'seen', { claim: 'wamid.C', lease: false });
    expect(other.status).toBe('unchanged'); // claim recorded, version unchanged
    const late = await driver.commit({
      key,
      now: Date.now(),
      expectVersion: 1,
      leaseToken: token,
      release: true,
      claim: { key: 'cs:wamid.C', ttlMs: 60_000 },
      change: {
        kind: 'fields',
        expiresAt: null,
        patch: { reset: false, set: { 'x:a': '2' }, del: [], incr: {}, push: [], historyLimit: 5 },
      },
    });
    expect(late.status).toBe('conflict');
    expect((await store.get('c1'))?.vars).toEqual({ a: 1 });
  });

  it('writes counters as their new values, the same the transition hands back', async () => {
    const { store } = await open();
    const steps: Array<Parameters<SessionStore['transition']>[1]> = [
      (s) =>
        void s
          .set('n', 1.5)
          .set('big', 2 ** 62)
          .incr('retries', 2),
      (s) => {
        s.incr('n', 2);
        s.incr('big', 2 ** 40);
        s.incr('fresh', -3);
        s.incr('retries');
      },
      (s) => {
        s.unset('n');
        s.incr('n', 5);
        s.resetRetries().incr('retries', 4);
      },
      (s) => {
        s.clear();
        s.incr('big');
        s.incr('retries');
      },
    ];
    for (const step of steps) {
      const result = await store.transition('n1', step);
      expect(result.status).toBe('committed');
      const got = await store.get('n1');
      if (result.status === 'committed') expect(got).toEqual(result.session);
    }
    expect(await fields('{cs:n1}')).toMatchObject({ 'x:big': '1', r: '1' });
    expect((await store.get('n1'))?.vars).toEqual({ big: 1 });
  });

  it('applies patches longer than one unpack() slice: 1,500 vars and 1,200 history entries at once', async () => {
    const { store } = await open({}, { historyLimit: 1100, maxBytes: 1_000_000 });
    const result = await store.transition('big', (s) => {
      for (let i = 0; i < 1500; i++) s.set(`k${i}`, i);
      for (let i = 0; i < 1200; i++) s.remember({ dir: 'in', text: `m${i}`, at: i });
    });
    expect(result.status).toBe('committed');
    const got = await store.get('big');
    expect(Object.keys(got?.vars ?? {})).toHaveLength(1500);
    expect(got?.vars.k1499).toBe(1499);
    expect(got?.history).toHaveLength(1100);
    expect(got?.history[0]?.text).toBe('m100');
    expect(got?.history.at(-1)?.text).toBe('m1199');
    await store.transition('big', (s) => {
      for (let i = 0; i < 1500; i++) s.unset(`k${i}`);
    });
    expect((await store.get('big'))?.vars).toEqual({});
  });
});
