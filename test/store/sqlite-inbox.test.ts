import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/store/drivers/sqlite.js';
import { schemaNames } from '../support/sqlite-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-inbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `inbox-${++n}.db`);
const indexes = (path: string) => schemaNames(path, 'index', 'cs_inbox');

describe('sqlite inbox layout', () => {
  it('keeps one index besides the table: (user, message id)', async () => {
    const path = file();
    const driver = sqliteDriver({ path });
    const inbox = driver.inbox;
    if (!inbox) throw new Error('the sqlite driver has an inbox');
    const now = Date.now();
    expect(
      await inbox.add(
        [
          { id: 'b', user: 'u1', at: 2000, payload: 'B' },
          { id: 'a', user: 'u1', at: 1000, payload: 'A' },
          { id: 'c', user: 'u2', at: 1500, payload: 'C' },
          { id: 'a', user: 'u1', at: 1000, payload: 'A again' },
        ],
        now,
      ),
    ).toBe(3);
    // Processing order is the provider timestamp, then arrival.
    expect((await inbox.peek('u1', 10)).map((e) => e.payload)).toEqual(['A', 'B']);
    // Users by their oldest entry's arrival, each once.
    expect(await inbox.users(now + 1, 10)).toEqual(['u1', 'u2']);
    expect(await inbox.users(now + 1, 1)).toEqual(['u1']);
    expect(await inbox.users(now, 10)).toEqual([]);
    await inbox.remove('u1', ['b']);
    expect((await inbox.peek('u1', 10)).map((e) => e.id)).toEqual(['a']);
    await driver.close();
    expect(indexes(path)).toEqual(['cs_inbox_user_id']);
  });

  it('rebuilds an inbox written with the three-B-tree layout once, keeping its entries in order', async () => {
    const path = file();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE cs_inbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, k TEXT NOT NULL,
        at INTEGER NOT NULL, added INTEGER NOT NULL, p TEXT NOT NULL);
      CREATE INDEX cs_inbox_user ON cs_inbox (k, at, seq);
    `);
    const put = old.prepare('INSERT INTO cs_inbox (id, k, at, added, p) VALUES (?, ?, ?, ?, ?)');
    put.run('m1', 'u1', 1000, 1, 'first');
    put.run('m2', 'u2', 1000, 2, 'other');
    put.run('m3', 'u1', 1000, 3, 'second, same second');
    old.close();

    const driver = sqliteDriver({ path });
    const inbox = driver.inbox;
    if (!inbox) throw new Error('the sqlite driver has an inbox');
    expect((await inbox.peek('u1', 10)).map((e) => e.payload)).toEqual(['first', 'second, same second']);
    expect(await inbox.users(10, 10)).toEqual(['u1', 'u2']);
    // The redelivery of an entry that was moved is still recognised.
    expect(await inbox.add([{ id: 'm1', user: 'u1', at: 1000, payload: 'again' }], 4)).toBe(0);
    await driver.close();
    expect(indexes(path)).toEqual(['cs_inbox_user_id']);
    // A second open finds nothing to migrate and loses nothing.
    const again = sqliteDriver({ path });
    expect((await again.inbox?.peek('u2', 10))?.map((e) => e.payload)).toEqual(['other']);
    await again.close();
  });
  // The driver prepares one statement per peek limit for the first few limits and binds the limit
  // beyond them: every limit must give the same answer.
  it('peeks the oldest entries up to any limit, with cached and bound limits alike', async () => {
    const driver = sqliteDriver({ path: file() });
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
});
