import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  type ClaimEntry,
  RECENT_CLAIMS,
  type RecentAdd,
  recentAdd,
  recentHas,
  recentLive,
  tableMayHold,
  withTableClaims,
} from './sqlite-recent-claims.js';

/**
 * Idempotency claims of the SQLite store.
 *
 * Standalone claims (`store.claim(key)`) live in `cs_claim_ids`, keyed by the first 16 bytes of the
 * SHA-256 of the claim key instead of the key itself: a WhatsApp message id is 40-70 characters,
 * and as the key about 45,000 claims took 1,026 pages against 443 with the digest
 * (bench/diag/sqlite-phases.mjs, docs/benchmarks.md). 128 bits of SHA-256 make two different keys
 * meeting on one row as unlikely as two random UUIDs colliding.
 *
 * A transition's claim belongs to its user, as on Redis and Memcached (where it carries the user's
 * hash tag): it is recorded in the user's session row (sqlite-recent-claims.ts) and, once that row
 * holds RECENT_CLAIMS, moved to `cs_user_claims`, keyed by (user, 8-byte digest), which a Bloom
 * filter in the row keeps most messages from looking up. Transition claims
 * written before that layout sit in `cs_claim_ids`; they are checked there too until the last of
 * them expires (`cs_meta` row `legacy_transition_claims_until`, set by the migration below).
 */
export interface SqliteClaims {
  /** The stored form of a standalone claim key: 16 bytes of its SHA-256 (the caller reuses it for `held` and `put`). */
  id(key: string): Buffer;
  /** True when `id` is claimed and its claim has not expired at `now`. */
  held(id: Buffer, now: number): boolean;
  put(id: Buffer, expiresAt: number): void;
  /**
   * True when `user` (a session key) has claimed `claimKey`: in its row's claims `column`, in the
   * table (looked up unless the column's filter rules it out), or before the layout.
   */
  userHeld(user: string, column: Buffer | null, claimKey: string, now: number): boolean;
  /**
   * A row's claims column with `claimKey` recorded, and the ring entries it could not hold: write
   * the column, then `move` those (nothing is written here, so a refused commit leaves no trace).
   */
  userAdd(user: string, column: Buffer | null, claimKey: string, expiresAt: number, now: number): RecentAdd;
  /** Records ring entries of `user` in the table. */
  move(user: string, entries: readonly ClaimEntry[]): void;
  /** Records a claim of a user without a session row (a transition that changed nothing). */
  userPut(user: string, claimKey: string, expiresAt: number): void;
  /** Moves every ring entry of a row's claims `column` to the table, before the row is deleted (the sweep drops expired ones). */
  keep(user: string, column: Buffer | null): void;
  /** Deletes up to `batch` expired claims of each table; true when either may hold more. */
  sweep(now: number, batch: number): boolean;
}

