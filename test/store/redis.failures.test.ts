import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { isChatstateError } from '../../src/errors.js';
import { type RedisDriver, redisDriver } from '../../src/store/drivers/redis.js';
import { openStore } from '../../src/store/open.js';
import { SessionStore } from '../../src/store/session-store.js';
import { freePort, startRedis } from '../support/servers.js';

// Failures a real server can be made to show: unreachable, wrong credentials, killed mid-run,
// blocked, crashed with AOF. Every failure must be a typed error, fast, and recoverable.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
const ACL = '+@scripting +@keyspace +@read +@write +@pubsub +@connection +info +time +config|get';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openError(url: string): Promise<{ code?: string; message: string; ms: number }> {
  const started = Date.now();
  try {
    const store = await openStore(url);
    await store.close();
  } catch (error) {
    return {
      code: (error as { code?: string }).code,
      message: String((error as Error).message),
      ms: Date.now() - started,
    };
  }
  throw new Error(`opening ${url} succeeded`);
}

describe('redis driver failures', () => {
  it('refuses bad URLs with STORE_URL_INVALID', async () => {
    for (const url of [
      'redis://127.0.0.1:99999',
      'redis://h1:1,h2:2',
      'redis://127.0.0.1:6379/abc',
      'redis://127.0.0.1:6379?color=blue',
      'redis+cluster://127.0.0.1:7000/1',
      'redis://127.0.0.1:6379?timeout=-5',
    ]) {
      expect((await openError(url)).code, url).toBe('STORE_URL_INVALID');
    }
  });

  it('an unreachable server fails to open with the URL (password hidden) and what to check', async () => {
    const port = await freePort();
    const error = await openError(`redis://user:hunter2@127.0.0.1:${port}/0?connectTimeout=1000`);
    expect(error.code).toBe('STORE_OPEN_FAILED');
    expect(error.message).toContain(`redis://user:***@127.0.0.1:${port}`);
    expect(error.message).toMatch(/check that redis-server is running/);
    expect(error.message).not.toContain('hunter2');
    expect(error.ms).toBeLessThan(3000);
  });

  it('an authentication failure says so', async () => {
    const server = await startRedis();
    cleanups.push(() => server.stop());
    const admin = new Redis(server.url);
    // The least-privilege user docs/redis.md recommends: the driver must work with exactly this.
    await admin.acl('SETUSER', 'bot', 'on', '>botpass', '~*', '&*', ...ACL.split(' '));
    await admin.config('SET', 'requirepass', 'secret');
    admin.disconnect();
    const base = `127.0.0.1:${server.port}`;
    for (const url of [`redis://${base}`, `redis://:wrong@${base}`, `redis://bot:nope@${base}`]) {
      const error = await openError(url);
      expect(error.code, url).toBe('STORE_OPEN_FAILED');
      expect(error.message, url).toMatch(/authentication failed/);
      expect(error.message, url).not.toMatch(/wrong|nope/);
    }
    for (const url of [`redis://:secret@${base}`, `redis://bot:botpass@${base}`]) {
      const store = await openStore(url);
      const events: string[] = [];
      const unsubscribe = await store.subscribe((e) => events.push(e.type));
      await store.transition('a', (s) => void (s.set('ok', true), s.remember({ dir: 'in', text: 'hi' })), {
        claim: url,
      });
      expect(await store.claim(`standalone ${url}`)).toBe(true);
      expect((await store.list()).ids).toEqual(['a']);
      expect(await store.delete('a')).toBe(true);
      expect((await store.driver.acquireLease('cs:a', 1000, Date.now()))?.token).toBeGreaterThan(0);
      expect((store.driver as RedisDriver).warnings.join()).not.toMatch(/could not read/);
      for (let i = 0; i < 50 && events.length < 2; i++) await sleep(20);
      expect(events).toEqual(['commit', 'delete']);
      await unsubscribe();
      await store.close();
    }
  });

  it('a cluster URL on a standalone server fails to open and says why', async () => {
    const server = await startRedis();
    cleanups.push(() => server.stop());
    const error = await openError(`redis+cluster://127.0.0.1:${server.port}?connectTimeout=1000`);
    expect(error.code).toBe('STORE_OPEN_FAILED');
    expect(error.message).toMatch(/not a cluster node|cluster support disabled/);
  });

  it('a server killed mid-run gives typed errors within the timeout, then recovers on restart', async () => {
    const server = await startRedis();
    cleanups.push(() => server.stop());
    const driver = await redisDriver({ url: server.url, commandTimeoutMs: 500 });
    const store = new SessionStore(driver, { leaseWaitMs: 1000 }, driver.prefix);
    cleanups.push(() => store.close());
    const events: number[] = [];
    await store.subscribe(() => events.push(Date.now()));
    const outcomes: Array<{ ok: boolean; code?: string; ms: number; at: number }> = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const started = Date.now();
        try {
          await store.transition(`k${outcomes.length % 7}`, (s) => void s.incr('retries'));
          outcomes.push({ ok: true, ms: Date.now() - started, at: Date.now() });
        } catch (error) {
          expect(isChatstateError(error), String(error)).toBe(true);
          outcomes.push({
            ok: false,
            code: (error as { code: string }).code,
            ms: Date.now() - started,
            at: Date.now(),
          });
          await sleep(10);
        }
      }
    };
    const workers = [worker(), worker(), worker()];
    await sleep(300);
    await server.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(1500);
    await server.start();
    const restartedAt = Date.now();
    while (!outcomes.some((o) => o.ok && o.at > restartedAt) && Date.now() - restartedAt < 5000)
      await sleep(50);
    stop = true;
    await Promise.all(workers);
    const failures = outcomes.filter((o) => !o.ok);
    expect(outcomes.filter((o) => o.ok && o.at < killedAt).length).toBeGreaterThan(0);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(['STORE_UNAVAILABLE', 'STORE_TIMEOUT']).toContain(f.code);
      expect(f.ms).toBeLessThan(500 + 400);
    }
    expect(
      outcomes.some((o) => o.ok && o.at > restartedAt),
      'recovered after restart',
    ).toBe(true);
    // The subscriber reconnects and resubscribes by itself.
    await sleep(1500);
    await store.transition('after', (s) => void s.set('a', 1));
    for (let i = 0; i < 50 && !events.some((t) => t > restartedAt + 1500); i++) await sleep(20);
    expect(
      events.some((t) => t > restartedAt + 1500),
      'events after the restart',
    ).toBe(true);
  }, 20_000);

  it('a blocked server gives STORE_TIMEOUT after commandTimeoutMs', async () => {
    const server = await startRedis({ extraArgs: ['--enable-debug-command', 'yes'] });
    cleanups.push(() => server.stop());
    const store = await openStore(`${server.url}?timeout=300`);
    cleanups.push(() => store.close());
    await store.transition('b', (s) => void s.set('a', 1));
    const admin = new Redis(server.url);
    cleanups.push(async () => admin.quit());
    const blocked = admin.call('DEBUG', 'SLEEP', '1.2');
    await sleep(50);
    const started = Date.now();
    const error = await store.get('b').catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('STORE_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(900);
    // Several in flight, sent 100 ms apart: each times out on its own deadline (one shared timer).
    const times: number[] = [];
    const again = Date.now();
    const later = [0, 100, 200].map(async (delay) => {
      await sleep(delay);
      const code = await store.get('b').then(
        () => 'answered',
        (e: { code?: string }) => e.code,
      );
      times.push(Date.now() - again - delay);
      return code;
    });
    expect(await Promise.all(later)).toEqual(['STORE_TIMEOUT', 'STORE_TIMEOUT', 'STORE_TIMEOUT']);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(250);
    for (const t of times) expect(t).toBeLessThan(900);
    await blocked;
    expect((await store.get('b'))?.vars).toEqual({ a: 1 });
  });

  it('with appendfsync everysec, commits older than a second survive a SIGKILL', async () => {
    const server = await startRedis({ appendonly: true, appendfsync: 'everysec' });
    cleanups.push(() => server.stop());
    const store = await openStore(server.url);
    cleanups.push(() => store.close());
    const users = 10;
    const perUser = 30;
    await Promise.all(
      Array.from({ length: users }, async (_, u) => {
        for (let i = 0; i < perUser; i++) {
          await store.transition(
            `aof${u}`,
            (s) => void (s.incr('retries'), s.remember({ dir: 'in', text: `m${i}` })),
            {
              claim: `wamid.${u}.${i}`,
            },
          );
        }
      }),
    );
    await sleep(1500); // past the fsync interval
    await server.kill('SIGKILL');
    await server.start();
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await store.ping();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
    for (let u = 0; u < users; u++) {
      const got = await store.get(`aof${u}`);
      expect(got?.retries, `aof${u}`).toBe(perUser);
      expect(got?.history.at(-1)?.text).toBe(`m${perUser - 1}`);
      const again = await store.transition(`aof${u}`, (s) => void s.incr('retries'), {
        claim: `wamid.${u}.0`,
      });
      expect(again.status).toBe('duplicate');
    }
  }, 30_000);
});
