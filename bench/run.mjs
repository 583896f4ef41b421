// `npm run bench`: every subject in bench/stores/ and bench/peers/, interleaved round by round,
// then bytes per stored session, a markdown table on stdout and the files under bench/results/.
// Flags: --only a,b  --quick  --rounds N  --iterations N  --write / --no-write  --no-bytes
//        --tmpdir DIR  --keep-tmp  (see docs/benchmarks.md)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { bodySizes } from './lib/body-size.mjs';
import { concurrent, sequential, untimed, warmUp } from './lib/measure.mjs';
import { renderMarkdown } from './lib/report.mjs';
import { roundOrder } from './lib/rounds.mjs';
import { log, parseRunArgs } from './lib/run-options.mjs';
import { startRun } from './lib/run-record.mjs';
import { stopSharedServers } from './lib/servers.mjs';
import { combineRounds, fmtNum, fmtRatio, speedup } from './lib/stats.mjs';
import { entryErrors, liveEntries } from './lib/subject-entries.mjs';
import { userIds } from './lib/workload.mjs';

const args = parseRunArgs(
  {
    iterations: { type: 'string' },
    bytes: { type: 'boolean', default: true },
    tmpdir: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
  },
  {
    usage: `usage: node bench/run.mjs [--only sqlite,memory] [--quick] [--rounds N] [--iterations N]
                         [--write | --no-write] [--no-bytes] [--tmpdir DIR] [--keep-tmp]
A full run (no --only, no --quick) writes bench/results/; a partial one only prints unless --write.`,
  },
);

const quick = args.quick;
const config = {
  quick,
  users: 1000,
  concurrency: 64,
  rounds: Number(args.rounds ?? (quick ? 2 : 5)),
  // Per scenario and round: stop at `iterations` or `budgetMs`, whichever comes first.
  iterations: Number(args.iterations ?? (quick ? 2000 : 20_000)),
  budgetMs: quick ? 500 : 4000,
  warmup: { count: quick ? 200 : 2000, budgetMs: quick ? 200 : 1000 },
  // Once per subject after seeding: five messages per user fill every history to its limit.
  firstWarmup: { count: quick ? 1000 : 5000, budgetMs: quick ? 1000 : 5000 },
  bytesSessions: quick ? 10_000 : 100_000,
};

// ---- subjects ---------------------------------------------------------------------------------

const KIND_ORDER = { chatstate: 0, peer: 1, floor: 2 };

async function loadSubjects() {
  const subjects = [];
  for (const dir of ['stores', 'peers']) {
    const url = new URL(`./${dir}/`, import.meta.url);
    for (const file of readdirSync(url)
      .filter((f) => f.endsWith('.mjs') && !f.startsWith('_'))
      .sort()) {
      const subject = (await import(new URL(file, url).href)).default;
      for (const key of ['name', 'label', 'kind', 'setup', 'transition', 'teardown']) {
        if (!subject?.[key])
          throw new Error(
            `bench/${dir}/${file}: the default export has no "${key}" (see "Adding a subject" in docs/benchmarks.md)`,
          );
      }
      subjects.push(subject);
    }
  }
  subjects.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  const only = args.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!only) return subjects;
  const unknown = only.filter((name) => !subjects.some((s) => s.name === name));
  if (unknown.length)
    throw new Error(
      `--only: no subject named ${unknown.join(', ')}; have ${subjects.map((s) => s.name).join(', ')}`,
    );
  return subjects.filter((s) => only.includes(s.name));
}

// ---- run --------------------------------------------------------------------------------------

const selected = await loadSubjects().catch((error) => {
  console.error(`[bench] ${error.message}`);
  process.exit(2);
});
const tmpRoot = mkdtempSync(join(args.tmpdir ?? os.tmpdir(), 'chatstate-bench-'));
const tmpFor = (name) => (file) => join(tmpRoot, `${name}-${file}`);
const run = startRun({
  script: 'run.mjs',
  npmScript: 'bench',
  args,
  tmpdir: tmpRoot,
  partial:
    Boolean(args.only) || quick || !args.bytes || args.rounds !== undefined || args.iterations !== undefined,
});
const errors = entryErrors((entry) => entry.subject.name);
const { abandon, fail, teardown } = errors;

const users = userIds(config.users);
const entries = [];
for (const subject of selected) {
  const entry = { subject, status: 'ok', rounds: { sequential: [], concurrent: [] } };
  entries.push(entry);
  try {
    const reason = subject.unavailable ? await subject.unavailable() : null;
    if (reason) {
      entry.status = `skipped: ${reason}`;
      log(`${subject.name}: ${entry.status}`);
      continue;
    }
    log(`${subject.name}: setup (${users.length} users)`);
    entry.ctx = await subject.setup({ users, tmp: tmpFor(subject.name), quick });
    await warmUp(subject, entry.ctx, users, config.firstWarmup);
  } catch (error) {
    await abandon(entry, error);
  }
}

