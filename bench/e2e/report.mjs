// The markdown report of bench/run-e2e.mjs (bench/results/latest-e2e.md).
import { fmtNum } from '../lib/stats.mjs';
import { markdownTable, rateCells } from '../lib/table.mjs';

const pct = (x) => (x === null || x === undefined ? '—' : `${fmtNum(100 * x)}%`);
const n = (x) => (x === null || x === undefined ? '—' : x.toLocaleString('en-US'));

export function renderE2eMarkdown(res) {
  const m = res.machine;
  const c = res.config;
  const by = Object.fromEntries(res.subjects.map((s) => [s.name, s.summary]));
  const bare = by.bare;
  const lines = [
    `# chatstate end-to-end load benchmark — ${res.date}`,
    '',
    `Command: \`${res.command}\` at commit ${res.source.commit ?? '?'}${res.source.srcChanges ? ` (+${res.source.srcChanges} uncommitted files in src/)` : ''}`,
    '',
    `Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; SQLite ${m.sqlite}; temp files on ${m.tmpFilesystem?.type ?? '?'} (${m.tmpdir}); load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    '',
    `Load: ${n(c.users)} virtual users spread over ${n(c.numbers)} business phone numbers (metadata.phone_number_id), ${n(c.concurrency)} in flight (closed loop: a user sends its next message when the first reply to the last one reached the sink), ${c.durationS} s windows after ${c.warmupS} s of warm-up, raw keep-alive HTTP/1.1 from the bench process (bench/e2e/raw-http.mjs). Each user alternates "reset" (2 replies) and a name (1 reply) in the lead-gen demo bot (\`${c.bot}\`); latency is webhook send -> first reply at the Graph API sink. The sink (${c.sink === 'child' ? 'its own process' : 'in the bench process'}) answers Meta's success body at once and enforces ${c.sinkRate} messages/s per phone number (130429). chatstate runs \`serve --bot ${c.bot}\` on a fresh sqlite: temp file per round with WHATSAPP_ACCESS_TOKEN (dummy) and WHATSAPP_API_URL at the sink, CHATSTATE_RATE_LIMIT=0. ${c.rounds} round(s), subjects alternating; figures are medians of the round figures.`,
    '',
  ];
  // One row per subject that ran: the bare server under autocannon, the same server under this
  // load generator (its ceiling), and chatstate (errors summed over every kind counted).
  const row = (label, r, errors) => [
    label,
    ...rateCells(r.perSec, r.perRound, r.p50Ms, r.p99Ms),
    n(errors),
    fmtNum(r.serverCpuUsPerMessage),
    pct(r.loaderCpuShare),
  ];
  const rows = [];
  if (bare) rows.push(row('bare node:http + HMAC: acks/s, autocannon', bare, bare.errors));
  const lg = by.loadgen;
  if (lg) rows.push(row('bare node:http + HMAC: acks/s, this load generator (its ceiling)', lg, lg.errors));
  const cs = by.chatstate;
  if (cs)
    rows.push(
      row(
        'chatstate serve + demo bot: messages/s, webhook -> reply',
        cs,
        cs.non200 + cs.timeouts + cs.duplicates + cs.missing + cs.rateLimited,
      ),
    );
  lines.push(
    markdownTable(
      [
        'Subject',
        'per s (median)',
        'per round',
        'p50 ms',
        'p99 ms',
        'errors',
        'server CPU us/message',
        'bench process CPU',
      ],
      rows,
    ),
    '',
  );
  if (cs) {
    lines.push(
      `chatstate: acknowledgement p50 ${fmtNum(cs.ackP50Ms)} ms, p99 ${fmtNum(cs.ackP99Ms)} ms; server CPU ${pct(cs.serverCpuShare)} of a core${cs.sinkCpuShare === null ? '' : `, sink process ${pct(cs.sinkCpuShare)}`}. Errors over all rounds: ${n(cs.non200)} non-200 acks, ${n(cs.timeouts)} replies not received within ${c.replyTimeoutMs / 1000} s, ${n(cs.duplicates)} duplicate replies, ${n(cs.missing)} replies missing at the end, ${n(cs.rateLimited)} sends refused by the sink's per-number limit (130429), ${n(cs.deliveryFailed)} deliveries failed and ${n(cs.deliveryRetries)} retried (chatstate's counters), ${n(cs.handlerErrors)} handler errors, ${n(cs.dedupeHits)} dedupe hits; ${n(cs.repliesAccepted)} replies reached the sink.`,
      '',
      'Open loop (a new message every 1/rate s, sent by a user with nothing in flight; same server, after the closed loop):',
      '',
      markdownTable(
        [
          'offered msg/s',
          'achieved (median)',
          'per round',
          'p50 ms',
          'p99 ms',
          'ack p99 ms',
          'server CPU',
          'non-200',
          'timeouts',
          'no idle user',
        ],
        cs.open.map((o) => [
          n(o.offered),
          ...rateCells(o.perSec, o.perRound, o.p50Ms, o.p99Ms),
          fmtNum(o.ackP99Ms),
          pct(o.serverCpuShare),
          n(o.non200),
          n(o.timeouts),
          n(o.noIdleUser),
        ]),
      ),
      '',
    );
  }
  const f = res.figure;
  lines.push(
    'Figure:',
    '',
    f.perSec === null
      ? `- NOT RUN — ${f.title}`
      : `- ${f.pass ? 'PASS' : 'MISS'} — ${f.title}: ${fmtNum(f.perSec)} messages/s, p99 ${fmtNum(f.p99Ms)} ms (target ${f.target})${f.ofBareAcks === null ? '' : `; ${pct(f.ofBareAcks)} of the bare server's acks/s in the same run`}`,
    '',
  );
  return lines.join('\n');
}
