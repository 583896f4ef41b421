import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/store/drivers/sqlite.js';
import { claimId, userClaimDigest } from '../../src/store/drivers/sqlite-claims.js';
import {
  FILTER_BYTES,
  FILTER_MAX_LIVE,
  FILTER_REBUILD_AT,
  RECENT_CLAIM_BYTES,
  RECENT_CLAIMS,
  recentAdd,
  recentHas,
  recentLive,
  tableMayHold,
  withTableClaims,
} from '../../src/store/drivers/sqlite-recent-claims.js';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-recent-claims-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `recent-${++n}.db`);

/** Reads a finished store's file: the row's claims column and the claims table. */
function inspect(path: string, key: string) {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT v, c FROM cs_sessions WHERE k = ?').get(key) as
      | { v: number; c: Buffer | null }
      | undefined;
    const table = db.prepare('SELECT h FROM cs_user_claims WHERE k = ? ORDER BY h').all(key) as {
      h: Buffer;
    }[];
    return { row, table: table.map((r) => r.h.toString('hex')) };
  } finally {
    db.close();
  }
}

const step = (s: { incr(key: 'retries'): number }) => void s.incr('retries');
const hex = (claim: string) => userClaimDigest(claim).toString('hex');

describe('sqlite recent claims (pure)', () => {
  const d = (x: string) => userClaimDigest(x);

  it('adds entries, drops expired ones, and moves all live ones when the row is full', () => {
    let ring: Buffer | null = null;
    for (let i = 0; i < RECENT_CLAIMS; i++) {
      const next = recentAdd(ring, d(`m${i}`), 1000 + i, 0);
      expect(next.moved).toEqual([]);
      ring = next.column;
    }
    expect(ring?.length).toBe(RECENT_CLAIMS * RECENT_CLAIM_BYTES);
    expect(recentHas(ring, d('m2'), 500)).toBe(true);
    expect(recentHas(ring, d('m2'), 1002)).toBe(false);
    expect(recentHas(ring, d('other'), 500)).toBe(false);
    // At 1001, m0 and m1 have expired: dropped, not moved, and the ring has room again.
    const roomy = recentAdd(ring, d('late'), 5000, 1001);
    expect(roomy.moved).toEqual([]);
    expect(recentLive(roomy.column, 1001).map((e) => e.expiresAt)).toEqual([1002, 1003, 5000]);
    // Full of live entries: all of them move, the new ring holds the new claim alone.
    const full = recentAdd(ring, d('m4'), 2000, 0);
    expect(full.moved.map((e) => [e.digest.toString('hex'), e.expiresAt])).toEqual(
      [0, 1, 2, 3].map((i) => [hex(`m${i}`), 1000 + i]),
    );
    expect(full.column.length).toBe(RECENT_CLAIM_BYTES);
    expect(recentHas(full.column, d('m4'), 0)).toBe(true);
    // Nothing is known of the table yet: the caller must build the filter from it.
    expect(full.rebuild).toBe(true);
  });

  it('the filter never rules out a claim in the table, rules out most others, and asks for a rebuild', () => {
    const others = Array.from({ length: 2000 }, (_, i) => d(`other-${i}`));
    const ruledOut = (column: Buffer) => others.filter((o) => !tableMayHold(column, o)).length;
    let column: Buffer | null = null;
    const inTable: Buffer[] = [];
    let i = 0;
    const add = () => {
      const next = recentAdd(column, d(`m${i}`), 10_000, 0);
      i++;
      for (const entry of next.moved) inTable.push(entry.digest);
      column = next.rebuild ? withTableClaims(next.column, inTable) : next.column;
      return next;
    };
    // Rows of unknown table content (no column, or the even layout) rule nothing out.
    expect(tableMayHold(null, d('x'))).toBe(true);
    for (let k = 0; k <= RECENT_CLAIMS; k++) add();
    expect(inTable).toHaveLength(RECENT_CLAIMS);
    expect(column!.length).toBe(1 + RECENT_CLAIM_BYTES + 2 + FILTER_BYTES);
    let rebuilt = 0;
    while (inTable.length < 120) if (add().rebuild) rebuilt++;
    expect(rebuilt).toBe(0);
    for (const digest of inTable) expect(tableMayHold(column!, digest)).toBe(true);
    // About 3% false positives at 120 claims (1,024 bits, 3 hashes).
    expect(ruledOut(column!)).toBeGreaterThan(1850);
    // The filter counts what it took in, and asks to be rebuilt past FILTER_REBUILD_AT.
    while (inTable.length <= FILTER_REBUILD_AT) if (add().rebuild) rebuilt++;
    expect(rebuilt).toBe(1);
  });

  it('an empty table rules everything out; too many live claims saturate the row', () => {
    const ring = recentAdd(null, d('a'), 10, 0).column;
    const empty = withTableClaims(ring, []);
    expect(tableMayHold(empty, d('anything'))).toBe(false);
    expect(recentHas(empty, d('a'), 0)).toBe(true);
    const many = Array.from({ length: FILTER_MAX_LIVE + 1 }, (_, i) => d(`t${i}`));
    const saturated = withTableClaims(ring, many);
    expect(saturated.length).toBe(1 + RECENT_CLAIM_BYTES);
    expect(tableMayHold(saturated, d('anything'))).toBe(true);
    expect(recentHas(saturated, d('a'), 0)).toBe(true);
    // A saturated row stays saturated, without asking for a rebuild, until it is recreated.
    let column = saturated;
    for (let i = 0; i < 2 * RECENT_CLAIMS; i++) {
      const next = recentAdd(column, d(`s${i}`), 10, 0);
      expect(next.rebuild).toBe(false);
      column = next.column;
    }
    expect(tableMayHold(column, d('anything'))).toBe(true);
    // An empty-table row that overflows gets a filter of its own, no table read needed.
    let known = empty;
    for (let i = 0; i < RECENT_CLAIMS; i++) {
      const next = recentAdd(known, d(`k${i}`), 10, 0);
      expect(next.rebuild).toBe(false);
      known = next.column;
    }
    expect(tableMayHold(known, d('a'))).toBe(true);
    expect(tableMayHold(known, d('k3'))).toBe(false);
  });

  it('digests are 8 bytes, stable, and distinct across 200,000 message ids of one shape', () => {
    expect(userClaimDigest('wamid.A').toString('hex')).toBe(userClaimDigest('wamid.A').toString('hex'));
    expect(userClaimDigest('wamid.A')).toHaveLength(8);
    const seen = new Set<string>();
    const halves = [new Set<number>(), new Set<number>()];
    for (let i = 0; i < 200_000; i++) {
      const digest = userClaimDigest(
        `wamid.HBgLMTIwMjU1NTAxMjMVAgASGBQ${i.toString(36).padStart(8, '0')}AA==`,
      );
      seen.add(digest.toString('hex'));
      halves[0]?.add(digest.readUInt32BE(0));
      halves[1]?.add(digest.readUInt32BE(4));
    }
    expect(seen.size).toBe(200_000);
    // Both 32-bit halves vary on their own (about 5 collisions expected among 200,000 in 2^32).
    for (const half of halves) expect(half.size).toBeGreaterThan(199_900);
  });

  it('ignores a trailing partial entry, and reads a filter of the wrong size as no filter', () => {
    const ring = Buffer.concat([recentAdd(null, d('a'), 10, 0).column, Buffer.from([1, 2])]);
    expect(recentLive(ring, 0)).toHaveLength(1);
    expect(recentHas(ring, d('a'), 0)).toBe(true);
    const known = withTableClaims(recentAdd(null, d('a'), 10, 0).column, [d('t')]);
    const cut = known.subarray(0, known.length - 2);
    expect(recentHas(cut, d('a'), 0)).toBe(true);
    expect(tableMayHold(cut, d('anything'))).toBe(true);
  });
});

