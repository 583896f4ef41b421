import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { codecByName } from '../../src/session/codec.js';
import type { SessionDraft } from '../../src/session/draft.js';
import { decodeFields } from '../../src/session/fields.js';
import type { Session } from '../../src/session/types.js';
import type { StoredFields } from '../../src/store/contract.js';
import { type RedisDriver, redisDriver } from '../../src/store/drivers/redis.js';
import { SessionCopies } from '../../src/store/session-copies.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { redisStoresForFile } from './redis-setup.js';

// Session copies on Redis (docs/redis.md, "Session copies"): the store keeps the session its
// leased commit wrote, and the user's next begin sends the version and writer token of that copy
// and reads nothing more when both still match. Every case checks what the handler was given
// against what Redis holds, read by a store without copies, so a stale copy fails the case.
let admin: Redis;
let serverUrl: string;
const { open } = redisStoresForFile((started) => {
  admin = started.admin;
  serverUrl = started.server.url;
});

const calls = async () => {
  const info = await admin.info('commandstats');
  const count = (cmd: string) => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { hgetall: count('hgetall'), hmget: count('hmget'), lrange: count('lrange') };
};

/** What a handler can read of its session. */
const readable = (s: SessionDraft | Session) => ({
  flow: s.flow,
  node: s.node,
  prevNode: s.prevNode,
  retries: s.retries,
  vars: s.vars,
  history: s.history,
  createdAt: s.createdAt,
  version: s.version,
  schema: s.schema,
});

/** What the handler of each transition of `store` was given, taken as it starts (null: no session). */
function watch(store: SessionStore) {
  const seen: Array<ReturnType<typeof readable> | null> = [];
  const transition = store.transition.bind(store);
  store.transition = (id, handler, options) =>
    transition(
      id,
      (s) => {
        seen.push(s.version === 0 ? null : structuredClone(readable(s)));
        return handler(s);
      },
      options,
    );
  return seen;
}

/** What Redis holds for `id`, read by a driver without copies. */
async function stored(plain: RedisDriver, id: string) {
  const record = (await plain.load(`cs:${id}`, Date.now())) as StoredFields | null;
  return record === null ? null : readable(decodeFields(`cs:${id}`, record, codec));
}

const codec = codecByName('msgpack');

