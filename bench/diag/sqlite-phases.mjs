// Diagnostic (not part of `npm run bench`): splits the SQL cost of one chatstate SQLite transition
// into its phases (BEGIN IMMEDIATE, reads, writes, COMMIT: the driver runs them all in one
// transaction, sqlite-turn.ts) and tries layout/pragma variants on the same statements, to show
// what a change to the driver would buy. Statements mirror src/store/drivers/sqlite.ts,
// sqlite-claims.ts and sqlite-recent-claims.ts (whose functions it imports from dist/); the schema is made by chatstate itself. Checkpoints run inline here (the
// driver runs them in a worker thread), and the WAL frames each transition writes are counted.
// usage: node bench/diag/sqlite-phases.mjs [--iterations 5000] [--rounds 3] [--claims 40000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { openStore } from '../lib/chatstate.mjs';
import { seedUsers } from '../lib/chatstate-subject.mjs';
import { fmtNum, median } from '../lib/stats.mjs';
import { markdownTable } from '../lib/table.mjs';
import { CHATSTATE_OPTIONS, CLAIM_TTL_MS, nextMessageId, SESSION_TTL_MS, userIds } from '../lib/workload.mjs';

const { claimId, userClaimDigest } = await import(
  new URL('../../dist/store/drivers/sqlite-claims.js', import.meta.url).href
);
const { recentAdd, recentHas, tableMayHold, withTableClaims } = await import(
  new URL('../../dist/store/drivers/sqlite-recent-claims.js', import.meta.url).href
);

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    claims: { type: 'string', default: '40000' },
  },
});
const ITER = Number(values.iterations);
const ROUNDS = Number(values.rounds);
const PRIOR_CLAIMS = Number(values.claims);
const dir = mkdtempSync(join(tmpdir(), 'chatstate-phases-'));
const users = userIds(1000);

const VARIANTS = {
  'claims in their own table by 16-byte digest (before)': {},
  'claims keyed by the message id text (before)': { textClaims: true },
  'no claim': { noClaim: true },
  'as shipped (claims in the session row, 4 at most, then cs_user_claims behind the row filter)': { ring: 4 },
  'as shipped without the cs_user_claims lookup (its cost)': { ring: 4, noLookup: true },
  'mmap_size=256 MiB': { pragmas: ['mmap_size = 268435456'] },
  'page_size=1024': { pageSize: 1024 },
  'locking_mode=EXCLUSIVE (one process only)': { pragmas: ['locking_mode = EXCLUSIVE'] },
};

async function open(name, v) {
  const path = join(dir, `${name.replace(/\W+/g, '_')}.db`);
  if (v.pageSize) {
    const pre = new Database(path);
    pre.pragma(`page_size = ${v.pageSize}`);
    pre.close();
  }
  const store = await openStore(`sqlite:${path}`, CHATSTATE_OPTIONS);
  await seedUsers(store, users, { lease: true });
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const p of v.pragmas ?? []) db.pragma(p);
  // The layout claims had before sqlite-claims.ts (kept here to compare against).
  db.exec('CREATE TABLE IF NOT EXISTS cs_claims (k TEXT PRIMARY KEY, e INTEGER NOT NULL) WITHOUT ROWID');
  const st = (sql) => db.prepare(sql);
  const text = {
    get: st('SELECT e FROM cs_claims WHERE k = ?'),
    put: st('INSERT OR REPLACE INTO cs_claims (k, e) VALUES (?, ?)'),
  };
  const hashed = {
    get: st('SELECT e FROM cs_claim_ids WHERE h = ?'),
    put: st('INSERT OR REPLACE INTO cs_claim_ids (h, e) VALUES (?, ?)'),
  };
  const ring = v.ring
    ? {
        size: v.ring,
        noLookup: v.noLookup,
        get: st('SELECT e FROM cs_user_claims WHERE k = ? AND h = ?'),
        live: st('SELECT h FROM cs_user_claims WHERE k = ? AND e > ?').pluck(),
        put: st('INSERT OR REPLACE INTO cs_user_claims (k, h, e) VALUES (?, ?, ?)'),
        sessionGet: st('SELECT v, e, d, c FROM cs_sessions WHERE k = ?'),
        sessionUpdate: st('UPDATE cs_sessions SET v = v + 1, e = ?, d = ?, c = ? WHERE k = ? AND v = ?'),
      }
    : null;
  const claims =
    v.noClaim || v.ring
      ? null
      : v.textClaims
        ? { id: (k) => k, ...text }
        : { id: claimId, get: hashed.get, put: hashed.put };
  const q = {
    db,
    claims,
    ring,
    BEGIN: st('BEGIN IMMEDIATE'),
    COMMIT: st('COMMIT'),
    leaseGet: st('SELECT t, e FROM cs_leases WHERE k = ?'),
    sessionGet: st('SELECT v, e, d FROM cs_sessions WHERE k = ?'),
    sessionUpdate: st('UPDATE cs_sessions SET v = v + 1, e = ?, d = ? WHERE k = ? AND v = ?'),
  };
  // A claims table as a running bot has it: claims of earlier messages stay for the dedupe window.
  if (claims || ring) {
    db.transaction(() => {
      for (let i = 0; i < PRIOR_CLAIMS; i++)
        if (ring) {
          const u = users[i % users.length];
          ring.put.run(u, userClaimDigest(nextMessageId(u)), Date.now() + CLAIM_TTL_MS);
        } else claims.put.run(claims.id(nextMessageId(users[i % users.length])), Date.now() + CLAIM_TTL_MS);
    })();
  }
  return q;
}

