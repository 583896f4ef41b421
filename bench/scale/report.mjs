// Markdown of the scale benchmark (bench/results/latest-scale.md, beside <date>-scale.json, both
// written by bench/run-scale.mjs), with the same header (command, commit, machine) as latest-stores.md.
import { figuresSection } from '../lib/figure-lines.mjs';
import { fmtNum, fmtRatio } from '../lib/stats.mjs';
import { markdownTable } from '../lib/table.mjs';
import { HISTORY_LIMIT } from '../lib/workload.mjs';

const count = (n) => n.toLocaleString('en-US');
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 2 : 1)} MiB`;

/** The size every ratio is taken against: 10,000 when the run has it, else its smallest size. */
export function baseSize(sizes) {
  return sizes.includes(10_000) ? 10_000 : Math.min(...sizes);
}

/** p99 and p50 at `n` over the same row's at the base size; null when either is missing. */
export function growth(subject, n, base) {
  const at = (size) => subject.sizes.find((s) => s.n === size)?.summary ?? null;
  const mine = at(n);
  const ref = at(base);
  if (!mine || !ref) return { p99: null, p50: null };
  return { p99: mine.p99Us / ref.p99Us, p50: mine.medianUs / ref.medianUs };
}

export function scaleTable(results) {
  const base = baseSize(results.config.sizes);
  const rows = [];
  for (const s of results.subjects) {
    for (const size of s.sizes) {
      const x = size.summary;
      const g = growth(s, size.n, base);
      if (!x) {
        rows.push([s.label, count(size.n), size.status, '—', '—', '—', '—', '—', '—', '—', '—']);
        continue;
      }
      rows.push([
        s.label,
        count(size.n),
        fmtNum(x.medianUs),
        fmtNum(x.p99Us),
        fmtNum(x.meanUs),
        fmtNum(x.opsPerSec),
        x.p99PerRound.map(fmtNum).join(' / '),
        fmtRatio(g.p99),
        fmtRatio(g.p50),
        `${(size.seed.ms / 1000).toFixed(1)} s`,
        `${mb(size.size.bytes)} (${fmtNum(size.size.perSession)} B/session)`,
      ]);
    }
  }
  return markdownTable(
    [
      'Subject',
      'sessions',
      'p50 us',
      'p99 us',
      'mean us',
      'transitions/s',
      'p99 per round us',
      `p99 / p99 at ${count(base)}`,
      `p50 / p50 at ${count(base)}`,
      'seeding',
      'store size',
    ],
    rows,
  );
}

export function renderMarkdown(results) {
  const m = results.machine;
  const c = results.config;
  return [
    `# chatstate scale benchmark — ${results.date}`,
    '',
    `Command: \`${results.command}\` at commit ${results.source.commit ?? '?'}${results.source.srcChanges ? ` (+${results.source.srcChanges} uncommitted files in src/)` : ''}`,
    '',
    `Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; SQLite ${m.sqlite}; Redis ${m.servers?.redis ?? '—'}; temp files on ${m.tmpFilesystem?.type ?? '?'} (${m.tmpdir}); load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    '',
    `Per transition: claim a fresh message id + load + commit (goto, incr retries, remember, TTL renewal), default lease, one at a time, users drawn uniformly from all N stored sessions (every session seeded with a full history of ${HISTORY_LIMIT} entries). Each row and size is its own store (SQLite file, redis-server). ${c.rounds} rounds interleaved across rows and sizes, each up to ${count(c.iterations)} transitions or ${c.budgetMs / 1000} s after ${count(c.warmup)} untimed ones; figures are the median of the round figures. Seeding copies one real session's stored bytes under N keys; a sample of ${c.sample + 2} seeded sessions is read back through the store before measuring.`,
    '',
    scaleTable(results),
    '',
    ...figuresSection(results),
  ].join('\n');
}
