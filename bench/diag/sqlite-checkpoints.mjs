// Diagnostic (not part of `npm run bench`): the SQLite driver with its WAL checkpoints inline
// (SQLite's default: inside the COMMIT that takes the WAL past 1,000 pages) and in the background
// (the driver's default: a worker thread, src/store/drivers/sqlite-checkpointer.ts), one transition
// at a time as the scale part runs them (claim + load + commit, users drawn uniformly from N seeded
// sessions), at each size. Prints latency percentiles, the wall-clock mean and the process's CPU
// per transition (all threads, the checkpointer's included): a checkpoint on the event loop shows
// in the mean and p99.9 even when it misses the median.
// usage: node bench/diag/sqlite-checkpoints.mjs [--sizes 10000,1000000] [--transitions 30000] [--rounds 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SessionStore } from '../lib/chatstate.mjs';
import { fmtNum, median } from '../lib/stats.mjs';
import { markdownTable } from '../lib/table.mjs';
import { CHATSTATE_OPTIONS, HISTORY_LIMIT, nextMessageId, stepHandler, writeSeed } from '../lib/workload.mjs';
import { copySessionRow } from '../scale/seed-sqlite.mjs';
import { uidAt } from '../scale/users.mjs';

const { sqliteDriver } = await import(new URL('../../dist/store/drivers/sqlite.js', import.meta.url).href);

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,1000000' },
    transitions: { type: 'string', default: '30000' },
    rounds: { type: 'string', default: '2' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const M = Number(values.transitions);
const ROUNDS = Number(values.rounds);
const MODES = ['inline', 'background'];
const dir = mkdtempSync(join(tmpdir(), 'chatstate-checkpoints-'));
const open = (path, checkpoint) => new SessionStore(sqliteDriver({ path, checkpoint }), CHATSTATE_OPTIONS);

/** A file with N copies of one session whose history is full (as bench/scale/subjects.mjs seeds). */
async function seed(n, path) {
  const store = open(path, 'inline');
  await store.transition(uidAt(0), writeSeed);
  for (let i = 0; i < HISTORY_LIMIT; i++)
    await store.transition(uidAt(0), stepHandler, { claim: nextMessageId(uidAt(0)) });
  await store.close();
  copySessionRow(path, n);
}

async function run(n, mode, round) {
  const path = join(dir, `${mode}-${n}-${round}.db`);
  await seed(n, path);
  const store = open(path, mode);
  let x = 12345 + round;
  const pick = () => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    return uidAt(x % n);
  };
  for (let i = 0; i < 5000; i++) {
    const u = pick();
    await store.transition(u, stepHandler, { claim: nextMessageId(u) });
  }
  const lat = new Float64Array(M);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < M; i++) {
    const u = pick();
    const id = nextMessageId(u);
    const t0 = performance.now();
    await store.transition(u, stepHandler, { claim: id });
    lat[i] = (performance.now() - t0) * 1000;
  }
  const wallUs = (performance.now() - wall0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  rmSync(path, { force: true });
  lat.sort();
  const at = (p) => lat[Math.floor(p * (M - 1))];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), mean: wallUs / M, cpu: (cpu.user + cpu.system) / M };
}

const results = new Map();
for (let r = 0; r < ROUNDS; r++) {
  for (const n of SIZES) {
    for (const mode of MODES) {
      const key = `${n}|${mode}`;
      results.set(key, [...(results.get(key) ?? []), await run(n, mode, r)]);
    }
  }
}
rmSync(dir, { recursive: true, force: true });

console.log(
  `one transition at a time, ${M.toLocaleString('en-US')} per run after 5,000 untimed; median of ${ROUNDS} runs (us)\n`,
);
const rows = [];
for (const n of SIZES) {
  for (const mode of MODES) {
    const rs = results.get(`${n}|${mode}`);
    const m = (k) => fmtNum(median(rs.map((x) => x[k])));
    rows.push([n.toLocaleString('en-US'), mode, m('p50'), m('p99'), m('p999'), m('mean'), m('cpu')]);
  }
}
console.log(
  markdownTable(
    ['sessions', 'checkpoints', 'p50', 'p99', 'p99.9', 'mean (wall)', 'process CPU (all threads)'],
    rows,
  ),
);
