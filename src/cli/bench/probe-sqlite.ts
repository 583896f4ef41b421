import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { bodyBytes, type ProbeContext, type StoreProbe } from './probe.js';

/**
 * Tables keyed by the (prefixed) user key. A transition's claims sit in its session row or in
 * cs_user_claims under the same key (sqlite-claims.ts), so they go with the prefix too.
 */
const TABLES = ['cs_sessions', 'cs_user_claims', 'cs_leases', 'cs_quarantine'] as const;

/** The file of a `sqlite:` URL, by the same path rules as store/open.ts; null for `:memory:`. */
export function sqlitePath(url: string): string | null {
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\.|\/)/, '');
  const path = decodeURIComponent(rest.split('?')[0] || './data/chatstate.db');
  return path === ':memory:' ? null : path;
}

/**
 * SQLite: bytes per session are the live pages (page_count - freelist_count, after a WAL
 * checkpoint) the seeded users added, as bench/lib/sqlite-file.mjs counts them, so B-tree
 * overhead and page fill are included. Read through a second connection on the same file.
 */
export function sqliteProbe(ctx: ProbeContext): StoreProbe {
  const path = sqlitePath(ctx.url);
  let before = 0;
  const livePages = () => {
    if (!path) return { pages: 0, pageSize: 0 };
    const db = new Database(path);
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      const pages = Number(db.pragma('page_count', { simple: true }));
      const free = Number(db.pragma('freelist_count', { simple: true }));
      return { pages: pages - free, pageSize: Number(db.pragma('page_size', { simple: true })) };
    } finally {
      db.close();
    }
  };
  return {
    medium: 'disk',
    defaultReplicas: 1,
    // Claims are stored by digest, so no key range finds them: the bench remembers each one.
    tracksClaims: false,
    async beforeSeed() {
      before = livePages().pages;
    },
    async afterSeed(ids) {
      if (!path) {
        return {
          perSession: await bodyBytes(ctx, ids),
          method: 'sqlite::memory: has no file to measure: mean encoded body of up to 100 seeded sessions',
        };
      }
      const after = livePages();
      const measured = ((after.pages - before) * after.pageSize) / ids.length;
      // Real rows are keyed by the bare user id: the bench prefix is not part of a session's cost.
      const perSession = measured - (ctx.prefix.length - ctx.defaultPrefix.length);
      return {
        perSession,
        method: `sqlite: live pages (page_count - freelist_count after a WAL checkpoint) added by ${ids.length} seeded sessions x page size / sessions, less the ${ctx.prefix.length}-byte bench prefix in each key`,
        detail: {
          pages_added: after.pages - before,
          page_size: after.pageSize,
          measured_per_session: measured,
        },
      };
    },
    async roundTrips() {
      return {
        perTransition: null,
        method:
          'sqlite: no server (SQLite runs inside this process; a transition is a read and a write transaction on the file)',
      };
    },
    async overhead() {
      return {
        factor: 1,
        why: 'sqlite: factor 1, the page count already includes B-tree page fill; the WAL file (up to about 4 MB between checkpoints) comes on top',
      };
    },
    async cleanup() {
      if (!path) return 0;
      const db = new Database(path);
      try {
        db.pragma('busy_timeout = 5000');
        // Key range [prefix, prefix + U+FFFF): every key that starts with the prefix, on the index.
        const upper = `${ctx.prefix}\uffff`;
        let deleted = 0;
        for (const table of TABLES) {
          deleted += db.prepare(`DELETE FROM ${table} WHERE k >= ? AND k < ?`).run(ctx.prefix, upper).changes;
        }
        return deleted;
      } finally {
        db.close();
      }
    },
    async afterClose() {
      // A file the bench created holds nothing else: leave no trace of it.
      if (!path || !ctx.createdFile) return;
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
    },
  };
}
