import net from 'node:net';
import { MemcacheClient } from 'memcache-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isChatstateError } from '../../src/errors.js';
import type { SessionDraft } from '../../src/session/draft.js';
import { type MemcachedDriver, memcachedDriver } from '../../src/store/drivers/memcached.js';
import { itemKey, transitionClaimKey } from '../../src/store/drivers/memcached-codec.js';
import { openStore } from '../../src/store/open.js';
import { SessionStore } from '../../src/store/session-store.js';
import { freePort, type MemcachedServer, memcachedRaw, startMemcached } from '../support/servers.js';

const started: MemcachedServer[] = [];
const closers: Array<() => Promise<unknown>> = [];
const server = async () => {
  const s = await startMemcached();
  started.push(s);
  return s;
};
const open = async (url: string, options: ConstructorParameters<typeof SessionStore>[1] = {}) => {
  const store = await openStore(url, { sweepIntervalMs: 0, ...options });
  closers.push(() => store.close());
  return store;
};
const hostOf = (s: MemcachedServer) => `127.0.0.1:${s.port}`;
const rawGet = (port: number, key: string) => memcachedRaw(port, `get ${key}\r\n`, /END\r\n$/);
async function stats(port: number): Promise<Record<string, number>> {
  const text = await memcachedRaw(port, 'stats\r\n', /END\r\n$/);
  return Object.fromEntries([...text.matchAll(/^STAT (\S+) (\S+)\r$/gm)].map((m) => [m[1], Number(m[2])]));
}
const codeOf = (error: unknown) => (error as { code?: string }).code;

afterAll(async () => {
  for (const close of closers) await close().catch(() => {});
  for (const s of started) await s.stop();
});

describe('memcached driver: several servers', () => {
  it('spreads keys over both servers by consistent hashing; removing one remaps only its share', async () => {
    const [a, b] = [await server(), await server()];
    const store = await open(`memcached://${hostOf(a)},${hostOf(b)}`, { prefix: 'h:' });
    const driver = store.driver as MemcachedDriver;
    const ids = Array.from({ length: 400 }, (_, i) => String(12025550123 + i));
    await Promise.all(ids.map((id) => store.transition(id, (s) => void s.set('n', id), { lease: false })));
    let onA = 0;
    for (const id of ids) {
      const owner = driver.serverFor(`h:${id}`);
      const [mine, other] = owner === hostOf(a) ? [a, b] : [b, a];
      if (mine === a) onA++;
      expect(await rawGet(mine.port, itemKey('s', `h:${id}`))).toMatch(/^VALUE /);
      expect(await rawGet(other.port, itemKey('s', `h:${id}`))).toBe('END\r\n');
    }
    expect(onA / ids.length).toBeGreaterThan(0.3);
    expect(onA / ids.length).toBeLessThan(0.7);
    // With server b gone, a's keys still map to a; only b's share (now mapped to a) is missing.
    const onlyA = await open(`memcached://${hostOf(a)}`, { prefix: 'h:' });
    let found = 0;
    for (const id of ids) if (await onlyA.get(id)) found++;
    expect(found).toBe(onA);
  });
});