describe('sqlite: transition claims live with the session', () => {
  it('a claim is written into the session row, and overflows into cs_user_claims by user', async () => {
    const path = file();
    const store = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    for (let i = 0; i < RECENT_CLAIMS; i++)
      expect((await store.transition('u1', step, { claim: `m${i}` })).status).toBe('committed');
    await store.close();
    let seen = inspect(path, 'u1');
    expect(seen.row?.c?.length).toBe(RECENT_CLAIMS * RECENT_CLAIM_BYTES);
    expect(seen.table).toEqual([]);

    const again = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    expect((await again.transition('u1', step, { claim: 'm4' })).status).toBe('committed');
    // Every claim is still a duplicate, wherever it is stored; another user's same id is not.
    for (let i = 0; i <= RECENT_CLAIMS; i++)
      expect((await again.transition('u1', step, { claim: `m${i}` })).status).toBe('duplicate');
    expect((await again.transition('u2', step, { claim: 'm0' })).status).toBe('committed');
    expect((await again.get('u1'))?.retries).toBe(RECENT_CLAIMS + 1);
    await again.close();
    seen = inspect(path, 'u1');
    // The overflow built the row's filter over the table (sqlite-recent-claims.ts).
    expect(seen.row?.c?.length).toBe(1 + RECENT_CLAIM_BYTES + 2 + FILTER_BYTES);
    expect(seen.table).toEqual([0, 1, 2, 3].map((i) => hex(`m${i}`)).sort());
  });

  it("a returning user's claims from before the row stay duplicates once the row has a filter", async () => {
    const path = file();
    const store = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    const claims = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);
    for (const claim of claims(0, 10)) await store.transition('u1', step, { claim });
    // The clear command deletes the row; its claims move to the table and live on.
    expect(await store.delete('u1')).toBe(true);
    for (const claim of claims(10, 20))
      expect((await store.transition('u1', step, { claim })).status).toBe('committed');
    for (const claim of claims(0, 20))
      expect((await store.transition('u1', step, { claim })).status).toBe('duplicate');
    await store.close();
    const { row, table } = inspect(path, 'u1');
    // Ten claims in the new row: two overflows moved eight (the first read the table and built the
    // filter over the old claims too), two remain in the ring; the table holds the other eighteen.
    expect(row?.c?.length).toBe(1 + 2 * RECENT_CLAIM_BYTES + 2 + FILTER_BYTES);
    expect(table).toHaveLength(18);
  });

  it('a row whose filter rules a claim out does not look the table up; an unknown row does', async () => {
    const path = file();
    const store = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    for (let i = 0; i <= RECENT_CLAIMS; i++) await store.transition('filtered', step, { claim: `m${i}` });
    await store.transition('unknown', step, { claim: 'first' });
    await store.close();
    // A claim in the table that the row's filter never saw (no chatstate write makes one).
    const planted = 'planted';
    expect(tableMayHold(inspect(path, 'filtered').row?.c ?? null, userClaimDigest(planted))).toBe(false);
    const db = new Database(path);
    const plant = db.prepare('INSERT INTO cs_user_claims (k, h, e) VALUES (?, ?, ?)');
    for (const user of ['filtered', 'unknown'])
      plant.run(user, userClaimDigest(planted), Date.now() + 60_000);
    db.close();
    const again = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    expect((await again.transition('filtered', step, { claim: planted })).status).toBe('committed');
    expect((await again.transition('unknown', step, { claim: planted })).status).toBe('duplicate');
    await again.close();
  });

  it('a user with more live claims than a filter holds is looked up every time, and loses no claim', async () => {
    const path = file();
    const store = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    const total = FILTER_REBUILD_AT + 2 * RECENT_CLAIMS;
    for (let i = 0; i < total; i++)
      expect((await store.transition('busy', step, { claim: `m${i}` })).status).toBe('committed');
    for (const i of [0, 1, FILTER_MAX_LIVE, total - 1])
      expect((await store.transition('busy', step, { claim: `m${i}` })).status).toBe('duplicate');
    await store.close();
    const column = inspect(path, 'busy').row?.c;
    // Rebuilt past FILTER_REBUILD_AT with over FILTER_MAX_LIVE live claims: saturated, no filter.
    expect(column && column.length % 2).toBe(1);
    expect((column?.[0] ?? 0) & 0x80).toBe(0x80);
    expect(column?.length).toBeLessThan(1 + (RECENT_CLAIMS + 1) * RECENT_CLAIM_BYTES);
  });

  it('a claim without a change goes into the row and leaves the version alone', async () => {
    const path = file();
    const store = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    await store.transition('u1', step);
    expect((await store.transition('u1', () => 'nothing', { claim: 'quiet' })).status).toBe('unchanged');
    expect((await store.transition('u1', () => 'nothing', { claim: 'quiet' })).status).toBe('duplicate');
    // A user without a session keeps the claim in the table.
    expect((await store.transition('nobody', () => 'nothing', { claim: 'q2' })).status).toBe('unchanged');
    expect((await store.transition('nobody', () => 'nothing', { claim: 'q2' })).status).toBe('duplicate');
    await store.close();
    expect(inspect(path, 'u1').row).toMatchObject({ v: 1 });
    expect(inspect(path, 'u1').row?.c?.length).toBe(RECENT_CLAIM_BYTES);
    expect(inspect(path, 'nobody')).toEqual({ row: undefined, table: [hex('q2')] });
  });

  it('claims outlive their session: clear, sweep and quarantine move them to the table', async () => {
    const path = file();
    let now = 1_000_000;
    const options = { clock: () => now, ttlMs: 1000, claimTtlMs: 60_000, sweepIntervalMs: 0 };
    let store: SessionStore = await openStore(`sqlite:${path}`, options);
    for (const user of ['cleared', 'swept', 'corrupt'])
      await store.transition(user, step, { claim: `${user}-m` });
    expect(await store.delete('cleared')).toBe(true);
    await store.close();
    // A stored body that no longer decodes: the next load quarantines the row.
    const db = new Database(path);
    db.prepare('UPDATE cs_sessions SET d = ? WHERE k = ?').run(Buffer.from('not a session'), 'corrupt');
    db.close();

    store = await openStore(`sqlite:${path}`, options);
    expect((await store.transition('corrupt', step)).status).toBe('committed');
    now += 2000; // the sessions expire (1 s), their claims do not (60 s)
    expect(await store.sweep()).toBe(2);
    for (const user of ['cleared', 'swept', 'corrupt'])
      expect((await store.transition(user, step, { claim: `${user}-m` })).status).toBe('duplicate');
    now += 60_000;
    await store.sweep();
    expect((await store.transition('swept', step, { claim: 'swept-m' })).status).toBe('committed');
    await store.close();
    expect(inspect(path, 'swept').table).toEqual([]);
    expect(inspect(path, 'cleared').table).toEqual([]);
  });

  it('a sweep empties both claim tables even when one fills a batch and the other does not', async () => {
    const path = file();
    const driver = sqliteDriver({ path, sweepBatch: 3 });
    const now = Date.now();
    for (const key of ['s1', 's2', 's3', 's4']) expect(await driver.claim(key, 1000, now)).toBe(true);
    // Claims of users without a session row go straight to cs_user_claims.
    for (const key of ['u1', 'u2'])
      expect(
        (await driver.commit({ key, now, expectVersion: 0, claim: { key: 'm', ttlMs: 1000 }, change: null }))
          .status,
      ).toBe('ok');
    await driver.sweep?.(now + 2000);
    await driver.close();
    const db = new Database(path, { readonly: true });
    const count = (table: string) =>
      (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count('cs_claim_ids'), count('cs_user_claims')]).toEqual([0, 0]);
    db.close();
  });

  it('a file of the earlier layout gets the column, and its transition claims still count', async () => {
    const path = file();
    const now = Date.now();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE cs_sessions (k TEXT PRIMARY KEY, v INTEGER NOT NULL, e INTEGER, d BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE cs_claim_ids (h BLOB PRIMARY KEY, e INTEGER NOT NULL) WITHOUT ROWID;`);
    const put = old.prepare('INSERT INTO cs_claim_ids (h, e) VALUES (?, ?)');
    put.run(claimId('handled-before'), now + 60_000);
    put.run(claimId('expired-before'), now - 1);
    old.close();

    const store = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    expect((await store.transition('u1', step, { claim: 'handled-before' })).status).toBe('duplicate');
    expect((await store.transition('u1', step, { claim: 'expired-before' })).status).toBe('committed');
    expect((await store.transition('u1', step, { claim: 'new' })).status).toBe('committed');
    await store.close();
    expect(inspect(path, 'u1').row?.c?.length).toBe(2 * RECENT_CLAIM_BYTES);
    // Opening again changes nothing more.
    const again = await openStore(`sqlite:${path}`, { sweepIntervalMs: 0 });
    expect((await again.transition('u2', step, { claim: 'handled-before' })).status).toBe('duplicate');
    await again.close();
  });
});
