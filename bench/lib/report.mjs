// Turns a finished run into the markdown the README/docs quote and the files under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fmtNum, fmtRatio, speedup } from './stats.mjs';
import { markdownTable } from './table.mjs';

const us = (v) => fmtNum(v);

/** The comparison cell of a peer or floor row against the chatstate subject it names. */
function versus(subject, scenario, byName) {
  const base = byName.get(subject.peerOf)?.[scenario];
  const mine = subject[scenario];
  if (!base || !mine || !subject.peerOf) return '';
  if (subject.kind === 'floor') {
    const times = speedup(mine.medianUs, base.medianUs);
    return `chatstate ${subject.peerOf} = ${fmtRatio(times)} floor (+${fmtNum(base.medianUs - mine.medianUs)} us)`;
  }
  return scenario === 'sequential'
    ? `chatstate ${subject.peerOf} ${fmtRatio(speedup(base.medianUs, mine.medianUs))} faster (median)`
    : `chatstate ${subject.peerOf} ${fmtRatio(base.opsPerSec / mine.opsPerSec)} the transitions/s`;
}

export function latencyTable(results) {
  const byName = new Map(results.subjects.map((s) => [s.name, s]));
  const { users, concurrency } = results.config;
  const rows = [];
  for (const s of results.subjects) {
    if (s.status !== 'ok') rows.push([s.label, s.status, '—', '—', '—', '—', '—', '']);
    if (!s.sequential) continue;
    for (const [scenario, title] of [
      ['sequential', `1 at a time, ${users.toLocaleString('en-US')} users`],
      ['concurrent', `${concurrency} in flight`],
    ]) {
      const r = s[scenario];
      const spread = r.spreadUs.length ? `${fmtNum(r.spreadUs[0])}–${fmtNum(r.spreadUs[1])}` : '—';
      rows.push([
        s.label,
        title,
        us(r.medianUs),
        us(r.p99Us),
        fmtNum(r.opsPerSec),
        spread,
        r.n.toLocaleString('en-US'),
        versus(s, scenario, byName),
      ]);
    }
  }
  return markdownTable(
    [
      'Subject',
      'Scenario',
      'median us',
      'p99 us',
      'transitions/s',
      'round medians us',
      'samples',
      'compared',
    ],
    rows,
  );
}

export function bytesTable(results) {
  if (!results.subjects.some((s) => s.bytes)) return '(not measured in this run)';
  const rows = results.subjects
    .filter((s) => s.bytes)
    .map((s) => [
      s.label,
      s.bytes.n.toLocaleString('en-US'),
      fmtNum(s.bytes.liveBytes / s.bytes.n),
      fmtNum(s.bytes.fileBytes / s.bytes.n),
      s.bytes.valueBytes === undefined ? '—' : fmtNum(s.bytes.valueBytes),
      breakdown(s.bytes),
    ]);
  return markdownTable(
    [
      'Subject',
      'sessions',
      'bytes/session (used pages)',
      'file bytes/session',
      'avg stored value bytes',
      'per session by table/index',
    ],
    rows,
  );
}

/** The tables and indexes that hold more than one page, per session (from SQLite's dbstat). */
function breakdown(bytes) {
  if (!bytes.objects) return '—';
  return Object.entries(bytes.objects)
    .filter(([, o]) => o.bytes > 4096)
    .map(([name, o]) => `${name} ${fmtNum(o.bytes / bytes.n)}`)
    .join(', ');
}

export function bodyTable(results) {
  return markdownTable(
    ['Encoding', 'seed session bytes', 'after 5 messages (history full)'],
    results.bodies.map((b) => [b.encoding, b.seedBytes, b.fullHistoryBytes ?? '—']),
  );
}

export function figureLines(results) {
  return results.figures.map((f) =>
    f.value === null
      ? `- NOT RUN — ${f.title} (${f.why})`
      : `- ${f.pass ? 'PASS' : 'MISS'} — ${f.title}: ${f.display} (target ${f.target})`,
  );
}

export function renderMarkdown(results) {
  const m = results.machine;
  return [
    `# chatstate store benchmark — ${results.date}`,
    '',
    `Command: \`${results.command}\` at commit ${results.source.commit ?? '?'}${results.source.srcChanges ? ` (+${results.source.srcChanges} uncommitted files in src/)` : ''}`,
    '',
    `Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; SQLite ${m.sqlite}; temp files on ${m.tmpFilesystem?.type ?? '?'} (${m.tmpdir}); load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    '',
    `Per transition: claim a fresh message id + load + commit (goto, incr retries, remember, TTL renewal), default lease. ${results.config.rounds} rounds interleaved across subjects; medians and p99 are the median of the round figures.`,
    '',
    latencyTable(results),
    '',
    'Bytes per stored seed session (SQLite files after WAL checkpoint):',
    '',
    bytesTable(results),
    '',
    'Encoded body of the seed session (the bytes a blob store holds, 1-byte frame tag included):',
    '',
    bodyTable(results),
    '',
    'Figures:',
    '',
    ...figureLines(results),
    '',
  ].join('\n');
}

/** bench/results/<date>-stores.json and bench/results/latest-stores.md. */
export function writeResults(results, dir) {
  mkdirSync(dir, { recursive: true });
  const json = new URL(`${results.date}-stores.json`, dir);
  const md = new URL('latest-stores.md', dir);
  // Three decimals are plenty for microseconds and bytes, and keep the file readable.
  const round = (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);
  writeFileSync(json, `${JSON.stringify(results, round, 2)}\n`);
  writeFileSync(md, renderMarkdown(results));
  return [json, md];
}