export const CLAIMS_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS cs_claim_ids (
  h BLOB PRIMARY KEY,
  e INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_user_claims (
  k TEXT NOT NULL,
  h BLOB NOT NULL,
  e INTEGER NOT NULL,
  PRIMARY KEY (k, h)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_meta (
  k TEXT PRIMARY KEY,
  v INTEGER
) WITHOUT ROWID;
`;

const LEGACY_UNTIL = 'legacy_transition_claims_until';

/** The digest of a claim key as stored: 16 bytes of SHA-256 over its UTF-8 form. */
export function claimId(key: string): Buffer {
  return hash('sha256', key, 'buffer').subarray(0, 16);
}

/**
 * The digest of a transition claim as its user's row and `cs_user_claims` store it: 64 bits of a
 * JavaScript string hash (the two 32-bit lanes of cyrb53, a public-domain multiply-xorshift hash).
 *
 * Why not SHA-256 here: it runs on every begin, and node:crypto cost 1.5-2 us inside a transition
 * (a cold binding call and a Buffer), this about 0.2 us. A claim digest is only compared with the
 * claims of the same user (a few hundred in a dedupe window), where two message ids sharing 64 bits
 * is about n^2 / 2^65; and the keys are provider message ids, not chosen by anyone who could gain
 * from a collision (at worst a user's own message would be taken for a duplicate).
 */
export function userClaimDigest(key: string): Buffer {
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32BE(h1 >>> 0, 0);
  out.writeUInt32BE(h2 >>> 0, 4);
  return out;
}

export function sqliteClaims(db: Database.Database): SqliteClaims {
  const get = db.prepare<[Buffer], { e: number }>('SELECT e FROM cs_claim_ids WHERE h = ?');
  const put = db.prepare<[Buffer, number]>('INSERT OR REPLACE INTO cs_claim_ids (h, e) VALUES (?, ?)');
  const userGet = db
    .prepare<[string, Buffer], number>('SELECT e FROM cs_user_claims WHERE k = ? AND h = ?')
    .pluck();
  // A user's live claims in the table, to build the filter of their row (sqlite-recent-claims.ts).
  const userLive = db
    .prepare<[string, number], Buffer>('SELECT h FROM cs_user_claims WHERE k = ? AND e > ?')
    .pluck();
  const userPut = db.prepare<[string, Buffer, number]>(
    'INSERT OR REPLACE INTO cs_user_claims (k, h, e) VALUES (?, ?, ?)',
  );
  const sweep = db.prepare<[number, number]>(
    'DELETE FROM cs_claim_ids WHERE h IN (SELECT h FROM cs_claim_ids WHERE e <= ? LIMIT ?)',
  );
  const userSweep = db.prepare<[number, number]>(
    'DELETE FROM cs_user_claims WHERE (k, h) IN (SELECT k, h FROM cs_user_claims WHERE e <= ? LIMIT ?)',
  );
  const legacyUntil =
    db.prepare<[string], { v: number }>('SELECT v FROM cs_meta WHERE k = ?').get(LEGACY_UNTIL)?.v ?? 0;
  // begin and commit of one transition ask for the same key: digest it once.
  let lastKey: string | null = null;
  let lastDigest = userClaimDigest('');
  const digest = (key: string) => {
    if (key !== lastKey) {
      lastDigest = userClaimDigest(key);
      lastKey = key;
    }
    return lastDigest;
  };
  const held = (claim: Buffer, now: number) => (get.get(claim)?.e ?? 0) > now;
  // A full row moves RECENT_CLAIMS entries at once: one statement for all of them.
  const userPutFull = db.prepare<unknown[]>(
    `INSERT OR REPLACE INTO cs_user_claims (k, h, e) VALUES ${Array(RECENT_CLAIMS).fill('(?, ?, ?)').join(', ')}`,
  );
  const moveAll = (user: string, entries: readonly ClaimEntry[]) => {
    if (entries.length === RECENT_CLAIMS) {
      userPutFull.run(...entries.flatMap((entry) => [user, entry.digest, entry.expiresAt]));
      return;
    }
    for (const entry of entries) userPut.run(user, entry.digest, entry.expiresAt);
  };
  return {
    id: claimId,
    held,
    put: (claim, expiresAt) => {
      put.run(claim, expiresAt);
    },
    userHeld(user, column, claimKey, now) {
      const d = digest(claimKey);
      if (recentHas(column, d, now)) return true;
      if (tableMayHold(column, d) && (userGet.get(user, d) ?? 0) > now) return true;
      return now < legacyUntil && held(claimId(claimKey), now);
    },
    userAdd(user, column, claimKey, expiresAt, now) {
      const added = recentAdd(column, digest(claimKey), expiresAt, now);
      if (!added.rebuild) return added;
      const digests = userLive.all(user, now);
      for (const entry of added.moved) digests.push(entry.digest);
      return { ...added, column: withTableClaims(added.column, digests) };
    },
    move: moveAll,
    userPut(user, claimKey, expiresAt) {
      userPut.run(user, digest(claimKey), expiresAt);
    },
    keep(user, column) {
      moveAll(user, recentLive(column, 0));
    },
    sweep: (now, batch) => {
      const standalone = sweep.run(now, batch).changes;
      const users = userSweep.run(now, batch).changes;
      return standalone === batch || users === batch;
    },
  };
}

/**
 * Databases written before transition claims moved into the session row: add the row's `c`
 * column, and remember until when the transition claims already in `cs_claim_ids` stay live, so a
 * redelivery of a message handled before the upgrade is still a duplicate. One write transaction;
 * safe when several processes open the file at once (the second finds the column there).
 */
export function migrateSessionClaims(db: Database.Database, now: number): void {
  const hasColumn = db.prepare("SELECT 1 FROM pragma_table_info('cs_sessions') WHERE name = 'c'");
  if (hasColumn.get()) return;
  db.transaction(() => {
    if (hasColumn.get()) return;
    db.exec('ALTER TABLE cs_sessions ADD COLUMN c BLOB');
    const until = db.prepare<[], { e: number | null }>('SELECT max(e) AS e FROM cs_claim_ids').get()?.e ?? 0;
    if (until > now)
      db.prepare('INSERT OR REPLACE INTO cs_meta (k, v) VALUES (?, ?)').run(LEGACY_UNTIL, until);
  }).immediate();
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
