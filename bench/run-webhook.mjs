// Webhook acknowledgement benchmark (issue 4): signed single-message Cloud API webhooks against
// `chatstate serve` on SQLite, beside a bare node:http server and a minimal Hono server doing only
// the HMAC check and JSON.parse. Subjects alternate round by round; each round starts a fresh child
// process (a fresh SQLite file for chatstate), warms it up, then measures with autocannon.
// usage: node bench/run-webhook.mjs [--rounds 5] [--duration 10] [--connections 64] [--only a,b]
//        [--quick] [--write | --no-write] [--cpu-prof DIR] [--baseline [NAME=]DIST_DIR[,...]] [--tmpdir DIR] [--keep-tmp]
// dist/ must be built first (node scripts/build.mjs). See docs/benchmarks.md, "Webhook acknowledgement".
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { roundOrder, summarizeRounds } from './lib/rounds.mjs';
import { log, parseRunArgs, roundTimes, selectSubjects } from './lib/run-options.mjs';
import { startRun } from './lib/run-record.mjs';
import { fmtNum, median } from './lib/stats.mjs';
import { markdownTable, rateCells } from './lib/table.mjs';
import { chatstateCounters, cpuSeconds, inboxBacklog, load, waitForEmptyInbox } from './webhook/measure.mjs';
import { APP_SECRET, buildPool } from './webhook/pool.mjs';
import { baselineSubjects, SUBJECTS, startSubject } from './webhook/subjects.mjs';

const args = parseRunArgs(
  {
    connections: { type: 'string', default: '64' },
    pipelining: { type: 'string', default: '1' },
    users: { type: 'string', default: '10000' },
    pool: { type: 'string' },
    'cpu-prof': { type: 'string' },
    baseline: { type: 'string' },
    tmpdir: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
  },
  {
    usage: `usage: node bench/run-webhook.mjs [--rounds 5] [--duration 10] [--warmup 3] [--connections 64]
       [--pipelining 1] [--users 10000] [--pool N] [--only bare,hono,chatstate,ingest,ackpath,ackpath-batch] [--quick]
       [--write | --no-write] [--cpu-prof DIR] [--baseline [NAME=]DIST_DIR[,...]] [--tmpdir DIR] [--keep-tmp]
--baseline adds a row per other chatstate build (its dist/ directory, comma-separated, optionally
named: before=/tmp/old/dist), run exactly like the chatstate row, to measure a change in one run.
A full run (defaults) writes bench/results/<date>-webhook.json and latest-webhook.md; any other
run only prints unless --write. --cpu-prof DIR profiles every chatstate child (one file per round).`,
    timed: true,
    dist: 'cli/main.js',
  },
);

const quick = args.quick;
const config = {
  ...roundTimes(args, { rounds: 5, duration: 10, warmup: 3 }, { rounds: 1, duration: 3, warmup: 1 }),
  connections: Number(args.connections),
  pipelining: Number(args.pipelining),
  users: Number(args.users),
  // Enough distinct messages for warm-up + window at 40k/s; the counter restarts for each child.
  poolSize: Number(args.pool ?? (quick ? 200_000 : 600_000)),
  // After the warm-up, chatstate's drains get this long to empty the inbox before the window.
  settleLimitMs: 60_000,
  // After the window: how long we wait for the inbox to empty (catch-up time is reported).
  catchUpLimitMs: 120_000,
};
const known = args.baseline ? [...SUBJECTS, ...baselineSubjects(args.baseline)] : SUBJECTS;
// The diagnostic ack-path servers run only when named: the ingest row is the same path as a product
// configuration.
const subjects = args.only ? selectSubjects(known, args.only) : known.filter((s) => !s.diagnostic);

const tmpRoot = mkdtempSync(join(args.tmpdir ?? os.tmpdir(), 'chatstate-webhook-bench-'));
const cpuProfDir = args['cpu-prof'] ? resolve(args['cpu-prof']) : undefined;
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
const run = startRun({ script: 'run-webhook.mjs', args, tmpdir: tmpRoot });

log(`building ${config.poolSize.toLocaleString('en-US')} signed bodies over ${config.users} users`);
const pool = buildPool({ size: config.poolSize, users: config.users, secret: APP_SECRET });
log(`pool ready: ${fmtNum(pool.meanBodyBytes)} bytes per body on average`);