describe('memcached driver: concurrency', () => {
  let port = 0;
  beforeAll(async () => {
    port = (await server()).port;
  });

  it('a CAS conflict storm on one key stays bounded and loses nothing', async () => {
    const drivers = Array.from({ length: 4 }, () => memcachedDriver({ servers: [`127.0.0.1:${port}`] }));
    let conflicts = 0;
    // One SessionStore per transition: a store runs one user's transitions one at a time, so 200 stores
    // over 4 drivers (4 connections) make 200 truly concurrent read-modify-writes of one session.
    const storm = (maxAttempts: number) =>
      drivers.flatMap((driver) =>
        Array.from({ length: 50 }, () => {
          const store = new SessionStore(driver, {
            prefix: 'storm:',
            maxAttempts,
            observer: { conflict: () => conflicts++ },
          });
          return store.transition('hot', (s) => void s.incr('retries'), { lease: false });
        }),
      );
    const first = await Promise.allSettled(storm(8));
    const committed = first.filter((r) => r.status === 'fulfilled').length;
    for (const r of first) if (r.status === 'rejected') expect(codeOf(r.reason)).toBe('SESSION_CONFLICT');
    const reader = new SessionStore(drivers[0] as MemcachedDriver, { prefix: 'storm:' });
    expect((await reader.get('hot'))?.retries).toBe(committed);
    // Every lost attempt is one conflict, and no transition makes more than maxAttempts attempts.
    const firstWave = conflicts;
    expect(firstWave).toBeLessThanOrEqual(200 * 8);
    // With room to retry, every one of another 200 increments lands.
    const second = await Promise.allSettled(storm(1000));
    expect(second.every((r) => r.status === 'fulfilled')).toBe(true);
    expect((await reader.get('hot'))?.retries).toBe(committed + 200);
    const casRetries = drivers.reduce((n, d) => n + d.metrics.casRetries, 0);
    console.log(
      `[memcached storm] first wave: ${committed}/200 committed with maxAttempts 8 (${firstWave} conflicts); second wave: 200/200 (${conflicts - firstWave} conflicts); same-version CAS retries: ${casRetries}`,
    );
    expect(casRetries).toBeLessThanOrEqual(3 * (conflicts + 400));
    for (const d of drivers) await d.close();
  }, 120_000);

  it('a CAS lost without a version change is retried; one lost to a new version is a conflict that takes the claim back', async () => {
    // The real client, with a hook that lets another writer in just before the session CAS goes out.
    let interfere: (() => Promise<unknown>) | null = null;
    class Interfering extends MemcacheClient {
      override store(...args: Parameters<MemcacheClient['store']>) {
        const hook = interfere;
        if (args[0] !== 'cas' || !args[1].startsWith('s:') || !hook) return super.store(...args);
        interfere = null;
        return hook().then(() => super.store(...args));
      }
    }
    const servers = [`127.0.0.1:${port}`];
    const driver = memcachedDriver({
      servers,
      createClient: (server) => new Interfering({ server: { server, maxConnections: 1 } }),
    });
    const other = await open(`memcached://${servers[0]}`, { prefix: 'cas:' });
    const store = new SessionStore(driver, { prefix: 'cas:' });
    closers.push(() => store.close());
    await store.transition('u', (s) => void s.incr('retries'));
    // An empty append changes the CAS value and nothing else: the driver sees the same version and retries.
    interfere = () => memcachedRaw(port, `append ${itemKey('s', 'cas:u')} 0 0 0\r\n\r\n`);
    expect((await store.transition('u', (s) => void s.incr('retries'), { claim: 'wamid.R' })).status).toBe(
      'committed',
    );
    expect(driver.metrics.casRetries).toBe(1);
    // Another writer commits a new version: a conflict. The claim added with the losing write is taken
    // back, or the re-run would report this very message as a duplicate.
    interfere = () => other.transition('u', (s) => void s.incr('retries'), { lease: false });
    let runs = 0;
    const countedIncr = (s: SessionDraft) => {
      runs++;
      s.incr('retries');
    };
    const result = await store.transition('u', countedIncr, {
      claim: 'wamid.C',
      lease: false,
    });
    expect([result.status, runs]).toEqual(['committed', 2]);
    expect((await store.get('u'))?.retries).toBe(4);
    expect((await store.transition('u', (s) => void s.incr('retries'), { claim: 'wamid.C' })).status).toBe(
      'duplicate',
    );
  });

  it('a transition costs at most 3 round trips (client count, checked against server stats)', async () => {
    const store = await open(`memcached://127.0.0.1:${port}`, { prefix: 'rt:' });
    const driver = store.driver as MemcachedDriver;
    const measure = async (fn: () => Promise<unknown>) => {
      await driver.ping(); // the ping rides the driver's socket, after any noreply command
      const [m0, s0] = [driver.metrics, await stats(port)];
      await fn();
      await driver.ping();
      const [m1, s1] = [driver.metrics, await stats(port)];
      const d = (k: string) => (s1[k] ?? 0) - (s0[k] ?? 0);
      return {
        roundTrips: m1.roundTrips - m0.roundTrips - 1,
        keysRead: d('cmd_get'),
        stores: d('cmd_set'),
        cas: d('cas_hits'),
      };
    };
    const step = (s: SessionDraft) => void s.goto('awaiting_email').incr('retries');
    const created = await measure(() => store.transition('u1', step, { claim: 'wamid.1' }));
    const updated = await measure(() => store.transition('u1', step, { claim: 'wamid.2' }));
    const duplicate = await measure(() => store.transition('u1', step, { claim: 'wamid.2' }));
    const unchanged = await measure(() => store.transition('u1', () => {}));
    const leaseless = await measure(() => store.transition('u1', step, { lease: false }));
    console.log(
      '[memcached round trips]',
      JSON.stringify({ created, updated, duplicate, unchanged, leaseless }),
    );
    // begin: add lease + gets (lease, session, claim); commit: gets (lease, session), then cas/add session
    // + add claim; the release is a noreply cas. Server side: 5 keys read, 4 stores.
    expect(created).toEqual({ roundTrips: 3, keysRead: 6, stores: 4, cas: 1 });
    expect(updated).toEqual({ roundTrips: 3, keysRead: 6, stores: 4, cas: 2 });
    expect(duplicate).toEqual({ roundTrips: 1, keysRead: 3, stores: 2, cas: 1 });
    expect(unchanged).toEqual({ roundTrips: 2, keysRead: 4, stores: 2, cas: 1 });
    expect(leaseless).toEqual({ roundTrips: 3, keysRead: 2, stores: 1, cas: 1 });
  });

  it('TTLs over 30 days are sent as absolute times, shorter ones as relative seconds', async () => {
    const store = await open(`memcached://127.0.0.1:${port}`, { prefix: 'ttl:' });
    const ttl = async (key: string) =>
      Number(/ t(-?\d+)/.exec(await memcachedRaw(port, `mg ${key} t\r\n`))?.[1]);
    const day = 86_400;
    await store.transition('long', (s) => void s.set('a', 1), { ttlMs: 40 * day * 1000, claim: 'wamid.L' });
    await store.transition('short', (s) => void s.set('a', 1), { ttlMs: 3_600_000 });
    expect(await store.claim('c40', 40 * day * 1000)).toBe(true);
    // Session TTL plus the 60 s grace that keeps an expired session readable, plus one second of rounding.
    expect(Math.abs((await ttl(itemKey('s', 'ttl:long'))) - (40 * day + 61))).toBeLessThanOrEqual(2);
    expect(Math.abs((await ttl(itemKey('s', 'ttl:short'))) - (3600 + 61))).toBeLessThanOrEqual(2);
    expect(Math.abs((await ttl(itemKey('c', 'ttl:c40'))) - (40 * day + 1))).toBeLessThanOrEqual(2);
    expect(
      Math.abs((await ttl(transitionClaimKey('ttl:long', 'ttl:wamid.L'))) - (7 * day + 1)),
    ).toBeLessThanOrEqual(2);
  });

  it('declares what memcached cannot do, warns about it, and refuses list and subscribe', async () => {
    const store = await open(`memcached://127.0.0.1:${port}`);
    const driver = store.driver as MemcachedDriver;
    expect(store.capabilities).toMatchObject({
      model: 'blob',
      scan: false,
      changeEvents: false,
      persistent: false,
      evicts: true,
    });
    expect(store.capabilities).toMatchObject({
      nativeTtl: true,
      ttlResolutionMs: 1000,
      maxValueBytes: 1_048_576 - 523,
    });
    expect(driver.warnings.join(' ')).toMatch(/evict/);
    expect(driver.warnings.join(' ')).toMatch(/list keys or publish changes/);
    await expect(store.list()).rejects.toMatchObject({ code: 'CAPABILITY_MISSING' });
    await expect(store.subscribe(() => {})).rejects.toMatchObject({ code: 'CAPABILITY_MISSING' });
  });
});

