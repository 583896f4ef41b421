import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest';
import { defineConformanceSuite } from '../../src/store/conformance/index.js';
import { sqliteDriver } from '../../src/store/drivers/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const paths = new WeakMap<object, string>();

// Test-side access to the file goes through a second connection, as another process would.
const withDb = <T>(path: string, fn: (db: Database.Database) => T): T => {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
};

defineConformanceSuite(
  { describe, it, beforeEach, afterEach },
  {
    name: 'sqlite',
    open: async () => {
      const path = join(dir, `case-${++n}.db`);
      const driver = sqliteDriver({ path });
      paths.set(driver, path);
      return driver;
    },
    openPeer: async (first) => {
      const driver = sqliteDriver({ path: paths.get(first) as string });
      paths.set(driver, paths.get(first) as string);
      return driver;
    },
    corrupt: async (driver, key) => {
      withDb(paths.get(driver) as string, (db) =>
        db.prepare('UPDATE cs_sessions SET d = ? WHERE k = ?').run(Buffer.from('not a session'), key),
      );
    },
    quarantined: async (driver, key) =>
      withDb(paths.get(driver) as string, (db) =>
        db
          .prepare<[string], { d: Buffer }>('SELECT d FROM cs_quarantine WHERE k = ? ORDER BY id')
          .all(key)
          .map((r) => new Uint8Array(r.d)),
      ),
  },
);
