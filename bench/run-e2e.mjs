// End-to-end load benchmark: virtual users send signed Cloud API text webhooks to `chatstate serve`
// running the lead-gen demo bot on SQLite; the bot's replies go through the real Cloud API client
// to a local Graph API sink. Reports messages/s, webhook-to-reply latency and errors (closed loop
// and fixed offered rates), beside the bare node:http + HMAC acknowledgement ceiling of
// bench/run-webhook.mjs and this load generator's own ceiling against that bare server.
// usage: node bench/run-e2e.mjs [--rounds 3] [--duration 10] [--users 2000] [--concurrency 256]
//        [--numbers 200] [--rates 1000,2000,5000] [--only bare,loadgen,chatstate] [--sink child|inproc]
//        [--quick] [--write | --no-write] [--cpu-prof DIR] [--tmpdir DIR] [--keep-tmp]
// dist/ must be built first (node scripts/build.mjs). See docs/benchmarks.md, "End to end".
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { ACK_ONLY, createLoad, createUsers, SCRIPT } from './e2e/loadgen.mjs';
import { renderE2eMarkdown } from './e2e/report.mjs';
import { openSink } from './e2e/sink.mjs';
import { roundOrder, summarizeRounds } from './lib/rounds.mjs';
import { log, parseRunArgs, roundTimes, selectSubjects } from './lib/run-options.mjs';
import { startRun } from './lib/run-record.mjs';
import { fmtNum, median } from './lib/stats.mjs';
import { load as autocannonLoad, chatstateCounters, cpuSeconds } from './webhook/measure.mjs';
import { APP_SECRET, buildPool } from './webhook/pool.mjs';
import { startSubject } from './webhook/subjects.mjs';

const args = parseRunArgs(
  {
    'open-duration': { type: 'string' },
    users: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '256' },
    numbers: { type: 'string', default: '200' },
    rates: { type: 'string' },
    connections: { type: 'string', default: '64' },
    'reply-timeout': { type: 'string', default: '10' },
    'sink-rate': { type: 'string', default: '80' },
    sink: { type: 'string', default: 'child' },
    'cpu-prof': { type: 'string' },
    tmpdir: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
  },
  {
    usage: `usage: node bench/run-e2e.mjs [--rounds 3] [--duration 10] [--warmup 3] [--open-duration 5]
       [--users 2000] [--concurrency 256] [--numbers 200] [--rates 1000,2000,5000] [--connections 64]
       [--reply-timeout 10] [--sink-rate 80] [--sink child|inproc] [--only bare,loadgen,chatstate]
       [--quick] [--write | --no-write] [--cpu-prof DIR] [--tmpdir DIR] [--keep-tmp]
Subjects: bare (autocannon against the bare node:http + HMAC server of run-webhook.mjs), loadgen
(this script's generator against the same server: its own ceiling), chatstate (chatstate serve
with the lead-gen demo bot, replies to a local Graph API sink: closed loop, then each offered rate).
A full run (defaults) writes bench/results/<date>-e2e.json and latest-e2e.md; any other run only
prints unless --write. --cpu-prof DIR profiles the chatstate child (one file per round).`,
    timed: true,
    dist: 'cli/main.js',
  },
);

const quick = args.quick;
const config = {
  ...roundTimes(args, { rounds: 3, duration: 10, warmup: 3 }, { rounds: 1, duration: 3, warmup: 1 }),
  openDurationS: Number(args['open-duration'] ?? (quick ? 2 : 5)),
  users: Number(args.users),
  concurrency: Number(args.concurrency),
  numbers: Number(args.numbers),
  rates: (args.rates ?? (quick ? '1000,5000' : '1000,2000,5000')).split(',').filter(Boolean).map(Number),
  connections: Number(args.connections),
  replyTimeoutMs: Number(args['reply-timeout']) * 1000,
  sinkRate: Number(args['sink-rate']),
  sink: args.sink,
  bot: 'dist/examples/lead-gen/bot.js',
};
if (!['child', 'inproc'].includes(config.sink)) {
  console.error('[bench] --sink is child or inproc');
  process.exit(2);
}
const SUBJECTS = [
  { name: 'bare', label: 'bare node:http + HMAC, autocannon (run-webhook.mjs)' },
  { name: 'loadgen', label: 'this load generator against the same bare server (acks only)' },
  { name: 'chatstate', label: 'chatstate serve + lead-gen bot + Cloud API client -> sink' },
];
const subjects = selectSubjects(SUBJECTS, args.only);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tmpRoot = mkdtempSync(join(args.tmpdir ?? os.tmpdir(), 'chatstate-e2e-bench-'));
const cpuProfDir = args['cpu-prof'] ? resolve(args['cpu-prof']) : undefined;
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
const run = startRun({ script: 'run-e2e.mjs', args, tmpdir: tmpRoot });

