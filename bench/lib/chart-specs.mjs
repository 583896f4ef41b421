// What each chart shows, built from one results file of its kind (bench/results/<date>-<kind>.json).
// Every builder tolerates missing fields (a partial run, an older or newer file layout): a subject
// without the figure is left out, and a file without any returns null (no chart).

import { fmtNum } from './stats.mjs';
import { TONES } from './svg-bar-chart.mjs';

const n = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const us = (v) => `${fmtNum(v)} µs`;
const perSec = (v) => `${fmtNum(v)}/s`;

function subtitle(results, file) {
  const m = results.machine ?? {};
  const commit = results.source?.commit ? ` at ${results.source.commit}` : '';
  const load = m.loadAvgAtStart ? `; load average at start ${m.loadAvgAtStart.join(' / ')}` : '';
  const lines = [`${results.date ?? '?'} · ${results.command ?? '?'}${commit} · bench/results/${file}`];
  if (!results.machine) return lines;
  return [
    ...lines,
    `${m.cpu ?? '?'}, ${m.cores ?? '?'} cores, Node ${m.node ?? '?'}${m.sqlite ? `, SQLite ${m.sqlite}` : ''}${m.servers?.redis ? `, Redis ${m.servers.redis}` : ''}${load}`,
  ];
}

const KIND_LEGEND = [
  { label: 'chatstate', color: TONES.chatstate },
  { label: 'peer (the same work without chatstate)', color: TONES.peer },
  { label: 'floor (the database alone)', color: TONES.floor },
];

const STORE_ORDER = ['sqlite', 'memory', 'redis', 'redis-cluster', 'memcached'];

/** Median µs per transition, one at a time: each chatstate store beside its peers and floors. */
export function storesChart(results, file) {
  const all = results.subjects ?? [];
  // A row that did not run (skipped, failed) keeps its place, marked, so the chart never hides it.
  const subjects = all.filter((s) => n(s.sequential?.medianUs) !== null || s.status);
  if (!subjects.some((s) => n(s.sequential?.medianUs) !== null)) return null;
  const bar = (s) => {
    const value = n(s.sequential?.medianUs);
    return {
      label: s.label ?? s.name,
      value,
      display: value === null ? String(s.status ?? 'not measured').split(':')[0] : us(value),
      tone: s.kind in TONES ? s.kind : 'other',
    };
  };
  const placed = new Set();
  const groups = [];
  // The default store first, then the in-process one, then the servers.
  const rank = (s) => {
    const i = STORE_ORDER.indexOf(s.name);
    return i === -1 ? STORE_ORDER.length : i;
  };
  for (const s of subjects.filter((x) => x.kind === 'chatstate').sort((a, b) => rank(a) - rank(b))) {
    const mine = [s, ...subjects.filter((x) => x.peerOf === s.name && x.kind !== 'chatstate')];
    for (const x of mine) placed.add(x);
    groups.push({ label: s.label ?? s.name, bars: mine.map(bar) });
  }
  const rest = subjects.filter((s) => !placed.has(s));
  if (rest.length) groups.push({ label: 'other rows', bars: rest.map(bar) });
  const users = results.config?.users;
  return {
    title: 'Store transition latency: chatstate beside its peers and floors',
    subtitle: subtitle(results, file),
    axisTitle: 'median µs per transition, one at a time',
    log: true,
    legend: KIND_LEGEND,
    groups,
    notes: [
      `Claim + load + commit per inbound message${users ? ` over ${users.toLocaleString('en-US')} users` : ''}; median of ${results.config?.rounds ?? '?'} interleaved rounds. Lower is better.`,
    ],
  };
}