/** One transition with a timestamp between phases; returns microseconds per phase. */
function transition(q, k, msg) {
  if (q.ring) return ringTransition(q, k, msg);
  const t = [performance.now()];
  const now = Date.now();
  q.BEGIN.run();
  t.push(performance.now());
  const claim = q.claims?.id(msg);
  if (q.claims) q.claims.get.get(claim);
  q.leaseGet.get(k);
  const row = q.sessionGet.get(k);
  t.push(performance.now());
  row.d[row.d.length - 1] ^= 1;
  q.sessionUpdate.run(now + SESSION_TTL_MS, row.d, k, row.v);
  if (q.claims) q.claims.put.run(claim, now + CLAIM_TTL_MS);
  t.push(performance.now());
  q.COMMIT.run();
  t.push(performance.now());
  return t.slice(1).map((x, i) => (x - t[i]) * 1000);
}

function ringTransition(q, k, msg) {
  const t = [performance.now()];
  const now = Date.now();
  q.BEGIN.run();
  t.push(performance.now());
  const row = q.ring.sessionGet.get(k);
  const h = userClaimDigest(msg);
  if (recentHas(row.c, h, now)) throw new Error('duplicate');
  // The row's filter rules most lookups out (sqlite-recent-claims.ts).
  if (!q.ring.noLookup && tableMayHold(row.c, h) && (q.ring.get.get(k, h)?.e ?? 0) > now)
    throw new Error('duplicate');
  q.leaseGet.get(k);
  t.push(performance.now());
  row.d[row.d.length - 1] ^= 1;
  const added = recentAdd(row.c, h, now + CLAIM_TTL_MS, now);
  const column = added.rebuild
    ? withTableClaims(added.column, [...q.ring.live.all(k, now), ...added.moved.map((e) => e.digest)])
    : added.column;
  q.ring.sessionUpdate.run(now + SESSION_TTL_MS, row.d, column, k, row.v);
  for (const e of added.moved) q.ring.put.run(k, e.digest, e.expiresAt);
  t.push(performance.now());
  q.COMMIT.run();
  t.push(performance.now());
  return t.slice(1).map((x, i) => (x - t[i]) * 1000);
}

const PHASES = ['BEGIN', 'reads (claim, lease, session)', 'writes (session, claim)', 'COMMIT'];
const handles = {};
for (const [name, v] of Object.entries(VARIANTS)) handles[name] = await open(name, v);
const results = Object.fromEntries(
  Object.keys(VARIANTS).map((n) => [n, { total: [], p99: [], phases: PHASES.map(() => []) }]),
);
for (let r = 0; r < ROUNDS; r++) {
  for (const name of Object.keys(VARIANTS)) {
    const q = handles[name];
    for (let i = 0; i < 1000; i++)
      transition(q, users[i % users.length], nextMessageId(users[i % users.length]));
    const per = PHASES.map(() => []);
    const totals = [];
    for (let i = 0; i < ITER; i++) {
      const k = users[(i * 7) % users.length];
      const phases = transition(q, k, nextMessageId(k));
      for (const [j, us] of phases.entries()) per[j].push(us);
      totals.push(phases.reduce((a, b) => a + b, 0));
    }
    results[name].total.push(median(totals));
    totals.sort((a, b) => a - b);
    results[name].p99.push(totals[Math.floor(totals.length * 0.99)]);
    for (const [j, xs] of per.entries()) results[name].phases[j].push(median(xs));
  }
}
// WAL frames (pages written) per transition: checkpoint to empty, run 200 without checkpointing, count.
const frames = {};
const pages = {};
for (const [name, q] of Object.entries(handles)) {
  q.db.pragma('wal_checkpoint(TRUNCATE)');
  const auto = q.db.pragma('wal_autocheckpoint', { simple: true });
  q.db.pragma('wal_autocheckpoint = 0');
  for (let i = 0; i < 200; i++)
    transition(q, users[(i * 13) % users.length], nextMessageId(users[(i * 13) % users.length]));
  frames[name] = q.db.pragma('wal_checkpoint(PASSIVE)')[0].log / 200;
  q.db.pragma(`wal_autocheckpoint = ${auto}`);
  const table = VARIANTS[name].textClaims
    ? 'cs_claims'
    : VARIANTS[name].ring
      ? 'cs_user_claims'
      : 'cs_claim_ids';
  pages[name] = VARIANTS[name].noClaim
    ? 0
    : q.db.prepare('SELECT COUNT(*) AS n FROM dbstat WHERE name = ?').get(table).n;
}
for (const q of Object.values(handles)) q.db.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `median us per phase, median of ${ROUNDS} rounds x ${ITER} transitions (1,000 users, fresh message ids, ${PRIOR_CLAIMS.toLocaleString('en-US')} earlier claims stored)\n`,
);
console.log(
  markdownTable(
    ['Variant', 'total', 'p99', ...PHASES, 'WAL frames/transition', 'claim table pages'],
    Object.entries(results).map(([name, r]) => [
      name,
      fmtNum(median(r.total)),
      fmtNum(median(r.p99)),
      ...r.phases.map((xs) => fmtNum(median(xs))),
      fmtNum(frames[name]),
      pages[name] ? fmtNum(pages[name]) : '—',
    ]),
  ),
);
