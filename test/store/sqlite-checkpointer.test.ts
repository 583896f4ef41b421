import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/store/drivers/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/**
 * Sessions found in the database file alone (a copy without its WAL): what checkpoints wrote back.
 * The background checkpointer may be writing pages while the file is copied; such a torn copy reads
 * as corrupt (SQLITE_CORRUPT / SQLITE_NOTADB), so it is copied again rather than counted.
 */
function checkpointedSessions(path: string): number {
  for (let attempt = 1; ; attempt++) {
    try {
      return countInCopy(path);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const torn = code?.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
      if (!torn || attempt === 20) throw error;
    }
  }
}

function countInCopy(path: string): number {
  const copy = join(dir, `copy-${++n}.db`);
  copyFileSync(path, copy);
  const db = new Database(copy, { readonly: true });
  try {
    // Before the first checkpoint even the schema is only in the WAL.
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'cs_sessions'").get()) return 0;
    return (db.prepare('SELECT COUNT(*) AS c FROM cs_sessions').get() as { c: number }).c;
  } finally {
    db.close();
  }
}

async function writeSessions(driver: ReturnType<typeof sqliteDriver>, count: number) {
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const body = new Uint8Array([i & 255]);
    await driver.commit({
      key: `u${i}`,
      now,
      expectVersion: 0,
      change: { kind: 'blob', body, expiresAt: null },
    });
  }
}

describe('sqlite background checkpointer', () => {
  it('writes committed pages back to the database file off the event loop, without waiting for 1,000 WAL pages', async () => {
    const path = join(dir, 'background.db');
    const driver = sqliteDriver({ path, checkpointIntervalMs: 10 });
    await writeSessions(driver, 50);
    const deadline = Date.now() + 5000;
    let found = checkpointedSessions(path);
    while (found < 50 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      found = checkpointedSessions(path);
    }
    expect(found).toBe(50);
    await driver.close();
    // The worker's connection closed too: SQLite removes the WAL only when the last connection closes.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('inline mode leaves a small WAL to the COMMIT that passes 1,000 pages (SQLite default)', async () => {
    const path = join(dir, 'inline.db');
    const driver = sqliteDriver({ path, checkpoint: 'inline' });
    await writeSessions(driver, 50);
    await new Promise((r) => setTimeout(r, 100));
    expect(checkpointedSessions(path)).toBe(0);
    await driver.close();
    expect(checkpointedSessions(path)).toBe(50);
  });

  it('a store that only reads closes cleanly and leaves no WAL behind', async () => {
    const path = join(dir, 'idle.db');
    const driver = sqliteDriver({ path });
    expect(await driver.load('nobody', Date.now())).toBeNull();
    await driver.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});

describe('sqlite memory map', () => {
  /**
   * Whether this process maps the file `path` itself (Linux: /proc/self/maps ends each file-backed
   * mapping's line with its path; the WAL index `-shm` is always mapped and must not count).
   */
  const mapped = (path: string) =>
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .some((line) => line.endsWith(` ${path}`));

  it('reads the file through a memory map by default, and not with mmapBytes: 0', async () => {
    // Closing writes the WAL back into the file, so the next store reads its pages from the file.
    const reopened = async (path: string, mmapBytes?: number) => {
      const first = sqliteDriver({ path });
      await writeSessions(first, 3);
      await first.close();
      const driver = sqliteDriver(mmapBytes === undefined ? { path } : { path, mmapBytes });
      expect(await driver.load('u1', Date.now())).not.toBeNull();
      return driver;
    };
    const withMap = join(dir, 'mapped.db');
    const driver = await reopened(withMap);
    expect(mapped(withMap)).toBe(true);
    await driver.close();

    const without = join(dir, 'unmapped.db');
    const plain = await reopened(without, 0);
    expect(mapped(without)).toBe(false);
    await plain.close();
  });
});
