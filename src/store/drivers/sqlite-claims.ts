import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * Idempotency claims of the SQLite store, keyed by the first 16 bytes of the SHA-256 of the claim
 * key instead of the key itself.
 *
 * Claims outnumber sessions: the webhook runtime keeps one per message for the whole dedupe window
 * (7 days by default), and every transition inserts one at a random place in their B-tree. A
 * WhatsApp message id is 40-70 characters; as the key, about 45,000 claims took 1,026 pages, against
 * 443 with the 16-byte digest (bench/diag/sqlite-phases.mjs, docs/benchmarks.md), so the table
 * that grows fastest is 2.3x denser, more of it stays in the page cache, and a transition's claim
 * insert splits pages less often. 128 bits of SHA-256 make two different keys meeting on one row
 * as unlikely as two random UUIDs colliding (about n / 2^128 per claim with n claims stored).
 */
export interface SqliteClaims {
  /** The stored form of a claim key (computed once per key and reused by get and put). */
  id(key: string): Buffer;
  /** True when `id` is claimed and its claim has not expired at `now`. */
  held(id: Buffer, now: number): boolean;
  put(id: Buffer, expiresAt: number): void;
  /** Deletes up to `batch` expired claims; returns how many. */
  sweep(now: number, batch: number): number;
}

export const CLAIMS_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS cs_claim_ids (
  h BLOB PRIMARY KEY,
  e INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** The digest of a claim key as stored: 16 bytes of SHA-256 over its UTF-8 form. */
export function claimId(key: string): Buffer {
  return hash('sha256', key, 'buffer').subarray(0, 16);
}

export function sqliteClaims(db: Database.Database): SqliteClaims {
  const get = db.prepare<[Buffer], { e: number }>('SELECT e FROM cs_claim_ids WHERE h = ?');
  const put = db.prepare<[Buffer, number]>('INSERT OR REPLACE INTO cs_claim_ids (h, e) VALUES (?, ?)');
  const sweep = db.prepare<[number, number]>(
    'DELETE FROM cs_claim_ids WHERE h IN (SELECT h FROM cs_claim_ids WHERE e <= ? LIMIT ?)',
  );
  // begin and commit of one transition ask for the same key: hash it once.
  let lastKey = '';
  let lastId = claimId('');
  return {
    id(key) {
      if (key !== lastKey) {
        lastId = claimId(key);
        lastKey = key;
      }
      return lastId;
    },
    held: (id, now) => (get.get(id)?.e ?? 0) > now,
    put: (id, expiresAt) => {
      put.run(id, expiresAt);
    },
    sweep: (now, batch) => sweep.run(now, batch).changes,
  };
}

/**
 * Databases written before claims were hashed keep them in `cs_claims` (the key as text): move the
 * unexpired ones into `cs_claim_ids` and drop the old table, in one write transaction, so an
 * upgrade neither forgets a claim nor leaves two tables to check. Safe when several processes open
 * the file at once: the second finds the old table gone.
 */
export function migrateTextClaims(db: Database.Database, now: number): void {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cs_claims'");
  if (!exists.get()) return;
  db.transaction(() => {
    if (!exists.get()) return;
    const put = db.prepare<[Buffer, number]>('INSERT OR REPLACE INTO cs_claim_ids (h, e) VALUES (?, ?)');
    // In key order and in batches: a week of claims can be millions of rows.
    const rows = db.prepare<[string, number], { k: string; e: number }>(
      'SELECT k, e FROM cs_claims WHERE k > ? AND e > ? ORDER BY k LIMIT 10000',
    );
    for (let after = ''; ; ) {
      const batch = rows.all(after, now);
      for (const row of batch) put.run(claimId(row.k), row.e);
      const last = batch.at(-1);
      if (batch.length < 10000 || !last) break;
      after = last.k;
    }
    db.exec('DROP TABLE cs_claims');
  }).immediate();
}
