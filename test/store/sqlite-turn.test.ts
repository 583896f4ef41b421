import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatstateError } from '../../src/errors.js';
import { sqliteTurn } from '../../src/store/drivers/sqlite-turn.js';
import { openStore } from '../../src/store/open.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-turn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A WAL database with one table, its turn, and a second connection that reads as another process would. */
function setup(schema = 'CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)') {
  const path = join(dir, `turn-${++n}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(schema);
  const turn = sqliteTurn(db, path, (error) => error);
  const other = new Database(path, { readonly: true });
  const committed = () => other.prepare('SELECT k, v FROM t ORDER BY k').all() as { k: string; v: number }[];
  const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  const put = (k: string, v: number) => () => insert.run(k, v).changes;
  const close = () => {
    turn.close();
    other.close();
    db.close();
  };
  return { db, turn, committed, put, close, path };
}

/** A turn whose COMMIT fails: `orphan` inserts a row whose deferred foreign key COMMIT checks. */
function setupFailingCommit() {
  const parts = setup(`
    CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
    CREATE TABLE child (p TEXT REFERENCES t (k) DEFERRABLE INITIALLY DEFERRED);`);
  parts.db.pragma('foreign_keys = ON');
  const insert = parts.db.prepare("INSERT INTO child (p) VALUES ('nobody')");
  return { ...parts, orphan: () => insert.run() };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('sqlite turn transaction', () => {
  it('writes of one turn share one transaction and resolve only after its COMMIT', async () => {
    const { db, turn, committed, put, close } = setup();
    const settled: string[] = [];
    const a = Promise.resolve(turn.write(put('a', 1))).then(() => settled.push('a'));
    const b = Promise.resolve(turn.write(put('b', 2))).then(() => settled.push('b'));
    expect(db.inTransaction).toBe(true);
    await Promise.resolve();
    expect(settled).toEqual([]);
    expect(committed()).toEqual([]);
    await Promise.all([a, b]);
    expect(settled).toEqual(['a', 'b']);
    expect(db.inTransaction).toBe(false);
    expect(committed()).toEqual([
      { k: 'a', v: 1 },
      { k: 'b', v: 2 },
    ]);
    close();
  });

  it('commits at once when a write closes the last open unit, and waits for the other units otherwise', async () => {
    const { db, turn, committed, put, close } = setup();
    turn.open(
      'u1',
      () => null,
      () => true,
    );
    turn.open(
      'u2',
      () => null,
      () => true,
    );
    const first = turn.write(put('a', 1), 'u1');
    expect(db.inTransaction).toBe(true);
    expect(first).toBeInstanceOf(Promise);
    // The write that commits returns its value itself; the one that waited resolves with the COMMIT.
    const second = turn.write(put('b', 2), 'u2');
    expect(second).toBe(1);
    expect(db.inTransaction).toBe(false);
    expect(committed()).toHaveLength(2);
    await expect(first).resolves.toBe(1);
    close();
  });

  it('a write that commits at once throws when its COMMIT fails, and the writes it carried reject', async () => {
    const { db, turn, committed, put, close, orphan } = setupFailingCommit();
    turn.open(
      'u1',
      () => null,
      () => true,
    );
    const carried = turn.write(put('a', 1));
    expect(() => turn.write(orphan, 'u1')).toThrow(/FOREIGN KEY/);
    await expect(carried).rejects.toThrow(/FOREIGN KEY/);
    expect(db.inTransaction).toBe(false);
    expect(committed()).toEqual([]);
    close();
  });

  it('ends the turn at once when an opened unit will not commit (a duplicate or busy begin)', () => {
    const { db, turn, close } = setup();
    turn.open(
      'u1',
      () => 'duplicate',
      (r) => r !== 'duplicate',
    );
    expect(db.inTransaction).toBe(false);
    close();
  });

  it('commits a unit left open (its handler threw or awaits I/O) at the end of the turn', async () => {
    const { db, turn, committed, put, close } = setup();
    turn.open(
      'u1',
      () => null,
      () => true,
    );
    const other = turn.write(put('a', 1));
    expect(db.inTransaction).toBe(true);
    await nextTurn();
    expect(db.inTransaction).toBe(false);
    await other;
    expect(committed()).toEqual([{ k: 'a', v: 1 }]);
    // The unit's commit, a turn later, runs in a transaction of its own.
    await turn.write(put('b', 2), 'u1');
    expect(committed()).toHaveLength(2);
    close();
  });

  it('a read that a write will follow opens the turn, and the turn commits at its end', async () => {
    const { db, turn, close } = setup();
    expect(turn.join(() => db.prepare('SELECT count(*) AS n FROM t').get())).toEqual({ n: 0 });
    expect(db.inTransaction).toBe(true);
    await nextTurn();
    expect(db.inTransaction).toBe(false);
    close();
  });

  it('rolls the whole turn back when a write throws: the others reject with STORE_UNAVAILABLE', async () => {
    const { turn, committed, put, close } = setup();
    const ok = turn.write(put('a', 1));
    expect(() => turn.write(put('a', 2))).toThrow(/UNIQUE/);
    await expect(ok).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(ok).rejects.toBeInstanceOf(ChatstateError);
    expect(committed()).toEqual([]);
    // The next write starts a fresh transaction.
    await turn.write(put('c', 3));
    expect(committed()).toEqual([{ k: 'c', v: 3 }]);
    close();
  });

  it('rejects every write of the turn when its COMMIT fails, and applies none', async () => {
    const { db, turn, committed, put, close, orphan } = setupFailingCommit();
    const a = turn.write(put('a', 1));
    const b = turn.write(orphan);
    await expect(a).rejects.toThrow(/FOREIGN KEY/);
    await expect(b).rejects.toThrow(/FOREIGN KEY/);
    expect(db.inTransaction).toBe(false);
    expect(committed()).toEqual([]);
    close();
  });

  it('commits every call at once while a second connection of this thread shares the file', async () => {
    const first = setup();
    const second = new Database(first.path);
    const secondTurn = sqliteTurn(second, first.path, (error) => error);
    const write = first.turn.write(first.put('a', 1));
    expect(first.db.inTransaction).toBe(false);
    await write;
    // The second connection can write at once: nothing holds the lock across turns.
    await secondTurn.write(() => second.prepare("INSERT INTO t (k, v) VALUES ('b', 2)").run());
    secondTurn.close();
    second.close();
    // Alone again: writes share the turn's transaction again.
    const again = first.turn.write(first.put('c', 3));
    expect(first.db.inTransaction).toBe(true);
    await again;
    expect(first.committed()).toHaveLength(3);
    first.close();
  });

  it("hands a unit's note to its commit only when nothing else wrote in the transaction since its open", async () => {
    const { turn, put, close } = setup();
    const seen: unknown[] = [];
    turn.open(
      'u1',
      () => null,
      () => true,
      'note-1',
    );
    await turn.write((quiet) => seen.push(quiet), 'u1');
    turn.open(
      'u1',
      () => null,
      () => true,
      'note-2',
    );
    turn.open(
      'u2',
      () => null,
      () => true,
      'note-3',
    );
    const writes = [turn.write((quiet) => seen.push(quiet), 'u1')];
    writes.push(turn.write(put('a', 1)));
    writes.push(turn.write((quiet) => seen.push(quiet), 'u2'));
    await Promise.all(writes);
    // A read joining the transaction is not a write: the note survives it.
    turn.open(
      'u3',
      () => null,
      () => true,
      'note-4',
    );
    turn.join(() => null);
    await turn.write((quiet) => seen.push(quiet), 'u3');
    expect(seen).toEqual(['note-1', undefined, undefined, 'note-4']);
    close();
  });
});

describe('sqlite store: transitions and the turn transaction', () => {
  /** WAL frames written so far (checkpoints inline, and none due below 1,000 frames). */
  const walFrames = (path: string) => Math.max(0, (statSync(`${path}-wal`).size - 32) / (24 + 4096));

  it('transitions started in one tick share one COMMIT; one alone commits within its call', async () => {
    const path = join(dir, `store-${++n}.db`);
    const store = await openStore(`sqlite:${path}?checkpoint=inline`, { sweepIntervalMs: 0 });
    const users = Array.from({ length: 64 }, (_, i) => `u${i}`);
    const step = (s: { incr(key: 'retries'): number }) => void s.incr('retries');
    for (const user of users) await store.transition(user, step);
    let before = walFrames(path);
    await store.transition('u0', step);
    // One COMMIT of its own: the session's page.
    expect(walFrames(path) - before).toBe(1);
    before = walFrames(path);
    const results = await Promise.all(users.map((user) => store.transition(user, step)));
    expect(results.every((r) => r.status === 'committed')).toBe(true);
    // 64 sessions sit on a few pages: one COMMIT writes each of them once, 64 COMMITs would write 64 or more.
    expect(walFrames(path) - before).toBeLessThan(16);
    await store.close();
  });
});
