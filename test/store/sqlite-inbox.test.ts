import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/store/drivers/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-inbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The driver prepares one statement per peek limit for the first few limits and binds the limit
// beyond them: every limit must give the same answer.
it('peeks the oldest entries up to any limit, with cached and bound limits alike', async () => {
  const driver = sqliteDriver({ path: join(dir, 'inbox.db') });
  const inbox = driver.inbox;
  if (!inbox) throw new Error('the sqlite driver has an inbox');
  const entries = Array.from({ length: 20 }, (_, i) => ({
    id: `m${i}`,
    user: 'u',
    at: 1000 + ((i * 7) % 20),
    payload: `p${i}`,
  }));
  await inbox.add(entries, 1);
  const oldest = [...entries].sort((a, b) => a.at - b.at).map((e) => e.id);
  for (let limit = 1; limit <= 25; limit++) {
    const peeked = await inbox.peek('u', limit);
    expect(peeked.map((e) => e.id)).toEqual(oldest.slice(0, limit));
  }
  expect(await inbox.peek('nobody', 3)).toEqual([]);
  await driver.close();
});
