// Diagnostic (not part of `npm run bench`): splits the SQL cost of one chatstate SQLite transition
// into its phases (BEGIN IMMEDIATE, statements, COMMIT, for both the driver's transactions) and
// tries layout/pragma variants on the same statements, to show what a change to the driver would
// buy. Statements mirror src/store/drivers/sqlite.ts; the schema is made by chatstate itself.
// usage: node bench/diag/sqlite-phases.mjs [--iterations 5000] [--rounds 3]
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

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' } },
});
const ITER = Number(values.iterations);
const ROUNDS = Number(values.rounds);
const dir = mkdtempSync(join(tmpdir(), 'chatstate-phases-'));
const users = userIds(1000);

const VARIANTS = {
  'as shipped (2 write tx)': {},
  'begin = read tx (no lease row written)': { lease: false },
  'no cs_sessions_expiry index': { dropExpiryIndex: true },
  'page_size=1024': { pageSize: 1024 },
  'mmap_size=256 MiB': { pragmas: ['mmap_size = 268435456'] },
  'locking_mode=EXCLUSIVE (one process only)': { pragmas: ['locking_mode = EXCLUSIVE'] },
  'read begin + no expiry index': { lease: false, dropExpiryIndex: true },
  'read begin + no expiry index + EXCLUSIVE': {
    lease: false,
    dropExpiryIndex: true,
    pragmas: ['locking_mode = EXCLUSIVE'],
  },
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
  if (v.dropExpiryIndex) db.exec('DROP INDEX cs_sessions_expiry');
  const st = (sql) => db.prepare(sql);
  return {
    db,
    lease: v.lease !== false,
    BEGIN: st('BEGIN IMMEDIATE'),
    BEGIN_READ: st('BEGIN DEFERRED'),
    COMMIT: st('COMMIT'),
    claimGet: st('SELECT e FROM cs_claims WHERE k = ?'),
    claimPut: st('INSERT OR REPLACE INTO cs_claims (k, e) VALUES (?, ?)'),
    leaseGet: st('SELECT t, e FROM cs_leases WHERE k = ?'),
    leasePut: st(
      'INSERT INTO cs_leases (k, t, e) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET t = excluded.t, e = excluded.e',
    ),
    leaseRelease: st('UPDATE cs_leases SET e = 0 WHERE k = ? AND t = ? AND e > 0'),
    sessionGet: st('SELECT v, e, d FROM cs_sessions WHERE k = ?'),
    sessionUpdate: st('UPDATE cs_sessions SET v = v + 1, e = ?, d = ? WHERE k = ? AND v = ?'),
  };
}

/** One transition with a timestamp between phases; returns microseconds per phase. */
function transition(q, k, msg) {
  const t = [performance.now()];
  const now = Date.now();
  let token = 0;
  let row;
  if (q.lease) {
    q.BEGIN.run();
    t.push(performance.now());
    q.claimGet.get(msg);
    const lease = q.leaseGet.get(k);
    token = Math.max((lease?.t ?? 0) + 1, now * 1000);
    q.leasePut.run(k, token, now + 30_000);
    row = q.sessionGet.get(k);
    t.push(performance.now());
    q.COMMIT.run();
  } else {
    q.BEGIN_READ.run();
    t.push(performance.now());
    q.claimGet.get(msg);
    row = q.sessionGet.get(k);
    t.push(performance.now());
    q.COMMIT.run();
  }
  t.push(performance.now());
  q.BEGIN.run();
  t.push(performance.now());
  if (q.lease) q.leaseGet.get(k);
  row.d[row.d.length - 1] ^= 1;
  q.sessionUpdate.run(now + SESSION_TTL_MS, row.d, k, row.v);
  q.claimPut.run(msg, now + CLAIM_TTL_MS);
  if (q.lease) q.leaseRelease.run(k, token);
  t.push(performance.now());
  q.COMMIT.run();
  t.push(performance.now());
  return t.slice(1).map((x, i) => (x - t[i]) * 1000);
}

const PHASES = [
  'begin: BEGIN',
  'begin: statements',
  'begin: COMMIT',
  'commit: BEGIN',
  'commit: statements',
  'commit: COMMIT',
];
const handles = {};
for (const [name, v] of Object.entries(VARIANTS)) handles[name] = await open(name, v);
const results = Object.fromEntries(
  Object.keys(VARIANTS).map((n) => [n, { total: [], phases: PHASES.map(() => []) }]),
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
    for (const [j, xs] of per.entries()) results[name].phases[j].push(median(xs));
  }
}
// WAL frames (pages written) per transition: checkpoint to empty, run 200 without checkpointing, count.
const frames = {};
for (const [name, q] of Object.entries(handles)) {
  q.db.pragma('wal_checkpoint(TRUNCATE)');
  const auto = q.db.pragma('wal_autocheckpoint', { simple: true });
  q.db.pragma('wal_autocheckpoint = 0');
  for (let i = 0; i < 200; i++)
    transition(q, users[(i * 13) % users.length], nextMessageId(users[(i * 13) % users.length]));
  frames[name] = q.db.pragma('wal_checkpoint(PASSIVE)')[0].log / 200;
  q.db.pragma(`wal_autocheckpoint = ${auto}`);
}
for (const q of Object.values(handles)) q.db.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `median us per phase, median of ${ROUNDS} rounds x ${ITER} transitions (1,000 users, fresh message ids)\n`,
);
console.log(
  markdownTable(
    ['Variant', 'total', ...PHASES, 'WAL frames/transition'],
    Object.entries(results).map(([name, r]) => [
      name,
      fmtNum(median(r.total)),
      ...r.phases.map((xs) => fmtNum(median(xs))),
      fmtNum(frames[name]),
    ]),
  ),
);