const rounds = Object.fromEntries(subjects.map((s) => [s.name, []]));
let failed = false;

for (let round = 0; round < config.rounds; round++) {
  for (const subject of roundOrder(subjects, round)) {
    try {
      const r = await runOne(subject, round);
      rounds[subject.name].push(r);
      log(
        `round ${round + 1}/${config.rounds} ${subject.name}: ${fmtNum(r.rps)} acks/s, p50 ${r.latencyMs.p50} ms,`,
        `p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}, server CPU ${fmtNum(r.serverCpuUsPerRequest)} us/request`,
        r.chatstate
          ? `| backlog at end ${r.chatstate.backlogAtEnd}, caught up in ${r.chatstate.catchUpS === null ? '>limit' : `${r.chatstate.catchUpS.toFixed(1)} s`}`
          : '',
      );
    } catch (error) {
      failed = true;
      log(`round ${round + 1} ${subject.name}: ${error.stack ?? error}`);
    }
  }
}

async function runOne(subject, round) {
  const { name } = subject;
  const isChatstate = subject.chatstate === true;
  const dbFile = join(tmpRoot, `${name}-round${round + 1}.db`);
  const ingestOnly = subject.role === 'ingest';
  const server = await startSubject(name, {
    secret: APP_SECRET,
    dbFile,
    distDir: subject.distDir,
    role: subject.role,
    cpuProfDir: isChatstate ? cpuProfDir : undefined,
  });
  const cursor = { next: 0, wrapped: 0 };
  try {
    const loadOptions = { connections: config.connections, pipelining: config.pipelining };
    await load(server.url, pool, cursor, { ...loadOptions, duration: config.warmupS });
    let settleS = null;
    // An ingest process leaves everything in the inbox: the worker after the window takes it all.
    if (isChatstate && !ingestOnly) settleS = await waitForEmptyInbox(dbFile, config.settleLimitMs);
    const before = isChatstate ? await chatstateCounters(server.url) : null;
    const firstMessage = cursor.next;
    const cpu0 = cpuSeconds(server.pid);
    const loader0 = process.cpuUsage();
    const result = await load(server.url, pool, cursor, { ...loadOptions, duration: config.durationS });
    const cpu1 = cpuSeconds(server.pid);
    const loader = process.cpuUsage(loader0);
    const out = {
      round: round + 1,
      ...result,
      messages: cursor.next - firstMessage,
      poolWrapped: cursor.wrapped,
      serverCpuS: cpu0 === null ? null : cpu1.user + cpu1.system - cpu0.user - cpu0.system,
      serverCpuUsPerRequest:
        cpu0 === null ? null : ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1e6) / result.requests,
      // Kernel share: socket writes, SQLite's file locks and WAL writes, fsyncs at checkpoints.
      serverSystemUsPerRequest: cpu0 === null ? null : ((cpu1.system - cpu0.system) * 1e6) / result.requests,
      loaderCpuS: (loader.user + loader.system) / 1e6,
    };
    if (isChatstate) {
      const after = await chatstateCounters(server.url);
      const backlogAtEnd = inboxBacklog(dbFile);
      // Ingest: a worker process on the same file processes what was acknowledged (warm-up and
      // window), so the row also shows that nothing acknowledged was lost.
      const worker = ingestOnly
        ? await startSubject(name, { secret: APP_SECRET, dbFile, distDir: subject.distDir, role: 'worker' })
        : null;
      let catchUpS;
      let final;
      try {
        catchUpS = await waitForEmptyInbox(dbFile, config.catchUpLimitMs);
        final = await chatstateCounters((worker ?? server).url);
      } finally {
        await worker?.stop();
      }
      const zero = { dedupeHits: 0, handlerErrors: 0, transitionsCommitted: 0, transitions: 0 };
      const start = worker ? zero : before;
      const acked = after.acked - before.acked;
      out.chatstate = {
        // Round-robin over the users: what one user sent during this child's life (warm-up + window).
        messagesPerUser: Math.ceil(cursor.next / config.users),
        settleBeforeWindowS: settleS,
        acked,
        refused: after.refused - before.refused,
        processedInWindow: after.transitions - before.transitions,
        processedPerSecInWindow: (after.transitions - before.transitions) / result.durationS,
        backlogAtEnd,
        catchUpS,
        // Every message acknowledged in the window, processed: window + catch-up.
        endToEndPerSec: catchUpS === null ? null : acked / (result.durationS + catchUpS),
        dedupeHits: final.dedupeHits - start.dedupeHits,
        handlerErrors: final.handlerErrors - start.handlerErrors,
        committed: final.transitionsCommitted - start.transitionsCommitted,
        ...(worker
          ? {
              // Everything this ingest process acknowledged (warm-up + window) and what the worker processed.
              ackedInLife: after.acked,
              workerProcessed: final.transitions,
              workerPerSec: catchUpS === null ? null : final.transitions / catchUpS,
            }
          : {}),
      };
    }
    return out;
  } finally {
    const exit = await server.stop();
    if (exit.code !== 0 && exit.signal !== 'SIGTERM')
      log(`${name} exited with ${exit.code ?? exit.signal}:\n${server.output().slice(-2000)}`);
    else if (server.output().trim() && isChatstate) {
      const lines = server
        .output()
        .trim()
        .split('\n')
        .filter((l) => !l.includes('SIGTERM received'));
      if (lines.length) log(`${name} output (LOG_LEVEL=warn):\n${lines.slice(-10).join('\n')}`);
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbFile}${suffix}`, { force: true });
  }
}

// ---- summary -----------------------------------------------------------------------------------

const summary = summarizeRounds(subjects, rounds, (list, s) => {
  const m = (f) => median(list.map(f));
  return {
    rounds: list.length,
    rps: m((r) => r.rps),
    rpsPerRound: list.map((r) => r.rps),
    p50Ms: m((r) => r.latencyMs.p50),
    p99Ms: m((r) => r.latencyMs.p99),
    non2xx: list.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0),
    requests: list.reduce((a, r) => a + r.requests, 0),
    serverCpuUsPerRequest: list[0].serverCpuUsPerRequest === null ? null : m((r) => r.serverCpuUsPerRequest),
    serverSystemUsPerRequest:
      list[0].serverSystemUsPerRequest === null ? null : m((r) => r.serverSystemUsPerRequest),
    loaderCpuShare: m((r) => r.loaderCpuS / r.durationS),
    poolWrapped: list.reduce((a, r) => a + r.poolWrapped, 0),
    ...(s.chatstate
      ? {
          processedPerSecInWindow: m((r) => r.chatstate.processedPerSecInWindow),
          backlogAtEnd: m((r) => r.chatstate.backlogAtEnd),
          catchUpS: list.some((r) => r.chatstate.catchUpS === null) ? null : m((r) => r.chatstate.catchUpS),
          endToEndPerSec: list.some((r) => r.chatstate.endToEndPerSec === null)
            ? null
            : m((r) => r.chatstate.endToEndPerSec),
          dedupeHits: list.reduce((a, r) => a + r.chatstate.dedupeHits, 0),
          maxMessagesPerUser: Math.max(...list.map((r) => r.chatstate.messagesPerUser)),
          handlerErrors: list.reduce((a, r) => a + r.chatstate.handlerErrors, 0),
          ...(s.role === 'ingest'
            ? {
                ackedInLife: list.reduce((a, r) => a + r.chatstate.ackedInLife, 0),
                workerProcessed: list.reduce((a, r) => a + r.chatstate.workerProcessed, 0),
                workerPerSec: list.some((r) => r.chatstate.workerPerSec === null)
                  ? null
                  : m((r) => r.chatstate.workerPerSec),
              }
            : {}),
        }
      : {}),
  };
});

// The figure is the acknowledgement ceiling: `serve --role ingest` (the acknowledgement path with
// its durable inbox write, nothing else in the process) against bare. The all-role row (drains in
// the same process) is reported beside it. Per-round ratios pair each with the bare run of the same
// round (adjacent in time).
function figureFor(name, title) {
  const pairRatios = [];
  for (let i = 0; i < config.rounds; i++) {
    const c = rounds[name]?.find((r) => r.round === i + 1);
    const b = rounds.bare?.find((r) => r.round === i + 1);
    if (c && b) pairRatios.push(c.rps / b.rps);
  }
  const ratio = summary[name] && summary.bare ? summary[name].rps / summary.bare.rps : null;
  return {
    subject: name,
    title,
    value: ratio,
    target: '>= 0.60',
    pass: ratio === null ? null : ratio >= 0.6,
    medianOfRoundRatios: pairRatios.length ? median(pairRatios) : null,
    roundRatios: pairRatios,
    // Less sensitive to the neighbours than requests/s: both servers are CPU-bound on one core, so
    // the inverse ratio of their CPU time per request is the throughput ratio on an idle machine.
    cpuRatio:
      summary[name]?.serverCpuUsPerRequest && summary.bare?.serverCpuUsPerRequest
        ? summary.bare.serverCpuUsPerRequest / summary[name].serverCpuUsPerRequest
        : null,
  };
}
const figure = summary.ingest
  ? figureFor(
      'ingest',
      'chatstate serve --role ingest (SQLite inbox write before the ack, processing in a worker process) acknowledged requests/s vs bare node:http (HMAC + JSON.parse)',
    )
  : figureFor(
      'chatstate',
      'chatstate serve (SQLite inbox write before the ack, drains in the same process) acknowledged requests/s vs bare node:http (HMAC + JSON.parse)',
    );
const allRoleFigure =
  summary.ingest && summary.chatstate
    ? figureFor(
        'chatstate',
        'chatstate serve, all role (the drains share the process and the 2 cores) acknowledged requests/s vs bare node:http',
      )
    : null;

const subjectResults = subjects.map((s) => ({ ...s, summary: summary[s.name], rounds: rounds[s.name] }));
run.finish(
  'webhook',
  {
    config: { ...config, meanBodyBytes: pool.meanBodyBytes },
    subjects: subjectResults,
    figure,
    allRoleFigure,
  },
  renderMarkdown,
);
if (!args['keep-tmp']) rmSync(tmpRoot, { recursive: true, force: true });
if (cpuProfDir)
  log(
    `CPU profiles of the chatstate children in ${cpuProfDir} (summarise with node bench/profile-summary.mjs <file>)`,
  );
process.exitCode = failed ? 1 : 0;

// The worker (ingest) or the drains (all role) process a user's messages within a minute, so the
// dispatcher's default rate limit (30 per user per minute) applies to what one process received.
function rateLimitNote(perUser) {
  return `Each user sent at most ${perUser} messages to one server process (${perUser > 30 ? 'OVER the default inbound rate limit of 30 per user per minute: those over it were recorded and answered by the limiter, not given to the bot; use more --users' : 'under the default inbound rate limit of 30 per user per minute, so every message reached the bot'}).`;
}

function figureLine(f) {
  return f.value === null
    ? `- NOT RUN — ${f.title}`
    : `- ${f.pass ? 'PASS' : 'MISS'} — ${f.title}: ${(100 * f.value).toFixed(1)}% (target ${f.target.replace('0.60', '60%')}; per round ${f.roundRatios.map((r) => `${(100 * r).toFixed(0)}%`).join(' / ')}${f.cpuRatio === null ? '' : `; from server CPU per request: ${(100 * f.cpuRatio).toFixed(1)}%`})`;
}

function renderMarkdown(res) {
  const m = res.machine;
  const c = res.config;
  const bare = res.subjects.find((s) => s.name === 'bare')?.summary;
  const rows = res.subjects.map((s) => {
    const x = s.summary;
    if (!x) return [s.label, 'failed', '—', '—', '—', '—', '—', '—', '—'];
    return [
      s.label,
      ...rateCells(x.rps, x.rpsPerRound, x.p50Ms, x.p99Ms),
      x.non2xx.toLocaleString('en-US'),
      `${fmtNum(x.serverCpuUsPerRequest)} (${fmtNum(x.serverSystemUsPerRequest)})`,
      `${fmtNum(100 * x.loaderCpuShare)}% of a core`,
      bare && s.name !== 'bare'
        ? `${((100 * x.rps) / bare.rps).toFixed(1)}%`
        : s.name === 'bare'
          ? '100%'
          : '—',
    ];
  });
  const cs = res.subjects.find((s) => s.name === 'chatstate')?.summary;
  const f = res.figure;
  const lines = [
    `# chatstate webhook acknowledgement benchmark — ${res.date}`,
    '',
    `Command: \`${res.command}\` at commit ${res.source.commit ?? '?'}${res.source.srcChanges ? ` (+${res.source.srcChanges} uncommitted files in src/)` : ''}`,
    '',
    `Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; SQLite ${m.sqlite}; temp files on ${m.tmpFilesystem?.type ?? '?'} (${m.tmpdir}); load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    '',
    `Load: autocannon ${c.connections} connections, pipelining ${c.pipelining}, ${c.durationS} s per window after ${c.warmupS} s of warm-up, from the bench process, which shares the ${m.cores} cores with the server (its CPU is the "load generator" column). Every request is a distinct signed single-message Cloud API body (${fmtNum(c.meanBodyBytes)} bytes, ${c.users.toLocaleString('en-US')} users round-robin). Each server is a fresh child process per round; ${c.rounds} round(s), subjects alternating; figures are the median of the round figures.`,
    '',
    markdownTable(
      [
        'Subject',
        'acks/s (median)',
        'per round',
        'p50 ms',
        'p99 ms',
        'non-2xx + errors',
        'server CPU us/request (of which kernel)',
        'load generator CPU',
        'of bare',
      ],
      rows,
    ),
    '',
  ];
  for (const s of res.subjects) {
    const x = s.summary;
    if (!x || x.processedPerSecInWindow === undefined) continue;
    if (s.role === 'ingest') {
      lines.push(
        `${s.label}: nothing is processed in this process (the inbox held ${fmtNum(x.backlogAtEnd)} messages at the end of a window: warm-up and window). After each window a \`chatstate serve --role worker\` on the same file processed the inbox in ${x.catchUpS === null ? 'more than the limit' : `${fmtNum(x.catchUpS)} s`} (${fmtNum(x.workerPerSec)} messages/s on the 2 cores, nothing else running): ${x.workerProcessed.toLocaleString('en-US')} transitions for ${x.ackedInLife.toLocaleString('en-US')} acknowledged deliveries over the rounds; dedupe hits: ${x.dedupeHits}; handler errors: ${x.handlerErrors}. ${rateLimitNote(x.maxMessagesPerUser)}`,
        '',
      );
      continue;
    }
    lines.push(
      `${s.name === 'chatstate' ? 'chatstate' : s.label}: the drains run the rememberBot transition (lease, claim, history append, inbox removal) after each ack, in the same process and on the same core, so their cost is inside the acks/s above. During the windows they processed ${fmtNum(x.processedPerSecInWindow)} messages/s; the inbox held ${fmtNum(x.backlogAtEnd)} unprocessed messages at the end of a window and was empty ${x.catchUpS === null ? 'only after the limit' : `${fmtNum(x.catchUpS)} s later`} (acknowledged and processed end to end: ${fmtNum(x.endToEndPerSec)} messages/s). Dedupe hits: ${x.dedupeHits}; handler errors: ${x.handlerErrors}. ${rateLimitNote(x.maxMessagesPerUser)}`,
      '',
    );
  }
  for (const other of res.subjects.filter((s) => s.distDir && s.summary)) {
    const base = other.summary;
    if (!cs) break;
    lines.push(
      `chatstate (this build) vs build "${other.name}" (${other.distDir}): ${fmtNum(cs.rps)} vs ${fmtNum(base.rps)} acks/s (${(cs.rps / base.rps).toFixed(2)}x), server CPU ${fmtNum(cs.serverCpuUsPerRequest)} vs ${fmtNum(base.serverCpuUsPerRequest)} us/request.`,
      '',
    );
  }
  lines.push(
    'Figure (issue 4):',
    '',
    figureLine(f),
    ...(res.allRoleFigure
      ? [
          `- for comparison, not the figure — ${res.allRoleFigure.title}: ${(100 * res.allRoleFigure.value).toFixed(1)}% (per round ${res.allRoleFigure.roundRatios.map((r) => `${(100 * r).toFixed(0)}%`).join(' / ')})`,
        ]
      : []),
    '',
  );
  return lines.join('\n');
}
