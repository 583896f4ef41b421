import { equal, ok, sleep } from './assert.js';
import type { CaseContext } from './context.js';
import type { SuiteApi } from './types.js';

type Case = (name: string, fn: (c: CaseContext) => Promise<void>, timeoutMs?: number) => void;

export function coordinationCases(api: SuiteApi, test: Case): void {
  api.describe('claims', () => {
    test('a key is claimed once within its TTL, then again after it', async (c) => {
      equal(await c.store.claim('wamid.A', c.shortTtlMs), true, 'first claim');
      equal(await c.store.claim('wamid.A', c.shortTtlMs), false, 'second claim');
      equal(await c.store.claim('wamid.B', c.shortTtlMs), true, 'another key');
      await sleep(c.shortTtlMs + 1100);
      equal(await c.store.claim('wamid.A', c.shortTtlMs), true, 'claimable again after expiry');
    }, 15_000);

    test('a transition with a claim runs once per key', async ({ store }) => {
      let runs = 0;
      const count = (s: { incr(key: 'retries'): number }) => {
        runs++;
        s.incr('retries');
      };
      const first = await store.transition('cl1', count, { claim: 'wamid.X' });
      const second = await store.transition('cl1', count, { claim: 'wamid.X' });
      equal([first.status, second.status, runs], ['committed', 'duplicate', 1], 'second run is a duplicate');
      equal((await store.get('cl1'))?.retries, 1, 'applied once');
      const unchanged = await store.transition('cl1', () => 'seen', { claim: 'wamid.Y' });
      equal(unchanged.status, 'unchanged', 'a claim without a change');
      equal(
        (await store.transition('cl1', () => 'again', { claim: 'wamid.Y' })).status,
        'duplicate',
        'still recorded',
      );
    });

    test("a transition's claim belongs to its user, apart from standalone claims", async ({ store }) => {
      const step = (s: { incr(key: 'retries'): number }) => void s.incr('retries');
      const run = async (user: string, claim: string) =>
        (await store.transition(user, step, { claim })).status;
      equal(await run('cs1', 'wamid.S'), 'committed', 'first user');
      equal(await run('cs2', 'wamid.S'), 'committed', 'the same id for another user');
      equal(await run('cs1', 'wamid.S'), 'duplicate', 'the first user again');
      equal(await store.claim('wamid.S', 60_000), true, 'a standalone claim of that id is its own');
      equal(await store.claim('wamid.T', 60_000), true, 'a standalone claim first');
      equal(await run('cs1', 'wamid.T'), 'committed', 'then a transition claiming the same id');
    });

    test('a claim recorded by another worker after begin turns the commit into a conflict', async (c) => {
      const key = c.key('cl3');
      const first = await c.driver.begin({ key, now: Date.now(), claimKey: c.key('wamid.R') });
      ok(first.status === 'ok', 'first worker began');
      const other = await c.store.transition('cl3', (s) => void s.set('by', 'other'), {
        claim: 'wamid.R',
        lease: false,
      });
      equal(other.status, 'committed', 'the other worker processed the message');
      const late = await c.driver.commit({
        key,
        now: Date.now(),
        expectVersion: 1,
        claim: { key: c.key('wamid.R'), ttlMs: 60_000 },
        change: null,
      });
      equal(late.status, 'conflict', 'the late commit is refused');
      equal((await c.store.get('cl3'))?.vars, { by: 'other' }, 'nothing applied twice');
    });

    test('a failed handler does not consume the claim', async ({ store }) => {
      await store
        .transition(
          'cl2',
          () => {
            throw new Error('boom');
          },
          { claim: 'wamid.F' },
        )
        .catch(() => {});
      const retry = await store.transition('cl2', (s) => void s.set('ok', true), { claim: 'wamid.F' });
      equal(retry.status, 'committed', 'redelivery is processed');
    });
  });

  api.describe('leases', () => {
    test('one holder at a time, fencing tokens increase, release frees it', async ({ store }) => {
      const a = await store.acquireLease('l1', 5000);
      ok(a, 'first acquire');
      equal(await store.acquireLease('l1', 5000), null, 'second acquire refused while held');
      equal(await store.extendLease(a, 5000), true, 'holder extends');
      equal(await store.releaseLease(a), true, 'holder releases');
      equal(await store.releaseLease(a), false, 'double release refused');
      const b = await store.acquireLease('l1', 5000);
      ok(b && b.token > a.token, 'the next token is larger');
      equal(await store.extendLease(a, 5000), false, 'a stale token cannot extend');
      equal(await store.releaseLease(a), false, 'a stale token cannot release');
    });

    test('an expired lease can be taken over and its old holder is refused at commit', async (c) => {
      const { driver } = c;
      const key = c.key('l2');
      const now = Date.now();
      const first = await driver.begin({ key, now, lease: { ttlMs: c.shortTtlMs } });
      ok(first.status === 'ok' && first.lease, 'first worker holds the lease');
      await sleep(c.shortTtlMs + 1100);
      const second = await driver.begin({ key, now: Date.now(), lease: { ttlMs: 10_000 } });
      ok(second.status === 'ok' && second.lease, 'second worker takes over the expired lease');
      const stale = await driver.commit({
        key,
        now: Date.now(),
        expectVersion: 0,
        leaseToken: first.lease.token,
        release: true,
        change: null,
      });
      equal(stale.status, 'lease_lost', 'a commit under the stale token is refused');
      equal(await c.store.get('l2'), null, 'nothing was written');
    }, 15_000);

    test('a transition waits for another worker to release the lease', async ({ store }) => {
      const held = await store.acquireLease('l3', 10_000);
      ok(held, 'held');
      let ran = false;
      const pending = store.transition('l3', (s) => {
        ran = true;
        s.set('after', true);
      });
      await sleep(100);
      equal(ran, false, 'the handler waits while another worker holds the lease');
      await store.releaseLease(held);
      equal((await pending).status, 'committed', 'then runs');
      ok(ran, 'ran');
    });

    test('a transition gives up with LEASE_BUSY after leaseWaitMs', async (c) => {
      const impatient = await c.peer({ leaseWaitMs: 150 });
      ok(await c.store.acquireLease('l4', 10_000), 'held elsewhere');
      let code: string | undefined;
      await impatient
        .transition('l4', () => {})
        .catch((e: { code?: string }) => {
          code = e.code;
        });
      equal(code, 'LEASE_BUSY', 'typed error');
    });
  });

  api.describe('conflicts and concurrency', () => {
    test('waitForLease: false fails at once with LEASE_BUSY and changes nothing', async (c) => {
      const peer = await c.peer({ leaseWaitMs: 60_000 });
      const held = await c.store.acquireLease('l5', 10_000);
      ok(held, 'held elsewhere');
      let ran = false;
      let code: string | undefined;
      await peer
        .transition(
          'l5',
          (s) => {
            ran = true;
            s.set('x', 1);
          },
          { claim: 'l5-m1', waitForLease: false },
        )
        .catch((e: { code?: string }) => {
          code = e.code;
        });
      equal([code, ran], ['LEASE_BUSY', false], 'refused without running the handler or waiting a minute');
      if (held) await c.store.releaseLease(held);
      equal(
        (await peer.transition('l5', (s) => void s.set('x', 2), { claim: 'l5-m1' })).status,
        'committed',
        'the claim was not consumed',
      );
    });

    test('a stale version is detected at commit', async (c) => {
      const { driver } = c;
      const key = c.key('v1');
      await c.store.transition('v1', (s) => void s.set('n', 0));
      const a = await driver.begin({ key, now: Date.now() });
      const b = await driver.begin({ key, now: Date.now() });
      ok(a.status === 'ok' && b.status === 'ok' && a.record && b.record, 'both loaded version 1');
      const change = await c.store.transition('v1', (s) => void s.set('n', 1));
      ok(change.status === 'committed', 'a third writer committed');
      const late = await driver.commit({
        key,
        now: Date.now(),
        expectVersion: a.record.version,
        change: null,
      });
      equal(late.status, 'conflict', 'the late writer sees a conflict');
    });

    test('concurrent transitions without leases retry and lose no update', async (c) => {
      const other = await c.peer();
      const work = [];
      for (let i = 0; i < 20; i++) {
        const store = i % 2 ? other : c.store;
        work.push(
          store.transition(
            'v2',
            async (s) => {
              const seen = s.vars.list as number[] | undefined;
              await sleep(1);
              s.set('list', [...(seen ?? []), i]);
            },
            { lease: false },
          ),
        );
      }
      await Promise.all(work);
      const list = (await c.store.get('v2'))?.vars.list as number[];
      equal(
        [...list].sort((x, y) => x - y),
        [...Array(20).keys()],
        'every read-modify-write survived',
      );
    }, 30_000);

    test('1,000 concurrent transitions on one user end at exactly 1,000', async (c) => {
      const other = await c.peer();
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          (i % 2 ? other : c.store).transition('hot', (s) => {
            s.incr('retries');
          }),
        ),
      );
      equal((await c.store.get('hot'))?.retries, 1000, 'counter');
    }, 120_000);

    test('many users in parallel each get exactly their own updates', async ({ store }) => {
      const users = Array.from({ length: 100 }, (_, i) => `user${i}`);
      await Promise.all(
        users.flatMap((id) =>
          Array.from({ length: 5 }, (_, n) =>
            store.transition(id, (s) => {
              s.incr('retries');
              s.remember({ dir: 'in', text: `${id}:${n}` });
            }),
          ),
        ),
      );
      for (const id of users) {
        const got = await store.get(id);
        equal(got?.retries, 5, `${id} retries`);
        ok(
          got?.history.every((h) => h.text?.startsWith(`${id}:`)),
          `${id} history holds only its own messages`,
        );
      }
    }, 60_000);
  });
}
