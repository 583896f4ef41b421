import type Database from 'better-sqlite3';
import type { InboxEntry } from '../contract.js';

// Two B-trees: the table, appended at its rightmost page (seq), and one index on (user, message
// id) that finds a user's entries, drops a redelivered id and removes a processed one. Every extra
// index is one more random page in every group commit's WAL append: the former UNIQUE(id) and
// (k, at, seq) indexes made each recorded message touch three pages (migrateInbox below).
export const INBOX_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS cs_inbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  k TEXT NOT NULL,
  at INTEGER NOT NULL,
  added INTEGER NOT NULL,
  p TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS cs_inbox_user_id ON cs_inbox (k, id);
CREATE TABLE IF NOT EXISTS cs_inbox_log (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  k TEXT NOT NULL,
  at INTEGER NOT NULL,
  added INTEGER NOT NULL,
  p TEXT NOT NULL
);
`;

/** Log rows moved into the inbox per `absorb`: bounds the write transaction a worker's poll holds. */
const ABSORB_BATCH = 20_000;

/**
 * Files written before the two-B-tree layout have `UNIQUE(id)` and a `cs_inbox_user` index: the
 * table is rebuilt (entries kept, in their order) once, at open, in one write transaction.
 */
export function migrateInbox(db: Database.Database): void {
  const old = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'cs_inbox_user'");
  if (!old.get()) return;
  db.transaction(() => {
    if (!old.get()) return; // another process migrated it first
    db.exec(`
      ALTER TABLE cs_inbox RENAME TO cs_inbox_old;
      DROP INDEX cs_inbox_user;
      ${INBOX_SCHEMA_SQL}
      INSERT OR IGNORE INTO cs_inbox (seq, id, k, at, added, p)
        SELECT seq, id, k, at, added, p FROM cs_inbox_old ORDER BY seq;
      DROP TABLE cs_inbox_old;
    `);
  }).immediate();
}

type Row = { id: string; k: string; at: number; p: string };

/**
 * The webhook inbox in the same SQLite file as the sessions: one INSERT per message. Synchronous,
 * like every better-sqlite3 call; sqlite.ts runs the writes inside its turn transaction
 * (sqlite-turn.ts, so the deliveries of one event-loop turn share one WAL append) and wraps them
 * into the async InboxDriver.
 */
export function sqliteInbox(db: Database.Database) {
  migrateInbox(db);
  db.exec(INBOX_SCHEMA_SQL);
  const insert = db.prepare<[string, string, number, number, string]>(
    'INSERT OR IGNORE INTO cs_inbox (id, k, at, added, p) VALUES (?, ?, ?, ?, ?)',
  );
  // The limit is written into the statement, one statement per limit: with `LIMIT ?` the same
  // lookup measured 7 us instead of 1.8 us.
  const peeks = new Map<number, Database.Statement<[string], Row>>();
  const peekStatement = (limit: number) => {
    let statement = peeks.get(limit);
    if (!statement) {
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new TypeError('peek limit must be a positive integer');
      statement = db.prepare<[string], Row>(
        `SELECT id, k, at, p FROM cs_inbox WHERE k = ? ORDER BY at, seq LIMIT ${limit}`,
      );
      peeks.set(limit, statement);
    }
    return statement;
  };
  const remove = db.prepare<[string, string]>('DELETE FROM cs_inbox WHERE k = ? AND id = ?');
  // Oldest first by arrival (seq): a user's first row in that order is their oldest entry, so
  // reading rows until `limit` distinct users are seen answers the query without a GROUP BY over
  // the whole inbox and without an index on `added` (one more page per write).
  const oldest = db.prepare<[number], { k: string }>('SELECT k FROM cs_inbox WHERE added < ? ORDER BY seq');
  const users = (before: number, limit: number): string[] => {
    const seen = new Set<string>();
    for (const row of oldest.iterate(before)) {
      seen.add(row.k);
      if (seen.size >= limit) break;
    }
    return [...seen];
  };
  // The append-only log (`append`, for processes that only record: the ingest role). Its table has
  // no index, so an append writes the table's last page and nothing else: no random index page per
  // message in every group commit's WAL append, whatever the backlog (docs/webhook-runtime.md,
  // "Roles"). `absorb` moves the rows into the inbox in arrival order, in one write transaction,
  // dropping ids the inbox already holds, as `add` would have.
  const append = db.prepare<[string, string, number, number, string]>(
    'INSERT INTO cs_inbox_log (id, k, at, added, p) VALUES (?, ?, ?, ?, ?)',
  );
  const logUpTo = db.prepare<[], { seq: number }>(
    `SELECT seq FROM cs_inbox_log ORDER BY seq LIMIT 1 OFFSET ${ABSORB_BATCH - 1}`,
  );
  const logLast = db.prepare<[], { seq: number }>('SELECT seq FROM cs_inbox_log ORDER BY seq DESC LIMIT 1');
  const absorbRows = db.prepare<[number]>(
    'INSERT OR IGNORE INTO cs_inbox (id, k, at, added, p) SELECT id, k, at, added, p FROM cs_inbox_log WHERE seq <= ? ORDER BY seq',
  );
  const dropLog = db.prepare<[number]>('DELETE FROM cs_inbox_log WHERE seq <= ?');
  return {
    append: (entries: InboxEntry[], now: number): number => {
      for (const e of entries) append.run(e.id, e.user, e.at, now, e.payload);
      return entries.length;
    },
    /** True when the log holds rows for `absorb` (a read of one page; no write lock). */
    logged: (): boolean => logLast.get() !== undefined,
    /** Moves up to ABSORB_BATCH log rows into the inbox; inside the caller's write transaction. */
    absorb: (): number => {
      const upTo = (logUpTo.get() ?? logLast.get())?.seq;
      if (upTo === undefined) return 0;
      const moved = absorbRows.run(upTo).changes;
      dropLog.run(upTo);
      return moved;
    },
    add: (entries: InboxEntry[], now: number): number => {
      let added = 0;
      for (const e of entries) added += insert.run(e.id, e.user, e.at, now, e.payload).changes;
      return added;
    },
    peek: (user: string, limit: number): InboxEntry[] =>
      peekStatement(limit)
        .all(user)
        .map((r) => ({ id: r.id, user: r.k, at: r.at, payload: r.p })),
    remove: (user: string, ids: string[]): void => {
      for (const id of ids) remove.run(user, id);
    },
    /** One entry, inside the caller's transaction (the commit that processed it). */
    removeOne: (user: string, id: string): void => void remove.run(user, id),
    users,
  };
}