// autocannon's requests for the bare row: pre-signed, as in run-webhook.mjs.
const pool = subjects.some((s) => s.name === 'bare')
  ? buildPool({ size: quick ? 100_000 : 300_000, users: 10_000, secret: APP_SECRET })
  : null;

const rounds = Object.fromEntries(subjects.map((s) => [s.name, []]));
let failed = false;

/** CPU seconds (user + system) of the processes that matter, for per-message costs. */
function cpuOf(pids) {
  return pids.map((pid) => {
    if (pid === process.pid) {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    }
    const c = cpuSeconds(pid);
    return c === null ? null : c.user + c.system;
  });
}
const delta = (a, b) => a.map((x, i) => (x === null || b[i] === null ? null : b[i] - x));

async function runBare(round) {
  const server = await startSubject('bare', { secret: APP_SECRET });
  try {
    const cursor = { next: 0, wrapped: 0 };
    const opts = { connections: config.connections, pipelining: 1 };
    await autocannonLoad(server.url, pool, cursor, { ...opts, duration: config.warmupS });
    const c0 = cpuOf([server.pid, process.pid]);
    const r = await autocannonLoad(server.url, pool, cursor, { ...opts, duration: config.durationS });
    const [serverCpuS, loaderCpuS] = delta(c0, cpuOf([server.pid, process.pid]));
    return {
      round,
      perSec: r.rps,
      latencyMs: r.latencyMs,
      errors: r.non2xx + r.errors + r.timeouts,
      serverCpuUsPerMessage: (serverCpuS * 1e6) / r.requests,
      loaderCpuShare: loaderCpuS / r.durationS,
    };
  } finally {
    await server.stop();
  }
}

async function runLoadgen(round) {
  const server = await startSubject('bare', { secret: APP_SECRET });
  const users = createUsers({ count: config.users, numbers: config.numbers, script: ACK_ONLY });
  const gen = createLoad({
    url: server.url,
    users,
    secret: APP_SECRET,
    sockets: config.concurrency,
    replyTimeoutMs: config.replyTimeoutMs,
  });
  try {
    await gen.closed({ concurrency: config.concurrency, durationMs: config.warmupS * 1000 });
    const c0 = cpuOf([server.pid, process.pid]);
    const r = await gen.closed({ concurrency: config.concurrency, durationMs: config.durationS * 1000 });
    const [serverCpuS, loaderCpuS] = delta(c0, cpuOf([server.pid, process.pid]));
    return {
      round,
      ...r,
      errors: r.non200 + r.timeouts,
      serverCpuUsPerMessage: (serverCpuS * 1e6) / r.completed,
      loaderCpuShare: loaderCpuS / r.durationS,
    };
  } finally {
    gen.close();
    await server.stop();
  }
}

