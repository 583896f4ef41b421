// On-disk size of a closed SQLite file, read through its own better-sqlite3 connection after the
// WAL is checkpointed into the main file (so the pages counted are the pages kept).
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Live bytes (used pages), file bytes and a per-table/index breakdown when dbstat is compiled in. */
export function sqliteFileBytes(path) {
  const db = new Database(path);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true });
    const pageCount = db.pragma('page_count', { simple: true });
    const freelist = db.pragma('freelist_count', { simple: true });
    let objects = null;
    try {
      objects = Object.fromEntries(
        db
          .prepare(
            'SELECT name, SUM(pgsize) AS bytes, SUM(payload) AS payload FROM dbstat GROUP BY name ORDER BY bytes DESC',
          )
          .all()
          .map((r) => [r.name, { bytes: r.bytes, payload: r.payload }]),
      );
    } catch {
      // better-sqlite3 built without SQLITE_ENABLE_DBSTAT_VTAB: the totals still stand.
    }
    return {
      pageSize,
      pageCount,
      freelist,
      liveBytes: (pageCount - freelist) * pageSize,
      fileBytes: statSync(path).size,
      objects,
    };
  } finally {
    db.close();
  }
}

/** Average length of a column over a table (stored value size). */
export function averageLength(path, table, column) {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT AVG(LENGTH(${column})) AS n FROM ${table}`).get().n;
  } finally {
    db.close();
  }
}
