import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MemcachedDriver, memcachedDriver } from '../../src/store/drivers/memcached.js';
import { indexKeyOf, indexLine } from '../../src/store/drivers/memcached-outbox.js';
import { SessionStore } from '../../src/store/session-store.js';
import { type MemcachedServer, memcachedRaw, startMemcached } from '../support/servers.js';

// The reply outbox on a real memcached: pending replies inside the session value, an index of users.
let server: MemcachedServer;
beforeAll(async () => {
  server = await startMemcached();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  await memcachedRaw(server.port, 'flush_all\r\n');
});

const open = (options: { outboxIndexGraceMs?: number } = {}) => {
  const driver = memcachedDriver({ servers: [`127.0.0.1:${server.port}`], ...options });
  return { driver, store: new SessionStore(driver) };
};
// The store below has no key prefix: user keys are the ids.
const rawGet = (key: string) => memcachedRaw(server.port, `get ${key}\r\n`, /END\r\n$/);

describe('memcached outbox', () => {
  it('a transition with replies costs the same 3 round trips, and the index line is written', async () => {
    const { driver, store } = open();
    try {
      await store.transition('u1', (s) => void s.set('a', 1));
      let before = driver.metrics.roundTrips;
      await store.transition('u1', (s) => void s.set('a', 2));
      const withoutReplies = driver.metrics.roundTrips - before;
      before = driver.metrics.roundTrips;
      await store.transition('u1', (s) => void s.send({ text: 'hi' }));
      expect(driver.metrics.roundTrips - before).toBe(withoutReplies);
      expect(await rawGet(indexKeyOf('u1'))).toContain(' u1\n');
    } finally {
      await store.close();
    }
  });

  it('a crash between the index append and the CAS leaves a stale line that pending ignores and cleans', async () => {
    // What a process that died right after its append leaves: a line, and no reply in the session.
    const key = indexKeyOf('ghost');
    const line = indexLine('ghost', Date.now() - 120_000);
    expect(await memcachedRaw(server.port, `set ${key} 0 0 ${line.length}\r\n${line}\r\n`)).toBe(
      'STORED\r\n',
    );
    const young = open();
    try {
      await young.store.transition('ghost', (s) => void s.set('x', 1));
      await young.store.transition('real', (s) => void s.send({ text: 'pending' }));
      const pending = (await young.store.outbox?.pending(-1000)) ?? [];
      expect(pending.map((e) => e.userId)).toEqual(['real']);
      // The stale line is older than the grace: gone; the real user's line stays.
      expect(await rawGet(key)).not.toContain(' ghost\n');
      expect(await rawGet(indexKeyOf('real'))).toContain(' real\n');
    } finally {
      await young.store.close();
    }
  });

  it('a fresh index line is kept while its commit may still be on its way', async () => {
    const key = indexKeyOf('soon');
    const line = indexLine('soon', Date.now());
    await memcachedRaw(server.port, `set ${key} 0 0 ${line.length}\r\n${line}\r\n`);
    const { store } = open();
    try {
      expect(await store.outbox?.pending(-1000)).toEqual([]);
      expect(await rawGet(key)).toContain(' soon\n');
    } finally {
      await store.close();
    }
    const { store: late } = open({ outboxIndexGraceMs: 0 });
    try {
      await late.outbox?.pending(-1000);
      expect(await rawGet(key)).not.toContain(' soon\n');
    } finally {
      await late.close();
    }
  });

  it('concurrent delivery updates and transitions on one user lose nothing (CAS conflicts retried)', async () => {
    const a = open();
    const b = open();
    try {
      const sent: string[] = [];
      let last = await a.store.transition('c1', (s) => void s.send({ text: 'r0' }));
      for (let i = 1; i <= 15; i++) {
        if (last.status === 'duplicate') throw new Error('unexpected');
        const [reply] = last.replies;
        if (!reply) throw new Error('no reply');
        // Process B marks the previous reply sent while process A commits the next one.
        const [, next] = await Promise.all([
          b.store.outbox?.update(reply.id, { state: 'sent', attempts: 1, providerId: `wamid.${i}` }),
          a.store.transition('c1', (s) => void s.send({ text: `r${i}` })),
        ]);
        sent.push(reply.id);
        last = next;
      }
      const entries = (await a.store.outbox?.forUser('c1', 100)) ?? [];
      expect(entries.length).toBe(16);
      expect(entries.filter((e) => e.state === 'pending').map((e) => JSON.parse(e.payload).text)).toEqual([
        'r15',
      ]);
      expect(
        entries
          .filter((e) => e.state === 'sent')
          .map((e) => e.id)
          .sort(),
      ).toEqual([...sent].sort());
      expect((await b.store.outbox?.byProviderId('wamid.7'))?.state).toBe('sent');
      expect((await a.store.get('c1'))?.version).toBe(16);
    } finally {
      await a.store.close();
      await b.store.close();
    }
  });

  it('startup warnings say that memcached can lose pending replies', () => {
    const { driver } = open();
    expect((driver as MemcachedDriver).warnings.some((w) => w.includes('pending replies'))).toBe(true);
    void driver.close();
  });
});
