// Outbound sends benchmark (issue 5): chatstate's Cloud API client delivering text messages across
// 100 business phone numbers to a local fake Graph API (its own process) that answers Meta's
// success body at once and enforces 80 messages/s per number with Meta's 130429 error, beside a
// bare fetch and a bare node:http POST of the same body (the floors), and the runtime's Deliverer
// path (outbox -> client). Subjects alternate round by round; figures are medians of the rounds.
// usage: node bench/run-sends.mjs [--rounds 3] [--duration 5] [--concurrency 256] [--numbers 100]
//        [--rate 500] [--only client,client-fetch,deliverer,fetch,http] [--quick] [--write | --no-write]
// dist/ must be built first (node scripts/build.mjs). See docs/benchmarks.md, "Outbound sends".
import os from 'node:os';
import { phoneNumberIds } from './e2e/loadgen.mjs';
import { openSink } from './e2e/sink.mjs';
import { roundOrder, summarizeRounds } from './lib/rounds.mjs';
import { log, parseRunArgs, roundTimes, selectSubjects } from './lib/run-options.mjs';
import { startRun } from './lib/run-record.mjs';
import { fmtNum, median } from './lib/stats.mjs';
import { markdownTable, rateCells } from './lib/table.mjs';
import { userIds } from './lib/workload.mjs';
import { closedLoop, openLoop } from './sends/loops.mjs';

const args = parseRunArgs(
  {
    concurrency: { type: 'string', default: '256' },
    numbers: { type: 'string', default: '100' },
    users: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '500' },
    'sink-rate': { type: 'string', default: '80' },
  },
  {
    usage: `usage: node bench/run-sends.mjs [--rounds 3] [--duration 5] [--warmup 1] [--concurrency 256]
       [--numbers 100] [--users 10000] [--rate 500] [--sink-rate 80] [--only client,client-fetch,deliverer,fetch,http]
       [--quick] [--write | --no-write]
Closed loop (--concurrency sends outstanding) for throughput, then an open loop at --rate sends/s
for latency and CPU per send at the same offered load (the per-send overhead). A full run writes
bench/results/<date>-sends.json and latest-sends.md; any other run only prints unless --write.`,
    timed: true,
    dist: 'channels/whatsapp-cloud/client.js',
  },
);

// Loaded after parseRunArgs's dist/ check: the subjects import the built package.
const { createSender, SENDERS } = await import('./sends/subjects.mjs');

const config = {
  ...roundTimes(args, { rounds: 3, duration: 5, warmup: 1 }, { rounds: 1, duration: 2, warmup: 0.5 }),
  concurrency: Number(args.concurrency),
  numbers: Number(args.numbers),
  users: Number(args.users),
  rate: Number(args.rate),
  sinkRate: Number(args['sink-rate']),
};
const subjects = selectSubjects(SENDERS, args.only);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = startRun({ script: 'run-sends.mjs', args, tmpdir: os.tmpdir() });
const numbers = phoneNumberIds(config.numbers);
const users = userIds(config.users);
// The Deliverer row sends replies committed before the window: enough for the limit's ceiling.
const ceiling = config.sinkRate * config.numbers;
const prepare = Math.ceil(
  ceiling * (config.warmupS + config.durationS) * 1.1 + config.rate * config.durationS + 1000,
);

const rounds = Object.fromEntries(subjects.map((s) => [s.name, []]));
let failed = false;

