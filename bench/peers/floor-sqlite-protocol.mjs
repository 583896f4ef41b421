// Floor: chatstate's own SQL without chatstate's JavaScript. The file and schema are made by
// chatstate (openStore + the seed transitions), then closed; this row runs the statements the
// SQLite driver runs per transition one at a time (src/store/drivers/sqlite.ts, mirrored here by
// hand), passing the stored body back with one byte flipped, all in one BEGIN IMMEDIATE … COMMIT
// (the driver's turn transaction, sqlite-turn.ts): session SELECT, claim check (8-byte digest of
// the message id in the row's recent claims, then cs_user_claims unless the row's filter rules it
// out: sqlite-claims.ts, sqlite-recent-claims.ts), lease check; session UPDATE with the claim added
// to the row (version check), and every fourth time per user the row's claims moved to
// cs_user_claims (and the filter built from the table when the row needs it).
// Checkpoints run inline here, as in SQLite's default.
// chatstate SQLite minus this row = SessionStore + draft + codec + promises; this row minus
// floor-sqlite = the price of the claim and the lease check.
import Database from 'better-sqlite3';
import { openStore } from '../lib/chatstate.mjs';
import { seedUsers } from '../lib/chatstate-subject.mjs';
import { CHATSTATE_OPTIONS, CLAIM_TTL_MS, SESSION_TTL_MS } from '../lib/workload.mjs';

// Internal to the driver, not exported by the package: the floor mirrors the driver's statements.
const { userClaimDigest } = await import(
  new URL('../../dist/store/drivers/sqlite-claims.js', import.meta.url).href
);
const { recentAdd, recentHas, tableMayHold, withTableClaims } = await import(
  new URL('../../dist/store/drivers/sqlite-recent-claims.js', import.meta.url).href
);

export default {
  name: 'floor-sqlite-protocol',
  label: "floor: chatstate's SQL, 1 write tx, no JS layer",
  kind: 'floor',
  peerOf: 'sqlite',

  async setup({ users, tmp }) {
    const path = tmp('floor-protocol.db');
    const store = await openStore(`sqlite:${path}`, CHATSTATE_OPTIONS);
    await seedUsers(store, users, { lease: true });
    await store.close();

    const db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('mmap_size = 1073741824'); // as the driver (sqlite.ts mmapBytes)
    const q = {
      claimGet: db.prepare('SELECT e FROM cs_user_claims WHERE k = ? AND h = ?'),
      claimPut: db.prepare('INSERT OR REPLACE INTO cs_user_claims (k, h, e) VALUES (?, ?, ?)'),
      claimsLive: db.prepare('SELECT h FROM cs_user_claims WHERE k = ? AND e > ?').pluck(),
      leaseGet: db.prepare('SELECT t, e FROM cs_leases WHERE k = ?'),
      sessionGet: db.prepare('SELECT v, e, d, c FROM cs_sessions WHERE k = ?'),
      sessionUpdate: db.prepare(
        'UPDATE cs_sessions SET v = v + 1, e = ?, d = ?, c = ? WHERE k = ? AND v = ?',
      ),
    };
    const step = db.transaction((k, claimKey, now) => {
      const claim = userClaimDigest(claimKey);
      const row = q.sessionGet.get(k);
      if (
        recentHas(row.c, claim, now) ||
        (tableMayHold(row.c, claim) && (q.claimGet.get(k, claim)?.e ?? 0) > now)
      )
        throw new Error('duplicate');
      if ((q.leaseGet.get(k)?.e ?? 0) > now) throw new Error('busy');
      row.d[row.d.length - 1] ^= 1;
      const added = recentAdd(row.c, claim, now + CLAIM_TTL_MS, now);
      const column = added.rebuild
        ? withTableClaims(added.column, [...q.claimsLive.all(k, now), ...added.moved.map((e) => e.digest)])
        : added.column;
      if (q.sessionUpdate.run(now + SESSION_TTL_MS, row.d, column, k, row.v).changes === 0)
        throw new Error('conflict');
      for (const entry of added.moved) q.claimPut.run(k, entry.digest, entry.expiresAt);
    });
    return { db, step };
  },

  async transition(ctx, userId, msgId) {
    ctx.step.immediate(userId, msgId, Date.now());
  },

  async teardown(ctx) {
    ctx.db.close();
  },
};