/** p99 per transition against the number of stored sessions, per store. */
export function scaleChart(results, file) {
  const groups = (results.subjects ?? [])
    .map((s) => ({
      label: s.label ?? s.name,
      bars: (s.sizes ?? []).map((z) => {
        const value = n(z.summary?.p99Us);
        return {
          label: `${Number(z.n).toLocaleString('en-US')} sessions`,
          value,
          display:
            value === null
              ? String(z.status ?? 'not measured').split(':')[0]
              : `${us(value)} (p50 ${us(z.summary.medianUs)})`,
          tone: s.kind in TONES ? s.kind : 'other',
        };
      }),
    }))
    .filter((g) => g.bars.length);
  if (!groups.some((g) => g.bars.some((b) => b.value !== null))) return null;
  const figures = (results.figures ?? [])
    .filter((f) => f.value !== null && f.value !== undefined)
    .map((f) => `${f.pass ? 'PASS' : 'MISS'}: ${f.title}: ${f.display} (target ${f.target})`);
  return {
    title: 'Transition p99 against stored sessions',
    subtitle: subtitle(results, file),
    axisTitle: 'p99 µs per transition, one at a time, users drawn from all N sessions',
    legend: KIND_LEGEND.filter((k) => k.label !== KIND_LEGEND[1].label),
    groups,
    notes: figures,
  };
}

const throughput = (x) => n(x?.perSec) ?? n(x?.rps) ?? n(x?.opsPerSec) ?? n(x?.sendsPerSec);
/** bare/floor rows are floors, chatstate rows chatstate, diagnostics "other", the rest peers. */
function toneOf(s) {
  const name = String(s.name ?? '');
  const label = String(s.label ?? '');
  if (s.kind && s.kind in TONES) return s.kind;
  if (/^(bare|floor)/.test(name) || /^(bare|floor)/.test(label)) return 'floor';
  if (name === 'chatstate' || s.chatstate === true || label.startsWith('chatstate')) return 'chatstate';
  if (/^(ackpath|diag)/.test(name) || label.startsWith('diagnostic')) return 'other';
  return 'peer';
}

/** p99 in ms: `p99Ms`, or a closed-loop p99 in µs (the sends layout). */
const p99MsOf = (x) => n(x?.p99Ms) ?? (n(x?.closedP99Us) === null ? null : x.closedP99Us / 1000);

/** One bar per subject of a load run (webhook, e2e, sends): its throughput, p99 beside it. */
function loadChart(results, file, { title, axisTitle, unit }) {
  const bars = (results.subjects ?? []).map((s) => {
    const v = throughput(s.summary);
    const p99 = p99MsOf(s.summary);
    return {
      label: s.label ?? s.name,
      value: v,
      display: v === null ? 'no result' : `${perSec(v)}${p99 === null ? '' : ` · p99 ${fmtNum(p99)} ms`}`,
      tone: toneOf(s),
    };
  });
  if (!bars.some((b) => b.value !== null)) return null;
  return {
    title,
    subtitle: subtitle(results, file),
    axisTitle,
    legend: [
      { tone: 'chatstate', label: 'chatstate' },
      { tone: 'peer', label: 'peer' },
      { tone: 'floor', label: 'floor (bare)' },
      { tone: 'other', label: 'diagnostic' },
    ]
      .filter((k) => bars.some((b) => b.tone === k.tone))
      .map((k) => ({ label: k.label, color: TONES[k.tone] })),
    groups: [{ bars }],
    notes: [`${unit}: median of ${results.config?.rounds ?? '?'} rounds. Higher is better.`],
  };
}

export const webhookChart = (results, file) =>
  loadChart(results, file, {
    title: 'Webhook acknowledgements per second',
    axisTitle: 'acknowledged requests/s',
    unit: 'Signed single-message Cloud API webhooks, 64 connections',
  });

export const e2eChart = (results, file) =>
  loadChart(results, file, {
    title: 'End to end: webhook in, reply out',
    axisTitle: 'messages/s (webhook to reply)',
    unit: 'chatstate serve with the demo bot',
  });

export const sendsChart = (results, file) =>
  loadChart(results, file, {
    title: 'Outbound sends per second',
    axisTitle: 'sends/s',
    unit: 'Replies sent to a local sink',
  });

/** Result kind → chart builder; the SVG is bench/results/<kind>.svg. */
export const CHARTS = Object.freeze({
  stores: storesChart,
  scale: scaleChart,
  webhook: webhookChart,
  e2e: e2eChart,
  sends: sendsChart,
});