async function runOne(subject, round) {
  const sink = await openSink({ mode: 'child', rate: config.sinkRate });
  const sender = await createSender(subject.name, {
    baseUrl: sink.baseUrl,
    numbers,
    users,
    concurrency: config.concurrency,
    prepare: subject.name === 'deliverer' ? prepare : 0,
  });
  try {
    const cursor = { next: 0 };
    const loop = { concurrency: config.concurrency };
    await closedLoop(sender, cursor, { ...loop, durationMs: config.warmupS * 1000 });
    const c0 = await sink.counts();
    const closed = await closedLoop(sender, cursor, { ...loop, durationMs: config.durationS * 1000 });
    const c1 = await sink.counts();
    // Let every number's 1 s window empty before the fixed-rate run.
    await sleep(1100);
    const open = await openLoop(sender, cursor, { rate: config.rate, durationMs: config.durationS * 1000 });
    const c2 = await sink.counts();
    return {
      round,
      closed: { ...closed, rateLimited: c1.rateLimited - c0.rateLimited },
      open: { ...open, rateLimited: c2.rateLimited - c1.rateLimited },
    };
  } finally {
    await sender.close();
    await sink.close();
  }
}

for (let round = 1; round <= config.rounds; round++) {
  for (const subject of roundOrder(subjects, round - 1)) {
    try {
      const r = await runOne(subject, round);
      rounds[subject.name].push(r);
      const f = (x) => Object.values(x.failures).reduce((a, b) => a + b, 0);
      log(
        `round ${round}/${config.rounds} ${subject.name}: closed ${fmtNum(r.closed.perSec)} sends/s, p50 ${fmtNum(r.closed.p50Us)} us,`,
        `${f(r.closed)} failed, ${r.closed.rateLimited} x 130429 | open ${config.rate}/s: p50 ${fmtNum(r.open.p50Us)} us,`,
        `CPU ${fmtNum(r.open.cpuUsPerSend)} us/send, ${f(r.open)} failed, ${r.open.rateLimited} x 130429`,
      );
    } catch (error) {
      failed = true;
      log(`round ${round} ${subject.name}: ${error.stack ?? error}`);
    }
  }
}

// ---- summary -----------------------------------------------------------------------------------

