import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-session-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// SessionStore waits only on promises (src/store/maybe-promise.ts); whatever a handler returns is
// handled as `await` would handle it.
describe.each([
  ['memory', () => 'memory:'],
  ['sqlite', () => `sqlite:${join(dir, 'handlers.db')}`],
])('handler results on %s', (_name, url) => {
  it('a plain value, a promise and a thenable that is not a promise all commit with their value', async () => {
    const store = await openStore(url(), { sweepIntervalMs: 0 });
    const plain = await store.transition('u1', (s) => {
      s.set('step', 1);
      return 'plain';
    });
    const promised = await store.transition('u1', async (s) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      s.set('step', 2);
      return 'promised';
    });
    const thenable = await store.transition('u1', (s) => {
      s.set('step', 3);
      // A minimal thenable (its `then` returns nothing), as some libraries' lazy results are.
      const lazy = {
        then(resolve: (value: string) => void): void {
          resolve('thenable');
        },
      };
      return lazy as unknown as PromiseLike<string>;
    });
    expect([plain, promised, thenable].map((r) => r.status === 'committed' && r.result)).toEqual([
      'plain',
      'promised',
      'thenable',
    ]);
    expect((await store.get('u1'))?.vars).toEqual({ step: 3 });
    expect((await store.get('u1'))?.version).toBe(3);
    await store.close();
  });

  it('a handler that throws, at once or later, stores nothing and rejects with its error', async () => {
    const store = await openStore(url(), { sweepIntervalMs: 0 });
    await store.transition('u2', (s) => void s.set('kept', true));
    await expect(
      store.transition('u2', (s) => {
        s.set('kept', false);
        throw new Error('at once');
      }),
    ).rejects.toThrow('at once');
    await expect(
      store.transition('u2', async (s) => {
        s.set('kept', false);
        await Promise.resolve();
        throw new Error('later');
      }),
    ).rejects.toThrow('later');
    expect((await store.get('u2'))?.vars).toEqual({ kept: true });
    // The claim of a failed transition was not consumed: its redelivery is processed.
    await expect(
      store.transition(
        'u2',
        () => {
          throw new Error('failed');
        },
        { claim: 'wamid.F' },
      ),
    ).rejects.toThrow('failed');
    expect((await store.transition('u2', (s) => void s.set('kept', 1), { claim: 'wamid.F' })).status).toBe(
      'committed',
    );
    await store.close();
  });
});