describe('memcached driver: failures', () => {
  it('a server killed mid-run fails fast with a typed error, then the driver recovers', async () => {
    const s = await server();
    const timeoutMs = 500;
    const store = await open(`memcached://${hostOf(s)}?timeoutMs=${timeoutMs}`, { prefix: 'k:' });
    let stop = false;
    const failures: Array<{ code: string | undefined; ms: number }> = [];
    let committed = 0;
    const worker = async (n: number) => {
      while (!stop) {
        const t0 = performance.now();
        try {
          await store.transition(`u${n}`, (d) => void d.incr('retries'));
          committed++;
        } catch (error) {
          failures.push({
            code: isChatstateError(error) ? error.code : String(error),
            ms: performance.now() - t0,
          });
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, n) => worker(n));
    await new Promise((r) => setTimeout(r, 200));
    const before = committed;
    await s.kill();
    await new Promise((r) => setTimeout(r, 500));
    const failedWhileDown = failures.length;
    await s.start();
    const deadline = Date.now() + 5000;
    const atRestart = committed;
    while (committed === atRestart && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(workers);
    expect(before).toBeGreaterThan(0);
    expect(failedWhileDown).toBeGreaterThan(0);
    for (const f of failures) {
      expect(['STORE_UNAVAILABLE', 'STORE_TIMEOUT']).toContain(f.code);
      expect(f.ms).toBeLessThan(timeoutMs + 300);
    }
    expect(committed).toBeGreaterThan(atRestart);
  }, 30_000);

  it('a server that accepts but never answers fails with STORE_TIMEOUT within the timeout', async () => {
    // A real memcached cannot be told to hang mid-command; a socket that never replies can.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const driver = memcachedDriver({ servers: [`127.0.0.1:${silentPort}`], timeoutMs: 300 });
      const t0 = performance.now();
      await expect(driver.load('x', Date.now())).rejects.toMatchObject({ code: 'STORE_TIMEOUT' });
      expect(performance.now() - t0).toBeLessThan(300 + 300);
      await driver.close();
      const t1 = performance.now();
      await expect(openStore(`memcached://127.0.0.1:${silentPort}?timeoutMs=300`)).rejects.toMatchObject({
        code: 'STORE_OPEN_FAILED',
      });
      expect(performance.now() - t1).toBeLessThan(300 + 300);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('wrong URLs fail with STORE_URL_INVALID', async () => {
    for (const url of [
      'memcached://',
      'memcached://host:port',
      'memcached://h:70000',
      'memcached://user:pw@h:11211',
      'memcached://h:11211/db',
      'memcached://h:11211?timeout=5',
      'memcached://h:11211?timeoutMs=-1',
      'memcached://[::1]:11211',
      'memcached://h:1,h:1',
    ]) {
      await expect(openStore(url), url).rejects.toMatchObject({ code: 'STORE_URL_INVALID' });
    }
  });

  it('an unreachable server at start fails with STORE_OPEN_FAILED naming the URL and what to check', async () => {
    const up = await server();
    const down = await freePort();
    const url = `memcached://${hostOf(up)},127.0.0.1:${down}`;
    const error = await openStore(url).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('STORE_OPEN_FAILED');
    const message = (error as Error).message;
    expect(message).toContain(url);
    expect(message).toContain(`127.0.0.1:${down}`);
    expect(message).not.toContain(`${hostOf(up)} (`);
    expect(message).toMatch(/Check that memcached is running/);
  });
});
