import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/store/drivers/sqlite.js';
import { schemaNames } from '../support/sqlite-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-claims-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `claims-${++n}.db`);
const tables = (path: string) => schemaNames(path, 'table');

describe('sqlite claims', () => {
  it('stores a claim as a 16-byte digest, not the key', async () => {
    const path = file();
    const driver = sqliteDriver({ path });
    const key = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEyNUI5NEU2RTg3NQA=';
    expect(await driver.claim(key, 60_000, Date.now())).toBe(true);
    expect(await driver.claim(key, 60_000, Date.now())).toBe(false);
    expect(await driver.claim(`${key}x`, 60_000, Date.now())).toBe(true);
    await driver.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT h FROM cs_claim_ids').all() as { h: Buffer }[];
    db.close();
    expect(rows.map((r) => r.h.length)).toEqual([16, 16]);
  });

  it('moves the unexpired claims of a database written with text keys, and drops the old table', async () => {
    const path = file();
    const now = Date.now();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    // That layout's session table had no claims column either.
    old.exec(
      'CREATE TABLE cs_sessions (k TEXT PRIMARY KEY, v INTEGER NOT NULL, e INTEGER, d BLOB NOT NULL) WITHOUT ROWID',
    );
    old.exec('CREATE TABLE cs_claims (k TEXT PRIMARY KEY, e INTEGER NOT NULL) WITHOUT ROWID');
    old
      .prepare('INSERT INTO cs_claims (k, e) VALUES (?, ?), (?, ?)')
      .run('live', now + 60_000, 'gone', now - 1);
    old.close();

    const driver = sqliteDriver({ path });
    expect(tables(path)).not.toContain('cs_claims');
    expect(await driver.claim('live', 60_000, now)).toBe(false);
    expect(await driver.claim('gone', 60_000, now)).toBe(true);
    const begun = await driver.begin({ key: 'u', now, claimKey: 'live', checkLease: {} });
    expect(begun.status).toBe('duplicate');
    await driver.close();
    // A second open finds nothing left to move.
    const again = sqliteDriver({ path });
    expect(await again.claim('live', 60_000, now)).toBe(false);
    await again.close();
  });

  it('a claim or lease written between a begin and its commit in the same turn is still seen by the commit', async () => {
    const driver = sqliteDriver({ path: file() });
    const now = Date.now();
    const change = { kind: 'blob' as const, body: new Uint8Array([1, 2, 3]), expiresAt: null };
    // A lone transition of a new session: begin checks the claim and the lease, commit records both.
    const begin = async (key: string, message: string) =>
      (await driver.begin({ key, now, claimKey: message, checkLease: {} })).status;
    const commit = async (key: string, message: string) =>
      (
        await driver.commit({
          key,
          now,
          expectVersion: 0,
          checkLease: true,
          claim: { key: message, ttlMs: 60_000 },
          change,
        })
      ).status;

    expect(await begin('a', 'm1')).toBe('ok');
    // Another worker records the message for the same user first (a claim without a change).
    const other = await driver.commit({
      key: 'a',
      now,
      expectVersion: 0,
      claim: { key: 'm1', ttlMs: 60_000 },
      change: null,
    });
    expect(other.status).toBe('ok');
    expect(await commit('a', 'm1')).toBe('conflict');
    expect(await begin('a', 'm1')).toBe('duplicate');

    expect(await begin('b', 'm2')).toBe('ok');
    const lease = driver.acquireLease('b', 60_000, now);
    expect(await commit('b', 'm2')).toBe('lease_lost');
    expect(await lease).not.toBeNull();
    expect(await driver.load('b', Date.now())).toBeNull();

    // Alone in its transaction, the commit uses what begin read and applies.
    expect(await begin('c', 'm3')).toBe('ok');
    expect(await commit('c', 'm3')).toBe('ok');
    expect(await begin('c', 'm3')).toBe('duplicate');
    await driver.close();
  });
});
