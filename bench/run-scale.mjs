// Scale benchmark: transition latency with 10k, 100k and 1M stored sessions, chatstate SQLite and
// Redis beside their floors (bench/scale/subjects.mjs). Every row and size is seeded first (a copy of
// one real session's stored bytes, checked on a sample), then rounds run interleaved across them.
// usage: node bench/run-scale.mjs [--sizes 10000,100000,1000000] [--only sqlite,redis] [--quick]
//        [--rounds N] [--iterations N] [--write | --no-write] [--tmpdir DIR] [--keep-tmp]
// dist/ must be built first (node scripts/build.mjs). See docs/benchmarks.md, "Scale".
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, sourceInfo } from './lib/machine.mjs';
import { fmtNum, fmtRatio } from './lib/stats.mjs';
import { combine, timedRound, warmRound } from './scale/measure.mjs';
import { baseSize, growth, renderMarkdown, writeResults } from './scale/report.mjs';
import { SCALE_SUBJECTS } from './scale/subjects.mjs';
import { drawUsers } from './scale/users.mjs';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    iterations: { type: 'string' },
    write: { type: 'boolean' },
    tmpdir: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowNegative: true,
});

if (args.help) {
  console.log(`usage: node bench/run-scale.mjs [--sizes 10000,100000,1000000] [--only ${SCALE_SUBJECTS.map((s) => s.name).join(',')}]
       [--quick] [--rounds N] [--iterations N] [--write | --no-write] [--tmpdir DIR] [--keep-tmp]
A full run (no flags) writes bench/results/<date>-scale.json and latest-scale.md; any other run only
prints unless --write. --quick: sizes 1,000 / 10,000 / 100,000, 2 short rounds (well under a minute).`);
  process.exit(0);
}

