import type Database from 'better-sqlite3';
import type { OutboxEntry, OutboxUpdate } from '../contract.js';

export const OUTBOX_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS cs_outbox (
  id TEXT PRIMARY KEY,
  k TEXT NOT NULL,
  p TEXT NOT NULL,
  s TEXT NOT NULL,
  a INTEGER NOT NULL DEFAULT 0,
  pid TEXT,
  err TEXT,
  c INTEGER NOT NULL,
  u INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cs_outbox_pending ON cs_outbox (c) WHERE s = 'pending';
CREATE INDEX IF NOT EXISTS cs_outbox_user ON cs_outbox (k, c);
CREATE INDEX IF NOT EXISTS cs_outbox_pid ON cs_outbox (pid) WHERE pid IS NOT NULL;
`;

type Row = {
  id: string;
  k: string;
  p: string;
  s: string;
  a: number;
  pid: string | null;
  err: string | null;
  c: number;
  u: number;
};

const toEntry = (r: Row): OutboxEntry => ({
  id: r.id,
  user: r.k,
  payload: r.p,
  state: r.s as OutboxEntry['state'],
  attempts: r.a,
  ...(r.pid === null ? {} : { providerId: r.pid }),
  ...(r.err === null ? {} : { error: r.err }),
  createdAt: r.c,
  updatedAt: r.u,
});

/**
 * The reply outbox in the session file. Entries are inserted by the commit transaction (see
 * `insert`), so a reply exists exactly when the state change that produced it does.
 * Synchronous; sqlite.ts wraps it into the async OutboxDriver.
 */
export function sqliteOutbox(db: Database.Database) {
  db.exec(OUTBOX_SCHEMA_SQL);
  const insert = db.prepare<[string, string, string, number, number]>(
    "INSERT OR IGNORE INTO cs_outbox (id, k, p, s, c, u) VALUES (?, ?, ?, 'pending', ?, ?)",
  );
  const pending = db.prepare<[number, number], Row>(
    "SELECT * FROM cs_outbox WHERE s = 'pending' AND c < ? ORDER BY c LIMIT ?",
  );
  const update = db.prepare<[string, number | null, string | null, string | null, number, string]>(
    'UPDATE cs_outbox SET s = ?, a = COALESCE(?, a), pid = COALESCE(?, pid), err = COALESCE(?, err), u = ? WHERE id = ?',
  );
  const byPid = db.prepare<[string], Row>('SELECT * FROM cs_outbox WHERE pid = ?');
  const forUser = db.prepare<[string, number], Row>(
    'SELECT * FROM cs_outbox WHERE k = ? ORDER BY c DESC, id DESC LIMIT ?',
  );
  return {
    /** Called inside the commit transaction. */
    insert(user: string, entries: Array<{ id: string; payload: string }>, now: number): void {
      for (const e of entries) insert.run(e.id, user, e.payload, now, now);
    },
    pending: (before: number, limit: number): OutboxEntry[] => pending.all(before, limit).map(toEntry),
    update: (id: string, change: OutboxUpdate, now: number): void => {
      update.run(
        change.state,
        change.attempts ?? null,
        change.providerId ?? null,
        change.error ?? null,
        now,
        id,
      );
    },
    byProviderId: (providerId: string): OutboxEntry | null => {
      const row = byPid.get(providerId);
      return row ? toEntry(row) : null;
    },
    forUser: (user: string, limit: number): OutboxEntry[] => forUser.all(user, limit).map(toEntry),
  };
}
