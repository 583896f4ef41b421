// Floor: the least a SQLite read-modify-write can cost in Node. One better-sqlite3 connection with
// chatstate's pragmas (WAL, synchronous=NORMAL, a 1 GiB memory map), one BEGIN IMMEDIATE transaction holding a prepared
// SELECT of the blob and an UPDATE writing it back (one byte flipped) with a new expiry. No claim,
// no lease, no codec, no chatstate. The gap between this row and chatstate SQLite is what the
// engine costs on top of the database.
import Database from 'better-sqlite3';
import { SESSION_TTL_MS } from '../lib/workload.mjs';

// The size chatstate stores for the seed session once its history is full (msgpack, "after 5
// messages" in the encoded body table), so both rows move the same bytes.
const BLOB_BYTES = 167;

export default {
  name: 'floor-sqlite',
  label: 'floor: better-sqlite3, 1 tx SELECT + UPDATE blob',
  kind: 'floor',
  peerOf: 'sqlite',

  async setup({ users, tmp }) {
    const db = new Database(tmp('floor.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('mmap_size = 1073741824'); // as the driver (sqlite.ts mmapBytes)
    db.exec('CREATE TABLE s (k TEXT PRIMARY KEY, e INTEGER, d BLOB NOT NULL) WITHOUT ROWID');
    const insert = db.prepare('INSERT INTO s (k, e, d) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const k of users) insert.run(k, Date.now() + SESSION_TTL_MS, Buffer.alloc(BLOB_BYTES, 7));
    })();
    const select = db.prepare('SELECT d FROM s WHERE k = ?');
    const update = db.prepare('UPDATE s SET e = ?, d = ? WHERE k = ?');
    const step = db.transaction((k, e) => {
      const { d } = select.get(k);
      d[0] ^= 1;
      update.run(e, d, k);
    });
    return { db, step };
  },

  async transition(ctx, userId) {
    ctx.step.immediate(userId, Date.now() + SESSION_TTL_MS);
  },

  async teardown(ctx) {
    ctx.db.close();
  },
};