for (let round = 0; round < config.rounds; round++) {
  for (const entry of roundOrder(liveEntries(entries), round)) {
    const { subject, ctx } = entry;
    const limits = limitsFor(subject);
    try {
      await warmUp(subject, ctx, users, config.warmup);
      const seq = await sequential(subject, ctx, users, { ...limits, offset: round * 7919 });
      const conc = await concurrent(subject, ctx, users, limits);
      entry.rounds.sequential.push(seq);
      entry.rounds.concurrent.push(conc);
      log(
        `round ${round + 1}/${config.rounds} ${subject.name}: ${fmtNum(seq.medianUs)} us median (n=${seq.n}),`,
        `${fmtNum(conc.opsPerSec)}/s at ${config.concurrency} in flight`,
      );
    } catch (error) {
      await abandon(entry, error);
    }
  }
}

// Round trips per transition, counted on the server (Redis: MONITOR + INFO commandstats; Memcached:
// stats counters and the driver's own counter): a few hundred untimed transitions per subject, after
// the timed rounds so the counting never slows them.
for (const entry of entries) {
  if (entry.status !== 'ok' || !entry.subject.roundTrips) continue;
  try {
    let offset = 0;
    const runUntimed = (n) => untimed(entry.subject, entry.ctx, users, n, (offset += 104729));
    entry.roundTrips = await entry.subject.roundTrips(entry.ctx, runUntimed);
    log(`${entry.subject.name}: ${fmtNum(entry.roundTrips.perTransition)} round trips per transition`);
  } catch (error) {
    await abandon(entry, error);
  }
}

for (const entry of entries) await teardown(entry);
await stopSharedServers();

// Bytes on a fresh store per subject, after the timed rounds so loading never disturbs them.
for (const entry of entries) {
  if (!args.bytes || entry.status !== 'ok' || !entry.subject.bytesPerSession) continue;
  try {
    log(`${entry.subject.name}: storing ${config.bytesSessions.toLocaleString('en-US')} seed sessions`);
    entry.bytes = await entry.subject.bytesPerSession({
      n: config.bytesSessions,
      tmp: tmpFor(`${entry.subject.name}-bytes`),
      userIds,
    });
  } catch (error) {
    fail(entry, error);
  }
}

const subjects = entries.map(({ subject, status, rounds, bytes, roundTrips }) => ({
  name: subject.name,
  label: subject.label,
  kind: subject.kind,
  peerOf: subject.peerOf ?? null,
  status,
  // A subject that failed later (in its bytes run) keeps the rounds it finished.
  ...(rounds.sequential.length
    ? { sequential: combineRounds(rounds.sequential), concurrent: combineRounds(rounds.concurrent), rounds }
    : {}),
  ...(bytes ? { bytes } : {}),
  ...(roundTrips ? { roundTrips } : {}),
  ...(subject.limits && rounds.sequential.length ? { limits: limitsFor(subject) } : {}),
}));

run.finish(
  'stores',
  { config, subjects, bodies: await bodySizes(), figures: figures(subjects) },
  renderMarkdown,
  { eachFile: true },
);
await stopSharedServers();
if (!args['keep-tmp']) rmSync(tmpRoot, { recursive: true, force: true });
else log(`temp files kept in ${tmpRoot}`);
process.exitCode = errors.failed ? 1 : 0;

// ---- helpers ----------------------------------------------------------------------------------

/**
 * Per-round limits of a subject: the run's, or the subject's own smaller ones (the server subjects
 * use 5,000 transitions / 2 s per scenario in a full run). --iterations overrides both.
 */
function limitsFor(subject) {
  if (!subject.limits || args.iterations !== undefined) return config;
  return {
    ...config,
    iterations: Math.min(config.iterations, subject.limits.iterations),
    budgetMs: Math.min(config.budgetMs, subject.limits.budgetMs),
  };
}

