import { equal, ok, rejects } from './assert.js';
import type { CaseContext } from './context.js';
import type { SuiteApi } from './types.js';

type Case = (name: string, fn: (c: CaseContext) => Promise<void>, timeoutMs?: number) => void;

/** The store's outbox, or null for a driver without one; a driver that claims one must have it. */
function outboxOf(c: CaseContext) {
  if (!c.store.outbox) {
    ok(
      !c.driver.capabilities.outbox,
      `capabilities.outbox is true but ${c.driver.name} has no driver.outbox`,
    );
    return null;
  }
  ok(c.driver.capabilities.outbox === true, `${c.driver.name} has driver.outbox: set capabilities.outbox`);
  return c.store.outbox;
}

/** Replies committed with the state (drivers with `outbox`). */
export function outboxCases(api: SuiteApi, test: Case): void {
  api.describe('outbox', () => {
    test('replies are committed with the state change and tracked until delivered', async (c) => {
      const { store } = c;
      const outbox = outboxOf(c);
      if (!outbox) return;
      const result = await store.transition('o1', (s) => {
        s.goto('ask_email');
        s.send({ text: 'first' }).send({ text: 'second' });
      });
      ok(result.status === 'committed', 'committed');
      equal(
        result.replies.map((r) => r.envelope),
        [{ text: 'first' }, { text: 'second' }],
        'replies returned in order',
      );
      ok(
        result.replies.every((r) => r.durable),
        'durable',
      );
      const [first, second] = result.replies;
      ok(first && second && first.id !== second.id, 'distinct ids');
      const pending = await outbox.pending(-1000);
      equal(
        pending.map((e) => [e.id, e.userId, JSON.parse(e.payload).text, e.state]),
        [
          [first.id, 'o1', 'first', 'pending'],
          [second.id, 'o1', 'second', 'pending'],
        ],
        'pending entries in order',
      );
      await outbox.update(first.id, { state: 'sent', attempts: 1, providerId: 'wamid.OUT1' });
      equal((await outbox.byProviderId('wamid.OUT1'))?.id, first.id, 'found by provider id');
      await outbox.update(first.id, { state: 'read' });
      await outbox.update(second.id, { state: 'failed', attempts: 3, error: '131026: undeliverable' });
      equal((await outbox.pending(-1000)).length, 0, 'nothing pending');
      const mine = await outbox.forUser('o1');
      equal(
        mine.map((e) => [e.state, e.attempts, e.providerId ?? null, e.error ?? null]).sort(),
        [
          ['failed', 3, null, '131026: undeliverable'],
          ['read', 1, 'wamid.OUT1', null],
        ],
        'delivery state per entry',
      );
    });

    test('a reply alone is a change, and a failed transition records no reply', async (c) => {
      const { store } = c;
      const outbox = outboxOf(c);
      if (!outbox) return;
      const only = await store.transition('o2', (s) => void s.send({ text: 'hello' }));
      equal(only.status, 'committed', 'a reply alone commits');
      await rejects(
        store.transition(
          'o2',
          (s) => void s.send({ text: 'lost' }).set('big', 'x'.repeat(store.options.maxBytes + 1)),
        ),
        'SESSION_TOO_LARGE',
        'oversized',
      );
      await store
        .transition('o2', (s) => {
          s.send({ text: 'never' });
          throw new Error('handler failed');
        })
        .catch(() => {});
      equal(
        (await outbox.forUser('o2')).map((e) => JSON.parse(e.payload).text),
        ['hello'],
        'only the committed reply',
      );
    });
  });
}
