// Seeds N sessions in a chatstate SQLite file fast: one session is written through the real store
// first, then its exact row (version, expiry, encoded body) is copied under N-1 more user ids by one
// INSERT … SELECT over a recursive counter, in one transaction. Writing 1M sessions through
// store.transition would take minutes; the copy takes seconds and stores the same bytes.
import Database from 'better-sqlite3';
import { uidAt } from './users.mjs';

/**
 * Copies the cs_sessions row of uidAt(0) to uidAt(1) … uidAt(n - 1). The store must be closed (so no
 * write is in flight); the WAL is checkpointed into the main file afterwards. Keys are inserted in
 * ascending order, so the B-tree pages come out fuller than after random-order inserts in production.
 */
export function copySessionRow(path, n) {
  const db = new Database(path);
  try {
    const row = db.prepare('SELECT v, e, d FROM cs_sessions WHERE k = ?').get(uidAt(0));
    if (!row)
      throw new Error(
        `${path}: no cs_sessions row for ${uidAt(0)}; the SQLite driver's table layout changed, update bench/scale/seed-sqlite.mjs`,
      );
    if (n > 1) {
      // The base id is bound as a BigInt: a JS number binds as REAL and CAST would give "….0" keys.
      const insert = db.prepare(
        `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
         INSERT INTO cs_sessions (k, v, e, d) SELECT CAST(? + i AS TEXT), ?, ?, ? FROM seq`,
      );
      db.transaction(() => insert.run(n - 1, BigInt(uidAt(0)), row.v, row.e, row.d))();
    }
    const count = db.prepare('SELECT COUNT(*) AS c FROM cs_sessions').get().c;
    if (count !== n) throw new Error(`${path}: ${count} sessions after seeding, expected ${n}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { bodyBytes: row.d.length };
  } finally {
    db.close();
  }
}

/** The floor's table (bench/peers/floor-sqlite.mjs) filled the same way: one row copied N-1 times. */
export function copyFloorRow(db, n) {
  const row = db.prepare('SELECT e, d FROM s WHERE k = ?').get(uidAt(0));
  if (!row) throw new Error(`floor table has no row for ${uidAt(0)}`);
  const insert = db.prepare(
    `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
     INSERT INTO s (k, e, d) SELECT CAST(? + i AS TEXT), ?, ? FROM seq`,
  );
  if (n > 1) db.transaction(() => insert.run(n - 1, BigInt(uidAt(0)), row.e, row.d))();
  const count = db.prepare('SELECT COUNT(*) AS c FROM s').get().c;
  if (count !== n) throw new Error(`floor table: ${count} rows after seeding, expected ${n}`);
  db.pragma('wal_checkpoint(TRUNCATE)');
}
