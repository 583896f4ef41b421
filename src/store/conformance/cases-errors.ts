import { equal, ok, rejects } from './assert.js';
import type { CaseContext } from './context.js';
import type { SuiteApi } from './types.js';

type Case = (name: string, fn: (c: CaseContext) => Promise<void>, timeoutMs?: number) => void;

export function errorCases(api: SuiteApi, test: Case): void {
  api.describe('bad input', () => {
    test('corrupt stored bytes are quarantined, reported, and the user starts fresh', async (c) => {
      await c.store.transition('bad1', (s) => void s.set('a', 1));
      await c.target.corrupt(c.driver, c.key('bad1'));
      const reports: string[] = [];
      c.store.on('corrupt', (event) => reports.push(event.id));
      equal(await c.store.get('bad1'), null, 'a corrupt session reads as none');
      equal(reports, ['bad1'], 'a corrupt event was emitted');
      const raw = await c.target.quarantined(c.driver, c.key('bad1'));
      ok(raw.length === 1 && (raw[0]?.length ?? 0) > 0, 'the raw bytes were kept in quarantine');
      const next = await c.store.transition('bad1', (s) => {
        ok(s.isNew, 'starts fresh');
        s.set('b', 2);
      });
      equal(next.status, 'committed', 'the next message works');
      equal((await c.store.get('bad1'))?.vars, { b: 2 }, 'fresh session stored');
    });

    test('an oversized session fails with SESSION_TOO_LARGE and stores nothing', async (c) => {
      await c.store.transition('big', (s) => void s.set('small', 'x'));
      const error = await rejects(
        c.store.transition('big', (s) => void s.set('huge', 'x'.repeat(c.store.options.maxBytes + 1)), {
          claim: 'wamid.big',
        }),
        'SESSION_TOO_LARGE',
        'oversized commit',
      );
      ok(String((error as Error).message).includes('maxBytes'), 'the message says how to fix it');
      const got = await c.store.get('big');
      equal([got?.version, got?.vars], [1, { small: 'x' }], 'the previous session is intact');
      equal(
        (await c.store.transition('big', (s) => void s.set('n', 1), { claim: 'wamid.big' })).status,
        'committed',
        'claim and lease were not consumed',
      );
    });

    test('a handler that throws changes nothing and releases the lease', async ({ store }) => {
      await store.transition('t1', (s) => void s.set('a', 1));
      await rejects(
        store.transition('t1', (s) => {
          s.set('a', 2);
          throw Object.assign(new Error('handler failed'), { code: 'HANDLER' });
        }),
        'HANDLER',
        'the handler error propagates',
      );
      equal((await store.get('t1'))?.vars, { a: 1 }, 'no partial commit');
      ok(await store.acquireLease('t1'), 'lease released');
    });

    test('invalid user ids are refused', async ({ store }) => {
      await rejects(
        Promise.resolve().then(() => store.transition('', () => {})),
        'INVALID_ARGUMENT',
        'empty id',
      );
      await rejects(
        Promise.resolve().then(() => store.get('{tag}')),
        'INVALID_ARGUMENT',
        'braces',
      );
    });

    test('every operation after close fails with STORE_CLOSED', async (c) => {
      const other = await c.peer();
      void other;
      await c.store.close();
      await rejects(
        Promise.resolve().then(() => c.store.transition('x', () => {})),
        'STORE_CLOSED',
        'transition',
      );
      await rejects(
        Promise.resolve().then(() => c.store.get('x')),
        'STORE_CLOSED',
        'get',
      );
      await rejects(
        Promise.resolve().then(() => c.store.claim('k')),
        'STORE_CLOSED',
        'claim',
      );
      await rejects(
        Promise.resolve().then(() => c.store.delete('x')),
        'STORE_CLOSED',
        'delete',
      );
      await c.store.close();
    });
  });
}
