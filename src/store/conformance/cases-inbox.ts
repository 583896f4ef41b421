import { equal, ok } from './assert.js';
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