/** The figures issue 2 asks for: printed PASS / MISS, never a failing exit code. */
function figures(list) {
  const get = (name) => list.find((s) => s.name === name);
  const sqlite = get('sqlite');
  const keyv = get('keyv-sqlite');
  const out = [];
  const add = (title, value, display, target, pass, why) =>
    out.push({
      title,
      value,
      display,
      target,
      pass: value === null ? null : pass,
      ...(value === null ? { why } : {}),
    });

  const median = sqlite?.sequential?.medianUs ?? null;
  add(
    'chatstate SQLite transition median (one user at a time)',
    median,
    `${fmtNum(median)} us`,
    '<= 25 us',
    median <= 25,
    'sqlite not run',
  );

  const ratio =
    sqlite?.sequential && keyv?.sequential
      ? speedup(sqlite.sequential.medianUs, keyv.sequential.medianUs)
      : null;
  add(
    'chatstate SQLite vs keyv + @keyv/sqlite (median transition, one user at a time)',
    ratio,
    `${fmtRatio(ratio)} faster`,
    '>= 40x',
    ratio >= 40,
    'sqlite or keyv-sqlite not run',
  );

  const bytes = sqlite?.bytes ? sqlite.bytes.liveBytes / sqlite.bytes.n : null;
  add(
    'bytes on disk per stored seed session (SQLite, used pages / sessions)',
    bytes,
    `${fmtNum(bytes)} B`,
    '<= 180 B',
    bytes <= 180,
    'sqlite bytes not measured',
  );

  // Issue 3: Redis and Memcached.
  const redis = get('redis');
  const cluster = get('redis-cluster');
  const memcached = get('memcached');
  const keyvRedis = get('keyv-redis');
  const rt = redis?.roundTrips ?? null;
  add(
    'chatstate Redis round trips per transition (client commands counted on the server: MONITOR; INFO commandstats evalsha beside it)',
    rt?.perTransition ?? null,
    rt
      ? `${fmtNum(rt.perTransition)} (evalsha ${fmtNum(rt.commandstats.evalsha)}, eval ${fmtNum(rt.commandstats.eval)}${cluster?.roundTrips ? `; cluster ${fmtNum(cluster.roundTrips.perTransition)}` : ''})`
      : '',
    '= 2',
    rt?.perTransition === 2,
    `redis ${redis?.status ?? 'not run'}`,
  );
  const mrt = memcached?.roundTrips ?? null;
  add(
    "chatstate Memcached round trips per transition (the driver's counter; the server's counters beside it)",
    mrt?.perTransition ?? null,
    mrt
      ? `${fmtNum(mrt.perTransition)} (server per transition: cmd_get ${fmtNum(mrt.memcached.cmd_get)} keys, cmd_set ${fmtNum(mrt.memcached.cmd_set)}, cas_hits ${fmtNum(mrt.memcached.cas_hits)}; ${fmtNum(mrt.driver.requests)} requests + ${fmtNum(mrt.driver.noReplies)} noreply)`
      : '',
    '<= 3',
    mrt?.perTransition <= 3,
    `memcached ${memcached?.status ?? 'not run'}`,
  );
  const tps =
    redis?.concurrent && keyvRedis?.concurrent
      ? redis.concurrent.opsPerSec / keyvRedis.concurrent.opsPerSec
      : null;
  add(
    `chatstate Redis transitions/s at ${config.concurrency} in flight vs keyv + @keyv/redis bare get + set`,
    tps,
    tps === null
      ? ''
      : `${fmtNum(redis.concurrent.opsPerSec)}/s vs ${fmtNum(keyvRedis.concurrent.opsPerSec)}/s = ${fmtRatio(tps)}`,
    '>= 1x',
    tps >= 1,
    'redis or keyv-redis not run',
  );
  const rb = redis?.bytes ?? null;
  add(
    `Redis bytes per stored seed session: used_memory delta / ${(rb?.n ?? config.bytesSessions).toLocaleString('en-US')} sessions`,
    rb ? rb.perSession : null,
    rb ? `${fmtNum(rb.perSession)} B (over ${rb.n.toLocaleString('en-US')} sessions)` : '',
    '<= 256 B',
    rb?.perSession <= 256,
    'redis bytes not measured',
  );
  add(
    "Redis bytes per stored seed session: MEMORY USAGE of one session's keys",
    rb ? rb.memoryUsage : null,
    rb
      ? `${fmtNum(rb.memoryUsage)} B (${Object.entries(rb.keys)
          .map(([k, v]) => `${k} ${v.type}/${v.encoding}`)
          .join(', ')})`
      : '',
    '<= 256 B',
    rb?.memoryUsage <= 256,
    'redis bytes not measured',
  );
  const mb = memcached?.bytes ?? null;
  add(
    'Memcached bytes per stored seed session: slab chunk the item occupies',
    mb ? mb.chunkSize : null,
    mb
      ? `${fmtNum(mb.chunkSize)} B chunk (item ${fmtNum(mb.itemBytes)} B by stats bytes / curr_items; total_malloced ${fmtNum(mb.mallocedPerSession)} B per session)`
      : '',
    '<= 256 B',
    mb?.chunkSize <= 256 && mb?.itemBytes <= 256,
    'memcached bytes not measured',
  );
  return out;
}
