// Scale benchmark: transition latency with 10k, 100k and 1M stored sessions, chatstate SQLite and
// Redis beside their floors (bench/scale/subjects.mjs). Every row and size is seeded first (a copy of
// one real session's stored bytes, checked on a sample), then rounds run interleaved across them.
// usage: node bench/run-scale.mjs [--sizes 10000,100000,1000000] [--only sqlite,redis] [--quick]
//        [--rounds N] [--iterations N] [--write | --no-write] [--tmpdir DIR] [--keep-tmp]
// dist/ must be built first (node scripts/build.mjs). See docs/benchmarks.md, "Scale".
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { roundOrder } from './lib/rounds.mjs';
import { log, parseRunArgs, selectSubjects } from './lib/run-options.mjs';
import { startRun } from './lib/run-record.mjs';
import { fmtNum, fmtRatio } from './lib/stats.mjs';
import { entryErrors, liveEntries } from './lib/subject-entries.mjs';
import { combine, timedRound, warmRound } from './scale/measure.mjs';
import { baseSize, growth, renderMarkdown } from './scale/report.mjs';
import { SCALE_SUBJECTS } from './scale/subjects.mjs';
import { drawUsers } from './scale/users.mjs';

const args = parseRunArgs(
  {
    sizes: { type: 'string' },
    iterations: { type: 'string' },
    tmpdir: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
  },
  {
    usage: `usage: node bench/run-scale.mjs [--sizes 10000,100000,1000000] [--only ${SCALE_SUBJECTS.map((s) => s.name).join(',')}]
       [--quick] [--rounds N] [--iterations N] [--write | --no-write] [--tmpdir DIR] [--keep-tmp]
A full run (no flags) writes bench/results/<date>-scale.json and latest-scale.md; any other run only
prints unless --write. --quick: sizes 1,000 / 10,000 / 100,000, 2 short rounds (well under a minute).`,
  },
);

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
const subjects = selectSubjects(SCALE_SUBJECTS, args.only, 'rows');

const tmpRoot = mkdtempSync(join(args.tmpdir ?? os.tmpdir(), 'chatstate-scale-bench-'));
// Seeded files can be hundreds of MB: remove them even when the run dies.
const removeTmp = () => {
  if (!args['keep-tmp']) rmSync(tmpRoot, { recursive: true, force: true });
};
process.on('exit', removeTmp);
const run = startRun({ script: 'run-scale.mjs', args, tmpdir: tmpRoot });
const errors = entryErrors((entry) => `${entry.subject.name} @ ${entry.n}`);
const { abandon, teardown } = errors;

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
      await abandon(entry, error);
    }
  }
}

for (let round = 0; round < config.rounds; round++) {
  for (const [k, entry] of roundOrder(liveEntries(entries), round).entries()) {
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
      await abandon(entry, error);
    }
  }
}

for (const entry of entries) await teardown(entry);

const measured = subjects.map((s) => ({
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
}));
const fields = { config, subjects: measured };
run.finish('scale', { ...fields, figures: figures(fields) }, renderMarkdown, { eachFile: true });
if (args['keep-tmp']) log(`temp files kept in ${tmpRoot}`);
process.exitCode = errors.failed ? 1 : 0;

// ---- helpers ----------------------------------------------------------------------------------

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
