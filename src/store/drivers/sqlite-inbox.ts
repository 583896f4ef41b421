import type Database from 'better-sqlite3';
import type { InboxEntry } from '../contract.js';

export const INBOX_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS cs_inbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  k TEXT NOT NULL,
  at INTEGER NOT NULL,
  added INTEGER NOT NULL,
  p TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cs_inbox_user ON cs_inbox (k, at, seq);
`;

type Row = { id: string; k: string; at: number; p: string };

/**
 * The webhook inbox in the same SQLite file as the sessions: one INSERT per message. Synchronous,
 * like every better-sqlite3 call; sqlite.ts runs the writes inside its turn transaction
 * (sqlite-turn.ts, so the deliveries of one event-loop turn share one WAL append) and wraps them
 * into the async InboxDriver.
 */
export function sqliteInbox(db: Database.Database) {
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
  const users = db.prepare<[number, number], { k: string }>(
    'SELECT k FROM cs_inbox GROUP BY k HAVING MIN(added) < ? ORDER BY MIN(added) LIMIT ?',
  );
  return {
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
    users: (before: number, limit: number): string[] => users.all(before, limit).map((r) => r.k),
  };
}
