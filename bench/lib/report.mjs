// Turns a finished store run into the markdown the README/docs quote (bench/results/latest-stores.md,
// written with <date>-stores.json by bench/run.mjs through run-record.mjs).
import { figuresSection } from './figure-lines.mjs';
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
  const anyRt = results.subjects.some((s) => s.roundTrips);
  for (const s of results.subjects) {
    if (s.status !== 'ok')
      rows.push([s.label, s.status, '—', '—', '—', '—', '—', ...(anyRt ? ['—'] : []), '']);
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
        ...(anyRt
          ? [s.roundTrips && scenario === 'sequential' ? fmtNum(s.roundTrips.perTransition) : '']
          : []),
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
      ...(anyRt ? ['round trips'] : []),
      'compared',
    ],
    rows,
  );
}

/** Where the round-trip column comes from: what the servers (and the memcached driver) counted. */
export function roundTripTable(results) {
  const rows = results.subjects
    .filter((s) => s.roundTrips)
    .map((s) => {
      const r = s.roundTrips;
      const per = (o) =>
        Object.entries(o)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${fmtNum(v)}`)
          .join(', ');
      if (r.commandstats) {
        return [
          s.label,
          fmtNum(r.perTransition),
          `MONITOR, client commands: ${per(r.byCommand)}; ${fmtNum(r.inScripts)} more inside scripts`,
          `evalsha ${fmtNum(r.commandstats.evalsha)}, eval ${fmtNum(r.commandstats.eval)}, all calls ${fmtNum(r.commandstats.all)}`,
        ];
      }
      return [
        s.label,
        fmtNum(r.perTransition),
        r.driver
          ? `driver counter: ${fmtNum(r.driver.roundTrips)} round trips, ${fmtNum(r.driver.requests)} requests + ${fmtNum(r.driver.noReplies)} noreply`
          : 'one request per client call: server stores + keys read',
        `stats: ${per(r.memcached)}`,
      ];
    });
  if (!rows.length) return null;
  return markdownTable(['Subject', 'round trips', 'counted how', 'server counters per transition'], rows);
}

/** Bytes per stored seed session on the servers (Redis used_memory / MEMORY USAGE, memcached stats). */
export function serverBytesTable(results) {
  const rows = [];
  for (const s of results.subjects) {
    const b = s.bytes;
    if (b?.kind === 'redis') {
      rows.push([
        s.label,
        b.n.toLocaleString('en-US'),
        fmtNum(b.perSession),
        fmtNum(b.memoryUsage),
        Object.entries(b.keys)
          .map(([k, v]) => `${k}: ${v.type} ${v.encoding} ${v.memoryUsage} B`)
          .join('; ') + `; DBSIZE ${b.dbsize.toLocaleString('en-US')}`,
      ]);
    } else if (b?.kind === 'memcached') {
      rows.push([
        s.label,
        b.n.toLocaleString('en-US'),
        `${fmtNum(b.chunkSize)} (chunk)`,
        `${fmtNum(b.itemBytes)} (item)`,
        `slab class ${b.slabClass}: ${b.chunksInClass.toLocaleString('en-US')} chunks of ${b.chunkSize} B; ${b.items.toLocaleString('en-US')} items; total_malloced ${fmtNum(b.mallocedPerSession)} B/session; evictions ${b.evictions}`,
      ]);
    }
  }
  if (!rows.length) return null;
  return markdownTable(
    ['Subject', 'sessions', 'used_memory delta / chunk per session', 'MEMORY USAGE / item bytes', 'detail'],
    rows,
  );
}

export function bytesTable(results) {
  if (!results.subjects.some((s) => s.bytes && !s.bytes.kind)) return '(not measured in this run)';
  const rows = results.subjects
    .filter((s) => s.bytes && !s.bytes.kind)
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

export function renderMarkdown(results) {
  const m = results.machine;
  const rt = roundTripTable(results);
  const serverBytes = serverBytesTable(results);
  const limited = results.subjects.find(
    (s) =>
      s.limits &&
      (s.limits.iterations !== results.config.iterations || s.limits.budgetMs !== results.config.budgetMs),
  );
  return [
    `# chatstate store benchmark — ${results.date}`,
    '',
    `Command: \`${results.command}\` at commit ${results.source.commit ?? '?'}${results.source.srcChanges ? ` (+${results.source.srcChanges} uncommitted files in src/)` : ''}`,
    '',
    `Machine: ${m.os}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; SQLite ${m.sqlite}; Redis ${m.servers?.redis ?? '—'}; memcached ${m.servers?.memcached ?? '—'}; temp files on ${m.tmpFilesystem?.type ?? '?'} (${m.tmpdir}); load average at start ${m.loadAvgAtStart.join(' / ')}, at end ${(m.loadAvgAtEnd ?? []).join(' / ')}.`,
    '',
    `Per transition: claim a fresh message id + load + commit (goto, incr retries, remember, TTL renewal), default lease. ${results.config.rounds} rounds interleaved across subjects; medians and p99 are the median of the round figures.`,
    '',
    ...(limited
      ? [
          `Server rows (Redis, Memcached) stop a round at ${limited.limits.iterations.toLocaleString('en-US')} transitions or ${limited.limits.budgetMs / 1000} s, the others at ${results.config.iterations.toLocaleString('en-US')} or ${results.config.budgetMs / 1000} s.`,
          '',
        ]
      : []),
    latencyTable(results),
    '',
    ...(rt
      ? [
          'Round trips per transition, counted on the server (untimed transitions after the timed rounds; Redis: MONITOR shows each command with its source, `lua` for commands inside scripts; INFO commandstats counts both):',
          '',
          rt,
          '',
        ]
      : []),
    'Bytes per stored seed session (SQLite files after WAL checkpoint):',
    '',
    bytesTable(results),
    '',
    ...(serverBytes
      ? [
          'Bytes per stored seed session on the servers (fresh server per row; Redis: used_memory delta / sessions and MEMORY USAGE … SAMPLES 0 of one session; Memcached: slab chunk and stats bytes / curr_items):',
          '',
          serverBytes,
          '',
        ]
      : []),
    'Encoded body of the seed session (the bytes a blob store holds, 1-byte frame tag included):',
    '',
    bodyTable(results),
    '',
    ...figuresSection(results),
  ].join('\n');
}