const quick = args.quick;
const config = {
  sizes: (args.sizes ?? (quick ? '1000,10000,100000' : '10000,100000,1000000'))
    .split(',')
    .map((s) => Number(s.replaceAll('_', '').trim()))
    .sort((a, b) => a - b),
  rounds: Number(args.rounds ?? (quick ? 2 : 7)),
  iterations: Number(args.iterations ?? (quick ? 1000 : 10_000)),
  budgetMs: quick ? 300 : 3000,
  warmup: quick ? 100 : 1000,
  // Seeded sessions read back through the store before measuring (plus the first and the last).
  sample: quick ? 50 : 200,
};
if (config.sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error(`[bench] --sizes: positive integers, comma-separated (got ${args.sizes})`);
  process.exit(2);
}
const only = args.only?.split(',').map((s) => s.trim());
const subjects = only ? SCALE_SUBJECTS.filter((s) => only.includes(s.name)) : SCALE_SUBJECTS;
if (only && subjects.length !== only.length) {
  console.error(`[bench] --only: known rows are ${SCALE_SUBJECTS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const partial = process.argv.length > 2 && !(process.argv.length === 3 && args.write);
const write = args.write ?? !partial;
const log = (...parts) => console.error('[bench]', ...parts);
const tmpRoot = mkdtempSync(join(args.tmpdir ?? os.tmpdir(), 'chatstate-scale-bench-'));
// Seeded files can be hundreds of MB: remove them even when the run dies.
const removeTmp = () => {
  if (!args['keep-tmp']) rmSync(tmpRoot, { recursive: true, force: true });
};
process.on('exit', removeTmp);
const machine = machineInfo(tmpRoot);
const startedAt = new Date();
const command = `node bench/run-scale.mjs${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;

let failed = false;
const entries = [];
for (const subject of subjects) {
  const reason = subject.unavailable ? await subject.unavailable() : null;
  for (const n of config.sizes) {
    const entry = { subject, n, status: 'ok', rounds: [] };
    entries.push(entry);
    if (reason) {
      entry.status = `skipped: ${reason}`;
      log(`${subject.name} @ ${n}: ${entry.status}`);
      continue;
    }
    try {
      const dir = join(tmpRoot, `${subject.name}-${n}`);
      mkdirSync(dir);
      log(`${subject.name}: seeding ${n.toLocaleString('en-US')} sessions`);
      entry.ctx = await subject.setup({ n, tmp: (file) => join(dir, file), sample: config.sample });
      const { seed, size, verified } = entry.ctx;
      Object.assign(entry, { seed, size, verified });
      log(
        `${subject.name} @ ${n}: seeded in ${(seed.ms / 1000).toFixed(1)} s, ${verified} sampled sessions verified,`,
        `${(size.bytes / 2 ** 20).toFixed(1)} MiB (${size.kind}, ${fmtNum(size.perSession)} B/session)`,
      );
    } catch (error) {
      fail(entry, error);
      await teardown(entry);
    }
  }
}

for (let round = 0; round < config.rounds; round++) {
  const live = entries.filter((e) => e.status === 'ok');
  // Rotate the order each round so no row always runs right after the same neighbour.
  const order = live.map((_, i) => live[(i + round) % live.length]);
  for (const [k, entry] of order.entries()) {
    const { subject, ctx, n } = entry;
    // Fresh draws per round and row; the seeds only make a rerun touch the same users.
    const seed = (round + 1) * 1_000_003 + k * 7919 + n;
    try {
      await warmRound(subject, ctx, drawUsers(n, config.warmup, seed ^ 0x5eed));
      const r = await timedRound(subject, ctx, drawUsers(n, config.iterations, seed), config);
      entry.rounds.push(r);
      log(
        `round ${round + 1}/${config.rounds} ${subject.name} @ ${n.toLocaleString('en-US')}:`,
        `p50 ${fmtNum(r.medianUs)} us, p99 ${fmtNum(r.p99Us)} us, ${fmtNum(r.opsPerSec)}/s (n=${r.n})`,
      );
    } catch (error) {
      fail(entry, error);
      await teardown(entry);
    }
  }
}

for (const entry of entries) await teardown(entry);

const results = {
  date: startedAt.toISOString().slice(0, 10),
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  command,
  source: sourceInfo(),
  partial,
  machine: { ...machine, loadAvgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  config,
  subjects: subjects.map((s) => ({
    name: s.name,
    label: s.label,
    kind: s.kind,
    store: s.store,
    peerOf: s.peerOf ?? null,
    sizes: entries
      .filter((e) => e.subject === s)
      .map((e) => ({
        n: e.n,
        status: e.status,
        ...(e.seed ? { seed: e.seed, size: e.size, verified: e.verified } : {}),
        ...(e.rounds.length ? { summary: combine(e.rounds), rounds: e.rounds } : {}),
      })),
  })),
};
results.figures = figures(results);

console.log(renderMarkdown(results));
if (write) {
  for (const file of writeResults(results, new URL('./results/', import.meta.url)))
    log(`wrote ${file.pathname}`);
} else {
  log('partial run: nothing written (pass --write to keep it)');
}
if (args['keep-tmp']) log(`temp files kept in ${tmpRoot}`);
process.exitCode = failed ? 1 : 0;

// ---- helpers ----------------------------------------------------------------------------------

function fail(entry, error) {
  failed = true;
  entry.status = `error: ${error?.message ?? error}`;
  log(`${entry.subject.name} @ ${entry.n}: ${entry.status}`);
  if (error?.stack) console.error(error.stack);
}

async function teardown(entry) {
  if (!entry.ctx) return;
  const { ctx } = entry;
  entry.ctx = undefined;
  try {
    await entry.subject.teardown(ctx);
  } catch (error) {
    fail(entry, error);
  }
}

/** Printed PASS / MISS, never a failing exit code: p99 at 1M over p99 at 10k, per chatstate store. */
function figures(res) {
  const base = baseSize(res.config.sizes);
  const top = 1_000_000;
  return ['sqlite', 'redis'].map((name) => {
    const s = res.subjects.find((x) => x.name === name);
    const floor = res.subjects.find((x) => x.peerOf === name);
    const title = `chatstate ${name === 'sqlite' ? 'SQLite' : 'Redis'} p99 transition latency at 1,000,000 stored sessions vs 10,000`;
    const g = s && base === 10_000 ? growth(s, top, base) : { p99: null };
    if (g.p99 === null) {
      const why = !s
        ? `${name} not run`
        : `needs sizes 10,000 and 1,000,000 measured (this run: ${res.config.sizes.map((n) => n.toLocaleString('en-US')).join(', ')})`;
      return { title, value: null, target: '<= 1.5x', pass: null, why };
    }
    const at = (x, n) => x.sizes.find((z) => z.n === n)?.summary;
    const fg = floor ? growth(floor, top, base) : { p99: null };
    return {
      title,
      value: g.p99,
      display: `${fmtNum(at(s, top).p99Us)} us vs ${fmtNum(at(s, base).p99Us)} us = ${fmtRatio(g.p99)} (p50 ${fmtRatio(g.p50)}${fg.p99 === null ? '' : `; the floor's p99 ${fmtRatio(fg.p99)}`})`,
      target: '<= 1.5x',
      pass: g.p99 <= 1.5,
    };
  });
}
