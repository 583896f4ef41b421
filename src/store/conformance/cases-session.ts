import type { Vars } from '../../session/types.js';
import { equal, ok, sleep } from './assert.js';
import type { CaseContext } from './context.js';
import type { SuiteApi } from './types.js';

type Case = (name: string, fn: (c: CaseContext) => Promise<void>, timeoutMs?: number) => void;

export function sessionCases(api: SuiteApi, test: Case): void {
  api.describe('sessions and patches', () => {
    test('a first transition creates the session with every field', async ({ store }) => {
      const result = await store.transition('12025550123', (s) => {
        ok(s.isNew, 'a user with no session starts new');
        s.setFlow('onboarding_v2').goto('awaiting_email').set('name', 'John Doe');
        s.remember({ dir: 'in', text: 'hi', at: 1000 });
        return 'done';
      });
      equal(result.status, 'committed', 'status');
      const got = await store.get('12025550123');
      ok(got, 'session stored');
      equal(got.flow, 'onboarding_v2', 'flow');
      equal(got.node, 'awaiting_email', 'node');
      equal(got.prevNode, null, 'prevNode');
      equal(got.vars, { name: 'John Doe' }, 'vars');
      equal(got.history, [{ dir: 'in', at: 1000, text: 'hi' }], 'history');
      equal(got.version, 1, 'version');
      ok(got.expiresAt !== null && got.expiresAt > Date.now(), 'default TTL applied');
      ok(result.status === 'committed' && result.result === 'done', 'handler result returned');
    });

    test('a patch changes only what it names and keeps the rest', async ({ store }) => {
      await store.transition('u1', (s) => {
        s.goto('a').set('keep', 1).set('drop', 'x').set('change', 'old');
      });
      await store.transition('u1', (s) => {
        s.goto('b')
          .unset('drop')
          .set('change', { nested: [1, 2] });
      });
      const got = await store.get('u1');
      equal(got?.vars, { keep: 1, change: { nested: [1, 2] } }, 'vars after patch');
      equal([got?.node, got?.prevNode], ['b', 'a'], 'goto remembers the previous node');
      equal(got?.version, 2, 'one version per commit');
    });

    test('a handler that changes nothing writes nothing', async ({ store }) => {
      await store.transition('u2', (s) => void s.set('a', 1));
      const before = await store.get('u2');
      const result = await store.transition('u2', (s) => s.vars.a);
      equal(result.status, 'unchanged', 'status');
      equal((await store.get('u2'))?.version, before?.version, 'version unchanged');
      equal((await store.get('u2'))?.updatedAt, before?.updatedAt, 'updatedAt unchanged');
      ok(await store.acquireLease('u2'), 'the lease was released even without a write');
    });

    test('counters increment atomically and reset', async ({ store }) => {
      for (let i = 0; i < 3; i++) await store.transition('u3', (s) => void s.incr('retries'));
      await store.transition('u3', (s) => {
        equal(s.incr('score', 5), 5, 'a missing var counter starts at 0');
        equal(s.incr('score', 2), 7, 'increments accumulate in one transition');
      });
      let got = await store.get('u3');
      equal([got?.retries, got?.vars.score], [3, 7], 'counters');
      await store.transition('u3', (s) => void s.resetRetries().incr('score', -7));
      got = await store.get('u3');
      equal([got?.retries, got?.vars.score], [0, 0], 'counters after reset');
    });

    test('history keeps the last N messages in order, media as references', async ({ store }) => {
      const limit = store.options.historyLimit;
      for (let i = 0; i < limit + 2; i++) {
        await store.transition(
          'u4',
          (s) => void s.remember({ dir: i % 2 ? 'out' : 'in', text: `m${i}`, at: i }),
        );
      }
      await store.transition(
        'u4',
        (s) =>
          void s.remember({ dir: 'in', at: 99, media: { kind: 'image', id: 'MEDIA1', mime: 'image/jpeg' } }),
      );
      const got = await store.get('u4');
      equal(got?.history.length, limit, 'trimmed to the limit');
      equal(
        got?.history.at(-1),
        { dir: 'in', at: 99, media: { kind: 'image', id: 'MEDIA1', mime: 'image/jpeg' } },
        'media reference',
      );
      equal(got?.history.at(-2)?.text, `m${limit + 1}`, 'newest text kept');
    });

    test('clear() and delete() empty a session', async ({ store }) => {
      await store.transition('u5', (s) => void s.goto('x').set('a', 1).incr('retries'));
      await store.transition('u5', (s) => void s.clear().set('b', 2));
      const got = await store.get('u5');
      equal([got?.node, got?.vars, got?.retries], [null, { b: 2 }, 0], 'clear keeps only what followed it');
      equal(await store.delete('u5'), true, 'delete reports an existing session');
      equal(await store.get('u5'), null, 'deleted');
      equal(await store.delete('u5'), false, 'delete of a missing session');
      const again = await store.transition('u5', (s) => s.isNew);
      ok(again.status === 'committed' || again.status === 'unchanged', 'usable after delete');
      ok('result' in again && again.result === true, 'starts fresh after delete');
    });

    test('sessions expire after their TTL and the next message sees the expired one', async (c) => {
      const { store } = c;
      await store.transition('u6', (s) => void s.goto('cart').set('item', 'A').setTtl(c.shortTtlMs));
      ok(await store.get('u6'), 'readable before expiry');
      await sleep(c.shortTtlMs + 1100);
      equal(await store.get('u6'), null, 'expired session reads as null');
      const seen = await store.transition('u6', (s) => {
        equal(s.expired?.node, 'cart', 'the expired session is visible to the handler');
        ok(s.isNew, 'an expired session starts new');
        equal(s.vars, {}, 'vars start empty');
        s.goto('welcome_back');
        return true;
      });
      ok(seen.status === 'committed', 'committed after expiry');
      const got = await store.get('u6');
      equal([got?.node, got?.vars], ['welcome_back', {}], 'the new session replaced the expired one');
    }, 15_000);

    test('expired sessions are swept or expire natively, and are not listed', async (c) => {
      const { store } = c;
      await store.transition('sweep1', (s) => void s.set('a', 1).setTtl(c.shortTtlMs));
      await store.transition('sweep2', (s) => void s.set('a', 1));
      await sleep(c.shortTtlMs + 1100);
      const removed = await store.sweep();
      if (!store.capabilities.nativeTtl) equal(removed, 1, 'sweep removed the expired row');
      equal(await store.get('sweep1'), null, 'gone');
      ok(await store.get('sweep2'), 'live session kept');
      if (store.capabilities.scan)
        equal((await store.list({ prefix: 'sweep' })).ids, ['sweep2'], 'list skips expired');
    }, 15_000);

    test('list pages through sessions by prefix', async ({ store }) => {
      if (!store.capabilities.scan) return;
      for (const id of ['p:1', 'p:2', 'p:3', 'q:1']) await store.transition(id, (s) => void s.set('x', 1));
      const first = await store.list({ prefix: 'p:', limit: 2 });
      equal(first.ids.length, 2, 'page size');
      const second = await store.list({ prefix: 'p:', limit: 2, cursor: first.cursor });
      equal([...first.ids, ...second.ids].sort(), ['p:1', 'p:2', 'p:3'], 'all ids with the prefix, once');
      equal(second.cursor, null, 'last page');
    });

    test('schema migrations upgrade vars on load and the upgrade is stored', async (c) => {
      await c.store.transition('m1', (s) => void s.set('fullName', 'Ann Lee').goto('n'));
      const v2 = await c.peer({
        schemaVersion: 2,
        migrations: { 1: (vars: Vars) => ({ first: String(vars.fullName).split(' ')[0] ?? '', rest: vars }) },
      });
      const loaded = await v2.get('m1');
      equal([loaded?.schema, loaded?.vars.first], [2, 'Ann'], 'migrated on load');
      await v2.transition('m1', (s) => void s.goto('m'));
      const stored = await v2.get('m1');
      equal(
        [stored?.schema, stored?.vars.first, stored?.node, stored?.prevNode],
        [2, 'Ann', 'm', 'n'],
        'stored migrated',
      );
      const v1 = await c.peer({ schemaVersion: 1 });
      let code: string | undefined;
      await v1.get('m1').catch((e: { code?: string }) => {
        code = e.code;
      });
      equal(code, 'SCHEMA_TOO_NEW', 'an older process refuses a newer session instead of corrupting it');
    });

    test('json codec and compressed bodies round-trip', async (c) => {
      const json = await c.peer({ codec: 'json', compressAbove: 64 });
      const big = 'lorem ipsum '.repeat(200);
      await json.transition(
        'c1',
        (s) => void s.set('note', big).set('emoji', 'olá 😀').remember({ dir: 'out', text: big, at: 5 }),
      );
      const got = await json.get('c1');
      equal([got?.vars.note, got?.vars.emoji, got?.history[0]?.text], [big, 'olá 😀', big], 'values survive');
      const viaMsgpack = await c.store.get('c1');
      equal(viaMsgpack?.vars.note, big, 'a store with another codec reads the same session');
    });
  });
}