/** The reply deliveries chatstate counted, by outcome (sent, failed, retry). */
async function deliveryCounts(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = { sent: 0, failed: 0, retry: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('chatstate_reply_deliveries_total{')) continue;
    const outcome = /outcome="([a-z]+)"/.exec(line)?.[1];
    if (outcome in out) out[outcome] += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

async function runChatstate(round) {
  let gen = null;
  const sink = await openSink({
    mode: config.sink,
    rate: config.sinkRate,
    onArrival: (to, at) => gen?.arrival(to, at),
  });
  const dbFile = join(tmpRoot, `e2e-round${round}.db`);
  let server;
  try {
    server = await startSubject('chatstate', {
      secret: APP_SECRET,
      dbFile,
      cpuProfDir,
      extraArgs: ['--bot', config.bot],
      env: {
        WHATSAPP_ACCESS_TOKEN: 'bench-dummy-access-token',
        WHATSAPP_API_URL: sink.baseUrl,
        // The closed loop sends each user a message every second or so, far over the default 30
        // per user per minute: the notice would replace the flow's replies. Off for the bench.
        CHATSTATE_RATE_LIMIT: '0',
      },
    });
    const users = createUsers({ count: config.users, numbers: config.numbers, script: SCRIPT });
    gen = createLoad({
      url: server.url,
      users,
      secret: APP_SECRET,
      sockets: config.concurrency,
      replyTimeoutMs: config.replyTimeoutMs,
    });
    await gen.closed({ concurrency: config.concurrency, durationMs: config.warmupS * 1000 });
    const before = await chatstateCounters(server.url);
    const pids = [server.pid, process.pid, sink.pid];
    const c0 = cpuOf(pids);
    const closed = await gen.closed({ concurrency: config.concurrency, durationMs: config.durationS * 1000 });
    const [serverCpuS, loaderCpuS, sinkCpuS] = delta(c0, cpuOf(pids));
    const open = [];
    for (const rate of config.rates) {
      await sleep(500);
      const o0 = cpuOf([server.pid]);
      const r = await gen.open({ rate, durationMs: config.openDurationS * 1000 });
      const [cpuS] = delta(o0, cpuOf([server.pid]));
      open.push({ ...r, serverCpuShare: cpuS / r.durationS });
    }
    // Second replies (the "reset" greeting's prompt) may still be on their way.
    await sleep(1000);
    const after = await chatstateCounters(server.url);
    const deliveries = await deliveryCounts(server.url);
    return {
      round,
      ...closed,
      // Every message the server processed in its life (warm-up included): divides a CPU profile.
      processedTotal: after.transitions,
      serverCpuUsPerMessage: serverCpuS === null ? null : (serverCpuS * 1e6) / closed.completed,
      serverCpuShare: serverCpuS === null ? null : serverCpuS / closed.durationS,
      loaderCpuShare: loaderCpuS / closed.durationS,
      sinkCpuShare: config.sink === 'child' && sinkCpuS !== null ? sinkCpuS / closed.durationS : null,
      open,
      balance: gen.balance(),
      sinkCounts: await sink.counts(),
      deliveries,
      handlerErrors: after.handlerErrors - before.handlerErrors,
      dedupeHits: after.dedupeHits - before.dedupeHits,
    };
  } finally {
    gen?.close();
    if (server) {
      const exit = await server.stop();
      const out = server
        .output()
        .trim()
        .split('\n')
        .filter((l) => l && !l.includes('SIGTERM received'));
      if (exit.code !== 0 && exit.signal !== 'SIGTERM')
        log(`chatstate exited with ${exit.code ?? exit.signal}`);
      if (out.length) log(`chatstate output (LOG_LEVEL=warn):\n${out.slice(-10).join('\n')}`);
    }
    await sink.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbFile}${suffix}`, { force: true });
  }
}

const RUN = { bare: runBare, loadgen: runLoadgen, chatstate: runChatstate };
for (let round = 1; round <= config.rounds; round++) {
  for (const subject of roundOrder(subjects, round - 1)) {
    try {
      const r = await RUN[subject.name](round);
      rounds[subject.name].push(r);
      log(
        `round ${round}/${config.rounds} ${subject.name}: ${fmtNum(r.perSec)}/s, p50 ${fmtNum(r.latencyMs.p50)} ms,`,
        `p99 ${fmtNum(r.latencyMs.p99)} ms, errors ${r.errors ?? r.non200 + r.timeouts}`,
        r.open
          ? `| open: ${r.open.map((o) => `${o.offered}/s -> ${fmtNum(o.perSec)}/s p99 ${fmtNum(o.latencyMs.p99)} ms`).join(', ')}`
          : '',
      );
    } catch (error) {
      failed = true;
      log(`round ${round} ${subject.name}: ${error.stack ?? error}`);
    }
  }
}

// ---- summary -----------------------------------------------------------------------------------

const med = (list, f) => {
  const v = list.map(f).filter((x) => x !== null && x !== undefined && !Number.isNaN(x));
  return v.length ? median(v) : null;
};
const summary = summarizeRounds(subjects, rounds, (list, s) => {
  const x = {
    rounds: list.length,
    perSec: med(list, (r) => r.perSec),
    perRound: list.map((r) => r.perSec),
    p50Ms: med(list, (r) => r.latencyMs.p50),
    p99Ms: med(list, (r) => r.latencyMs.p99),
    serverCpuUsPerMessage: med(list, (r) => r.serverCpuUsPerMessage),
    loaderCpuShare: med(list, (r) => r.loaderCpuShare),
  };
  if (s.name === 'bare') x.errors = list.reduce((a, r) => a + r.errors, 0);
  if (s.name === 'loadgen') x.errors = list.reduce((a, r) => a + r.errors, 0);
  if (s.name === 'chatstate') {
    const sum = (f) => list.reduce((a, r) => a + f(r), 0);
    Object.assign(x, {
      ackP50Ms: med(list, (r) => r.ackMs.p50),
      ackP99Ms: med(list, (r) => r.ackMs.p99),
      serverCpuShare: med(list, (r) => r.serverCpuShare),
      sinkCpuShare: med(list, (r) => r.sinkCpuShare),
      non200: sum((r) => r.non200),
      timeouts: sum((r) => r.timeouts),
      duplicates: sum((r) => r.balance.extra),
      missing: sum((r) => r.balance.missing),
      rateLimited: sum((r) => r.sinkCounts.rateLimited),
      deliveryFailed: sum((r) => r.deliveries.failed),
      deliveryRetries: sum((r) => r.deliveries.retry),
      handlerErrors: sum((r) => r.handlerErrors),
      dedupeHits: sum((r) => r.dedupeHits),
      repliesAccepted: sum((r) => r.sinkCounts.accepted),
      open: config.rates.map((rate, i) => {
        const os_ = list.map((r) => r.open[i]).filter(Boolean);
        return {
          offered: rate,
          perSec: med(os_, (o) => o.perSec),
          perRound: os_.map((o) => o.perSec),
          p50Ms: med(os_, (o) => o.latencyMs.p50),
          p99Ms: med(os_, (o) => o.latencyMs.p99),
          ackP99Ms: med(os_, (o) => o.ackMs.p99),
          serverCpuShare: med(os_, (o) => o.serverCpuShare),
          non200: os_.reduce((a, o) => a + o.non200, 0),
          timeouts: os_.reduce((a, o) => a + o.timeouts, 0),
          noIdleUser: os_.reduce((a, o) => a + o.noIdleUser, 0),
        };
      }),
    });
  }
  return x;
});

const cs = summary.chatstate;
const figure = {
  title: 'chatstate serve, demo bot, SQLite: messages/s sustained (closed loop) with p99 webhook-to-reply',
  target: '>= 5,000 messages/s with p99 <= 50 ms',
  perSec: cs?.perSec ?? null,
  p99Ms: cs?.p99Ms ?? null,
  pass: cs ? cs.perSec >= 5000 && cs.p99Ms <= 50 : null,
  ofBareAcks: cs && summary.bare ? cs.perSec / summary.bare.perSec : null,
};

const subjectResults = subjects.map((s) => ({ ...s, summary: summary[s.name], rounds: rounds[s.name] }));
run.finish('e2e', { config, subjects: subjectResults, figure }, renderE2eMarkdown);
if (!args['keep-tmp']) rmSync(tmpRoot, { recursive: true, force: true });
if (cpuProfDir)
  log(
    `CPU profiles of the chatstate children in ${cpuProfDir}: node bench/e2e/profile-parts.mjs <file> --messages N`,
    `(N processed per round: ${(rounds.chatstate ?? []).map((r) => r.processedTotal).join(', ')})`,
  );
process.exitCode = failed ? 1 : 0;
