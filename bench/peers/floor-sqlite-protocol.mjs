// Floor: chatstate's own SQL without chatstate's JavaScript. The file and schema are made by
// chatstate (openStore + the seed transitions), then closed; this row runs the statements the
// SQLite driver runs per transition (src/store/drivers/sqlite.ts, mirrored here by hand), passing
// the stored body back with one byte flipped:
//   begin:  one SELECT (claim, lease and session together), no transaction of its own
//   commit: one BEGIN IMMEDIATE: lease check, claim check, session UPDATE (version check), claim INSERT
// chatstate SQLite minus this row = SessionStore + draft + codec + promises; this row minus
// floor-sqlite = the price of the claim and the lease check.
import Database from 'better-sqlite3';
import { openStore } from '../lib/chatstate.mjs';
import { seedUsers } from '../lib/chatstate-subject.mjs';
import { CHATSTATE_OPTIONS, CLAIM_TTL_MS, SESSION_TTL_MS } from '../lib/workload.mjs';

export default {
  name: 'floor-sqlite-protocol',
  label: "floor: chatstate's SQL, 1 read + 1 write tx, no JS layer",
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
    const q = {
      beginRead: db.prepare(
        `SELECT (SELECT e FROM cs_claims WHERE k = ?) AS ce, l.t AS lt, l.e AS le, s.v AS v, s.e AS e, s.d AS d
         FROM (SELECT 1) LEFT JOIN cs_leases l ON l.k = ? LEFT JOIN cs_sessions s ON s.k = ?`,
      ),
      claimGet: db.prepare('SELECT e FROM cs_claims WHERE k = ?'),
      claimPut: db.prepare('INSERT OR REPLACE INTO cs_claims (k, e) VALUES (?, ?)'),
      leaseGet: db.prepare('SELECT t, e FROM cs_leases WHERE k = ?'),
      sessionUpdate: db.prepare('UPDATE cs_sessions SET v = v + 1, e = ?, d = ? WHERE k = ? AND v = ?'),
    };
    const begin = (k, claimKey, now) => {
      const row = q.beginRead.get(claimKey, k, k);
      if ((row.ce ?? 0) > now) throw new Error('duplicate');
      if (row.le !== null && row.le > now) throw new Error('busy');
      return row;
    };
    const commit = db.transaction((k, claimKey, now, row) => {
      if ((q.leaseGet.get(k)?.e ?? 0) > now) throw new Error('lease held');
      if ((q.claimGet.get(claimKey)?.e ?? 0) > now) throw new Error('claimed');
      row.d[row.d.length - 1] ^= 1;
      if (q.sessionUpdate.run(now + SESSION_TTL_MS, row.d, k, row.v).changes === 0)
        throw new Error('conflict');
      q.claimPut.run(claimKey, now + CLAIM_TTL_MS);
    });
    return { db, begin, commit };
  },

  async transition(ctx, userId, msgId) {
    const now = Date.now();
    const row = ctx.begin(userId, msgId, now);
    ctx.commit.immediate(userId, msgId, Date.now(), row);
  },

  async teardown(ctx) {
    ctx.db.close();
  },
};
