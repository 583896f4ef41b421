import { equal, ok, rejects } from './assert.js';
import type { CaseContext } from './context.js';
import type { SuiteApi } from './types.js';

type Case = (name: string, fn: (c: CaseContext) => Promise<void>, timeoutMs?: number) => void;

/** The webhook inbox, for drivers that offer one (the runtime processes inline otherwise). */
export function inboxCases(api: SuiteApi, test: Case): void {
  api.describe('inbox', () => {
    test('entries come back per user in timestamp order, deduplicated by id', async ({ store }) => {
      const inbox = store.inbox;
      if (!inbox) return;
      const added = await inbox.add([
        { id: 'm3', userId: 'a', at: 3000, payload: '3' },
        { id: 'm1', userId: 'a', at: 1000, payload: '1' },
        { id: 'x1', userId: 'b', at: 500, payload: 'x' },
        { id: 'm2', userId: 'a', at: 1000, payload: '2' },
      ]);
      equal(added, 4, 'all new');
      equal(
        await inbox.add([{ id: 'm1', userId: 'a', at: 1000, payload: 'again' }]),
        0,
        'a redelivery is ignored',
      );
      equal(
        (await inbox.peek('a', 10)).map((e) => e.payload),
        ['1', '2', '3'],
        'timestamp order, then arrival',
      );
      equal((await inbox.peek('a', 2)).length, 2, 'limit');
      await inbox.remove('a', ['m1', 'm2']);
      equal(
        (await inbox.peek('a', 10)).map((e) => e.id),
        ['m3'],
        'removed',
      );
      equal((await inbox.peek('b', 10))[0]?.userId, 'b', 'user ids come back without the prefix');
    });

    test('a transition consumes its inbox entry and may release its lease in the commit', async (c) => {
      const { store } = c;
      const inbox = store.inbox;
      if (!inbox) return;
      await inbox.add([
        { id: 'c1', userId: 'cu', at: 1, payload: '1' },
        { id: 'c2', userId: 'cu', at: 2, payload: '2' },
      ]);
      const peer = await c.peer();
      await store.withLease('cu', async (lease) => {
        const first = await store.transition('cu', (s) => void s.set('n', 1), {
          claim: 'c1',
          lease,
          consume: 'c1',
        });
        ok(first.status === 'committed', 'committed');
        equal([first.consumed, first.released], [inbox.removesOnCommit, false], 'consumed, lease kept');
        if (!first.consumed) await inbox.remove('cu', ['c1']);
        equal(
          (await inbox.peek('cu', 10)).map((e) => e.id),
          ['c2'],
          'the processed entry is gone, the next one waits',
        );
        equal(await peer.acquireLease('cu', 1000), null, 'the lease is still held');
        const last = await store.transition('cu', (s) => void s.set('n', 2), {
          claim: 'c2',
          lease,
          consume: 'c2',
          release: true,
        });
        ok(last.status === 'committed' && last.released, 'released with the commit');
        if (!last.consumed) await inbox.remove('cu', ['c2']);
        const other = await peer.acquireLease('cu', 1000);
        ok(other !== null, 'another worker can take the user right after the commit');
        if (other) await peer.releaseLease(other);
      });
      equal(await inbox.peek('cu', 10), [], 'inbox empty');
      equal((await store.get('cu'))?.vars.n, 2, 'both transitions applied');
    });

    test('a refused commit consumes nothing', async (c) => {
      const { store } = c;
      const inbox = store.inbox;
      if (!inbox?.removesOnCommit) return;
      await inbox.add([{ id: 'k1', userId: 'ku', at: 1, payload: '1' }]);
      await rejects(
        store.transition('ku', (s) => void s.set('big', 'x'.repeat(store.options.maxBytes + 1)), {
          claim: 'k1',
          consume: 'k1',
        }),
        'SESSION_TOO_LARGE',
        'oversized',
      );
      equal(
        (await inbox.peek('ku', 10)).map((e) => e.id),
        ['k1'],
        'the entry waits for the next try',
      );
    });

    test('users with waiting entries are found for recovery', async ({ store }) => {
      const inbox = store.inbox;
      if (!inbox) return;
      await inbox.add([
        { id: 'r1', userId: 'u1', at: 1, payload: '' },
        { id: 'r2', userId: 'u2', at: 1, payload: '' },
      ]);
      equal((await inbox.users(60_000)).length, 0, 'nothing older than a minute');
      const all = await inbox.users(-1000);
      ok(all.includes('u1') && all.includes('u2'), 'both users listed');
      await inbox.remove('u1', ['r1']);
      equal(await inbox.users(-1000), ['u2'], 'emptied users drop out');
    });
  });
}