const failures = (x) => Object.values(x.failures).reduce((a, b) => a + b, 0);
const summary = summarizeRounds(subjects, rounds, (list) => {
  const m = (f) => median(list.map(f));
  const sum = (f) => list.reduce((a, r) => a + f(r), 0);
  return {
    rounds: list.length,
    perSec: m((r) => r.closed.perSec),
    perRound: list.map((r) => r.closed.perSec),
    closedP50Us: m((r) => r.closed.p50Us),
    closedP99Us: m((r) => r.closed.p99Us),
    closedCpuUsPerSend: m((r) => r.closed.cpuUsPerSend),
    closedFailures: sum((r) => failures(r.closed)),
    closedRateLimited: sum((r) => r.closed.rateLimited),
    openPerSec: m((r) => r.open.perSec),
    openP50Us: m((r) => r.open.p50Us),
    openP99Us: m((r) => r.open.p99Us),
    openCpuUsPerSend: m((r) => r.open.cpuUsPerSend),
    openFailures: sum((r) => failures(r.open)),
    openRateLimited: sum((r) => r.open.rateLimited),
    failureCodes: list.reduce((acc, r) => {
      for (const x of [r.closed, r.open])
        for (const [k, v] of Object.entries(x.failures)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
});

const client = summary.client;
const floor = summary.fetch;
const figure = {
  title:
    "chatstate Cloud API client sends/s across the numbers to a fake that answers at once (Meta's 80/s per number enforced)",
  target: '>= 5,000 sends/s, no 130429',
  perSec: client?.perSec ?? null,
  pass: client ? client.perSec >= 5000 && client.closedRateLimited + client.openRateLimited === 0 : null,
  overheadP50Us: client && floor ? client.openP50Us - floor.openP50Us : null,
  overheadCpuUs: client && floor ? client.openCpuUsPerSend - floor.openCpuUsPerSend : null,
  // The client sends over node:http on Node, so the same-transport floor isolates its own work.
  overheadVsHttpP50Us: client && summary.http ? client.openP50Us - summary.http.openP50Us : null,
  overheadVsHttpCpuUs:
    client && summary.http ? client.openCpuUsPerSend - summary.http.openCpuUsPerSend : null,
};

const subjectResults = subjects.map((s) => ({ ...s, summary: summary[s.name], rounds: rounds[s.name] }));
run.finish(
  'sends',
  { config: { ...config, ceiling, delivererPrepared: prepare }, subjects: subjectResults, figure },
  renderMarkdown,
);
process.exitCode = failed ? 1 : 0;

function renderMarkdown(res) {
  const m = res.machine;
  const c = res.config;
  const n = (x) => x.toLocaleString('en-US');
  const rows = res.subjects.map((s) => {
    const x = s.summary;
    if (!x) return [s.label, 'did not run', ...Array(11).fill('—')];
    return [
      s.label,
      ...rateCells(x.perSec, x.perRound, x.closedP50Us, x.closedP99Us),
      fmtNum(x.closedCpuUsPerSend),
      n(x.closedFailures),
      n(x.closedRateLimited),
      fmtNum(x.openP50Us),
      fmtNum(x.openP99Us),
      fmtNum(x.openCpuUsPerSend),
      n(x.openFailures),
      n(x.openRateLimited),
    ];
  });
  const f = res.figure;
  const codes = res.subjects
    .filter((s) => s.summary && Object.keys(s.summary.failureCodes).length)
    .map(
      (s) =>
        `${s.name}: ${Object.entries(s.summary.failureCodes)
          .map(([k, v]) => `${n(v)} x ${k}`)
          .join(', ')}`,
    );
  return [
    `# chatstate outbound sends benchmark — ${res.date}`,
    '',
    `Command: \`${res.command}\` at commit ${res.source.commit ?? '?'}${res.source.srcChanges ? ` (+${res.source.srcChanges} uncommitted files in src/)` : ''}`,
    '',
    `Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    '',
    `Load: text messages from ${n(c.numbers)} business phone numbers (round-robin) to ${n(c.users)} users, to a fake Graph API in its own process that answers Meta's success body at once and refuses a number's message number ${c.sinkRate + 1} within any 1 s with Meta's 130429 error (ceiling ${n(c.ceiling)} sends/s). Closed loop: ${n(c.concurrency)} sends outstanding for ${c.durationS} s after ${c.warmupS} s of warm-up. Open loop: ${n(c.rate)} sends/s for ${c.durationS} s (latency and bench-process CPU per send at the same offered load). A fresh fake per subject and round; ${c.rounds} round(s), subjects alternating; medians of the round figures.`,
    '',
    markdownTable(
      [
        'Sender',
        'sends/s (closed)',
        'per round',
        'p50 us',
        'p99 us',
        'CPU us/send',
        'failed',
        '130429',
        `p50 us @${n(c.rate)}/s`,
        `p99 us @${n(c.rate)}/s`,
        `CPU us/send @${n(c.rate)}/s`,
        `failed @${n(c.rate)}/s`,
        `130429 @${n(c.rate)}/s`,
      ],
      rows,
    ),
    '',
    `"failed": sends that ended in an error (the floors count a 130429 answer as one; the client retries it first). "130429": answers of that error the fake sent, i.e. a number pushed past 80 messages in a second. ${codes.length ? `Failures by code: ${codes.join('; ')}.` : 'No failures.'}`,
    '',
    'Figure (issue 5):',
    '',
    f.perSec === null
      ? `- NOT RUN — ${f.title}`
      : `- ${f.pass ? 'PASS' : 'MISS'} — ${f.title}: ${fmtNum(f.perSec)} sends/s (target ${f.target}); per-send overhead over a bare fetch at ${n(c.rate)}/s: ${fmtNum(f.overheadP50Us)} us of p50 latency, ${fmtNum(f.overheadCpuUs)} us of CPU; over a bare node:http POST (same transport): ${fmtNum(f.overheadVsHttpP50Us)} us of p50 latency, ${fmtNum(f.overheadVsHttpCpuUs)} us of CPU`,
    '',
  ].join('\n');
}
