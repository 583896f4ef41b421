/**
 * Tables of the SQLite store. WITHOUT ROWID keeps each session in one B-tree keyed by the user id
 * (no second rowid index), which is most of why a stored session costs under 180 bytes on disk.
 * Times are milliseconds since the epoch; `e` is NULL for sessions that never expire. `c` holds the
 * user's recent transition claims (sqlite-recent-claims.ts), NULL until the first.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS cs_sessions (
  k TEXT PRIMARY KEY,
  v INTEGER NOT NULL,
  e INTEGER,
  d BLOB NOT NULL,
  c BLOB
) WITHOUT ROWID;
-- No index on e: every write renews the TTL, and moving an index entry per commit cost about 10 us
-- and 26 bytes per session (measured). The sweeper walks the primary key in batches instead.
DROP INDEX IF EXISTS cs_sessions_expiry;
-- Claims: a transition's in its session row (c) and cs_user_claims, standalone ones in cs_claim_ids (sqlite-claims.ts).
CREATE TABLE IF NOT EXISTS cs_leases (
  k TEXT PRIMARY KEY,
  t INTEGER NOT NULL,
  e INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_quarantine (
  id INTEGER PRIMARY KEY,
  k TEXT NOT NULL,
  d BLOB NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);
`;