describe('redis session copies', () => {
  it("a user's next begin validates the cached copy instead of reading the hash and history again", async () => {
    const { store } = await open();
    const { driver: plain } = await open({ cacheSessions: 0 });
    const seen = watch(store);
    await store.transition(
      'u1',
      (s) => void s.setFlow('f').goto('a').set('name', 'Ann').remember({ dir: 'in', text: 'hi' }),
    );
    const before = await calls();
    for (let i = 0; i < 5; i++) {
      const now = await stored(plain, 'u1');
      const result = await store.transition(
        'u1',
        (s) => {
          s.goto(`n${i}`).remember({ dir: 'in', text: `m${i}` });
          s.incr('retries');
        },
        { claim: `wamid.${i}` },
      );
      expect(result.status).toBe('committed');
      expect(seen.at(-1)).toEqual(now);
    }
    const after = await calls();
    // The five loads by `plain` are HGETALL + LRANGE each; the cached store's five begins one HMGET
    // each (v w), beside the HMGET of each commit's version and writer check.
    expect(after.hmget - before.hmget).toBe(10);
    expect(after.hgetall - before.hgetall).toBe(5);
    expect(after.lrange - before.lrange).toBe(5);
  });

  it('transitions under a held lease (withLease) validate the cached copy too, and see a lease-less write between them', async () => {
    const { store } = await open();
    const { driver: plain, store: other } = await open({ cacheSessions: 0 });
    const seen = watch(store);
    await store.transition('u6', (s) => void s.set('n', 0).remember({ dir: 'in', text: 'first' }));
    const before = await calls();
    await store.withLease('u6', async (lease) => {
      for (let i = 1; i <= 4; i++) {
        const now = await stored(plain, 'u6');
        const result = await store.transition(
          'u6',
          (s) => void s.set('n', i).remember({ dir: 'in', text: `m${i}` }),
          { lease, claim: `wamid.held.${i}` },
        );
        expect(result.status).toBe('committed');
        expect(seen.at(-1), `transition ${i}`).toEqual(now);
      }
    });
    const after = await calls();
    // `plain` read the hash and the history four times; the cached store's four begins and four
    // commits one HMGET (v w) each, and no HGETALL or LRANGE of their own.
    expect(after.hgetall - before.hgetall).toBe(4);
    expect(after.lrange - before.lrange).toBe(4);
    expect(after.hmget - before.hmget).toBe(8);

    await store.withLease('u6', async (lease) => {
      await store.transition('u6', (s) => void s.set('n', 5), { lease });
      // Another process writes without a lease (the held one does not stop it): the next
      // transition under the lease is given that write, not the copy cached before it.
      await other.transition('u6', (s) => void s.set('by', 'other'), { lease: false });
      const now = await stored(plain, 'u6');
      expect(now?.vars).toMatchObject({ n: 5, by: 'other' });
      await store.transition('u6', (s) => void s.set('n', 6), { lease });
      expect(seen.at(-1)).toEqual(now);
    });
    expect((await stored(plain, 'u6'))?.vars).toMatchObject({ n: 6, by: 'other' });
  });

  it('a held lease taken over by another worker: begin reads Redis instead of the cached copy, and the commit is refused (LEASE_LOST) with nothing applied', async () => {
    const { store } = await open();
    const { driver: plain } = await open({ cacheSessions: 0 });
    const seen = watch(store);
    await store.transition('u7', (s) => void s.set('n', 1));
    await store.withLease('u7', async (lease) => {
      await store.transition('u7', (s) => void s.set('n', 2), { lease });
      // The lease ran out and another worker took it (a larger token), not having written yet:
      // the cached copy still matches `v` and `w`, but is no longer the caller's to use.
      await admin.set('{cs:u7}:l', String(lease.token + 1), 'PX', 30_000);
      const now = await stored(plain, 'u7');
      const before = await calls();
      await expect(store.transition('u7', (s) => void s.set('n', 4), { lease })).rejects.toMatchObject({
        code: 'LEASE_LOST',
      });
      // Read in full: a copy is only served, or kept, under a lease that is still the caller's.
      expect((await calls()).hgetall - before.hgetall).toBe(1);
      expect(seen.at(-1)).toEqual(now);
      expect(await stored(plain, 'u7')).toEqual(now);
      expect(now?.vars).toEqual({ n: 2 });
    });
  });

  it('the copy carried forward by commits equals what Redis holds: deletes, resets, trims, TTLs, vars', async () => {
    const { store } = await open({}, { historyLimit: 3 });
    const { driver: plain } = await open({ cacheSessions: 0 });
    const seen = watch(store);
    const changes: Array<(s: SessionDraft) => void> = [
      (s) =>
        void s
          .setFlow('onboarding')
          .goto('ask')
          .set('name', 'Ann')
          .set('nested', { a: [1, 'x'] }),
      (s) => void s.goto('email').remember({ dir: 'in', text: 'é ü 😀' }),
      (s) => {
        s.unset('nested');
        s.incr('retries', 2);
        s.incr('count');
      },
      (s) => void s.remember({ dir: 'out', text: 'a' }).remember({ dir: 'in', text: 'b' }),
      (s) => void s.remember({ dir: 'in', text: 'c' }).setTtl(null),
      (s) => void s.goto(null).setFlow(null).set('n', 1.5),
      (s) => {
        s.incr('n', 1);
        s.setTtl(3_600_000);
      },
      (s) => void s.clear(),
      (s) => void s.set('after', true).remember({ dir: 'in', text: 'again' }),
      () => {},
    ];
    for (const [i, change] of changes.entries()) {
      const now = await stored(plain, 'u2');
      await store.transition('u2', change, { claim: `wamid.${i}` });
      expect(seen.at(-1), `before change ${i}`).toEqual(now);
    }
    const now = await stored(plain, 'u2');
    await store.transition('u2', () => {});
    expect(seen.at(-1)).toEqual(now);
    expect(now?.version).toBe(9); // the last two changed nothing
  });

  it('sees every change another process made: leased, lease-less, deleted and recreated in the same millisecond', async () => {
    const now = Date.now();
    const clock = () => now; // both processes write the same createdAt / updatedAt
    const { store: a } = await open({}, { clock });
    const { store: b } = await open({}, { clock });
    const { driver: plain } = await open({ cacheSessions: 0 });
    const seen = watch(a);
    const check = async (label: string) => {
      const now = await stored(plain, 'u3');
      await a.transition('u3', () => {});
      expect(seen.at(-1), label).toEqual(now);
    };
    await a.transition('u3', (s) => void s.set('who', 'a'));
    await b.transition('u3', (s) => void s.set('who', 'b'));
    await check('after a leased write by another process');
    await b.transition('u3', (s) => void s.set('who', 'b, no lease'), { lease: false });
    await check('after a lease-less write');
    // Same version (1), same createdAt: only the writer token tells the two lives apart.
    await a.delete('u3');
    await a.transition('u3', (s) => void s.set('life', 1));
    await b.delete('u3');
    await b.transition('u3', (s) => void s.set('life', 2));
    expect(await stored(plain, 'u3')).toMatchObject({ version: 1, vars: { life: 2 } });
    await check('after a delete and a leased re-creation at the same version');
    await b.delete('u3');
    await b.transition('u3', (s) => void s.set('life', 3), { lease: false });
    await check('after a delete and a lease-less re-creation');
  });

  it('a session deleted and rewritten to the same version by a writer without a lease while a transition runs: its commit is refused and rerun on the new session', async () => {
    const { store: a } = await open();
    const { store: b } = await open();
    const { driver: plain } = await open({ cacheSessions: 0 });
    const seen = watch(a);
    await a.transition('u5', (s) => void s.set('life', 1));
    let runs = 0;
    const result = await a.transition('u5', async (s) => {
      if (++runs === 1) {
        await b.delete('u5');
        await b.transition('u5', (t) => void t.set('life', 2), { lease: false });
      }
      s.set('seen', s.vars.life as number);
    });
    expect(runs).toBe(2);
    expect(result.status === 'committed' && result.session.vars).toEqual({ life: 2, seen: 2 });
    const now = await stored(plain, 'u5');
    expect(now?.vars).toEqual({ life: 2, seen: 2 });
    await a.transition('u5', () => {});
    expect(seen.at(-1)).toEqual(now);
  });

  it('the session a handler reads after a cached commit is what Redis holds, read-only, and within the size cap', async () => {
    const { store } = await open({}, { historyLimit: 3, maxBytes: 4096 });
    const { driver: plain, store: plainStore } = await open({ cacheSessions: 0 }, { maxBytes: 4096 });
    const changes: Array<(s: SessionDraft) => void> = [
      (s) =>
        void s
          .setFlow('f')
          .goto('a')
          .set('nested', { list: [1] })
          .remember({ dir: 'in', text: 'hi' }),
      (s) => void s.set('when', new Date(7) as never).remember({ dir: 'out', text: 'x', extra: 1 } as never),
      (s) => {
        s.incr('retries');
        s.incr('count', 2);
        s.set('f', 0.1);
      },
      (s) => void s.unset('nested').remember({ dir: 'in', media: { id: 'm', mime: 'image/png' } } as never),
      (s) => void s.clear().set('again', 'é 😀'),
      () => {},
    ];
    for (const [i, change] of changes.entries()) {
      const expected = await stored(plain, 'm1');
      let given: ReturnType<typeof readable> | undefined;
      await store.transition('m1', (s) => {
        given = structuredClone(readable(s));
        change(s);
      });
      if (expected) expect(given, `before change ${i}`).toEqual(expected);
    }

    // A handler writing into what it read (not through the draft) fails and changes nothing.
    await store.transition('m1', (s) => void s.set('deep', { list: [1] }));
    const before = await stored(plain, 'm1');
    await expect(
      store.transition('m1', (s) => {
        (s.vars.deep as { list: number[] }).list.push(2);
      }),
    ).rejects.toBeInstanceOf(TypeError);
    expect(await stored(plain, 'm1')).toEqual(before);
    let deep: unknown;
    await store.transition('m1', (s) => void (deep = s.vars.deep));
    expect(deep).toEqual({ list: [1] });

    // The size cap holds where commits skip measuring the session: the same growth fails at the
    // same step in a store that measures every commit.
    const failsAt = async (target: typeof store, id: string) => {
      for (let i = 1; i <= 10; i++) {
        try {
          await target.transition(id, (s) => void s.set(`k${i}`, 'y'.repeat(500)));
        } catch (error) {
          expect(error).toMatchObject({ code: 'SESSION_TOO_LARGE' });
          return i;
        }
      }
      return 0;
    };
    const cachedStep = await failsAt(store, 'm2');
    expect(cachedStep).toBeGreaterThan(1);
    expect(cachedStep).toBe(await failsAt(plainStore, 'm3'));
    expect((await stored(plain, 'm2'))?.version).toBe(cachedStep - 1);
  });

  it("a write behind chatstate's back is seen when it moves the version (and only then: cache=0 for that)", async () => {
    const { store } = await open();
    const { store: plain } = await open({ cacheSessions: 0 });
    const seen = watch(store);
    const seenPlain = watch(plain);
    await store.transition('u4', (s) => void s.set('a', 1));
    await admin.hset('{cs:u4}', 'x:a', '2');
    await store.transition('u4', () => {});
    expect(seen.at(-1)?.vars).toEqual({ a: 1 });
    await plain.transition('u4', () => {});
    expect(seenPlain.at(-1)?.vars).toEqual({ a: 2 });
    await admin.hset('{cs:u4}', 'x:a', '3');
    await admin.hincrby('{cs:u4}', 'v', 1);
    await store.transition('u4', () => {});
    expect(seen.at(-1)?.vars).toEqual({ a: 3 });
  });

  it('keeps at most cacheSessions users, least recently used out first; ?cache= sets it', async () => {
    const { store } = await open({ cacheSessions: 2 });
    for (const id of ['x1', 'x2', 'x3']) await store.transition(id, (s) => void s.set('id', id));
    const before = await calls();
    await store.transition('x2', () => {});
    await store.transition('x3', () => {});
    await store.transition('x1', () => {}); // evicted by x3: read in full
    const after = await calls();
    // Three commits (one HMGET each), two validated begins (one each), one begin that reads everything.
    expect([after.hmget - before.hmget, after.hgetall - before.hgetall]).toEqual([5, 1]);

    const { store: off } = await open({ url: `${serverUrl}?cache=0` });
    await off.transition('x1', () => {});
    const offBefore = await calls();
    await off.transition('x1', () => {});
    expect((await calls()).hgetall - offBefore.hgetall).toBe(1);
    await expect(redisDriver({ url: `${serverUrl}?cache=-1` })).rejects.toMatchObject({
      code: 'STORE_URL_INVALID',
    });
  });

  it('SessionCopies keeps at most max users, the least recently kept out first', () => {
    const copies = new SessionCopies(2);
    const copy = (version: number) => ({
      session: {} as Session,
      version,
      stamp: String(version),
      size: undefined,
    });
    copies.keep('a', copy(1));
    copies.keep('b', copy(1));
    copies.keep('a', copy(2)); // kept again: now the newest
    copies.keep('c', copy(1));
    expect([copies.get('a')?.version, copies.get('b'), copies.get('c')?.version]).toEqual([2, undefined, 1]);
    expect(copies.size).toBe(2);
    copies.drop('a');
    expect(copies.get('a')).toBeUndefined();
  });
});
