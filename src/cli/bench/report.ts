import type { BenchOptions } from './options.js';
import type { BenchRun } from './run-bench.js';
import type { PhaseResult } from './stats.js';

/** The `--json` object: the fields the issue names, then the details that explain them. */
export function reportJson(store: string, session: string, o: BenchOptions, run: BenchRun) {
  return {
    store,
    driver: run.driver,
    session,
    users: o.users,
    transitions: run.sequential.transitions + run.concurrent.transitions,
    concurrency: o.concurrency,
    // Latency of one transition on its own; throughput with `concurrency` in flight.
    p50_us: round(run.sequential.p50Us),
    p99_us: round(run.sequential.p99Us),
    per_second: round(run.concurrent.perSecond),
    phases: { one_at_a_time: phaseJson(run.sequential), concurrent: phaseJson(run.concurrent) },
    round_trips_per_transition: run.roundTrips.perTransition,
    round_trips_method: run.roundTrips.method,
    bytes_per_session: round(run.bytes.perSession),
    bytes_method: run.bytes.method,
    ...(run.bytes.detail ? { bytes_detail: roundAll(run.bytes.detail) } : {}),
    capacity: run.capacity,
    prefix: run.prefix,
    deleted: run.deleted,
    measured_at: new Date().toISOString(),
  };
}

function phaseJson(p: PhaseResult) {
  return {
    transitions: p.transitions,
    p50_us: round(p.p50Us),
    p99_us: round(p.p99Us),
    per_second: round(p.perSecond),
    seconds: round(p.seconds, 2),
  };
}

/** The table printed without --json: phases, store figures, capacity, then the assumptions. */
export function reportTable(store: string, session: string, o: BenchOptions, run: BenchRun): string {
  const c = run.capacity;
  const rows = [
    ['phase', 'transitions', 'p50 us', 'p99 us', 'per second'],
    phaseRow('one at a time', run.sequential),
    phaseRow(`${o.concurrency} in flight`, run.concurrent),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const table = rows.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('   '),
  );
  const rt = run.roundTrips.perTransition;
  const copies = 1 + c.replicas;
  const lines = [
    `chatstate bench: ${store} (${run.driver}), ${session}, ${o.users.toLocaleString('en-US')} users`,
    '',
    ...table,
    '',
    `round trips per transition   ${rt === null ? '—' : num(rt)}`,
    `                             ${run.roundTrips.method}`,
    `bytes per session            ${num(run.bytes.perSession)} B`,
    `                             ${run.bytes.method}`,
    `${c.medium} for ${c.dau.toLocaleString('en-US')} DAU`.padEnd(29) +
      `${size(c.storage_bytes)} (${num(run.bytes.perSession)} B x ${c.dau.toLocaleString('en-US')} x ${copies} ${copies === 1 ? 'copy' : 'copies'} x ${c.overhead_factor} overhead)`,
    `one instance saturates at    about ${num(c.saturation_messages_per_second)} messages/s`,
    '',
    'assumptions',
    ...c.assumptions.map((a) => `  - ${a}`),
  ];
  return lines.join('\n');
}

function phaseRow(label: string, p: PhaseResult): string[] {
  return [label, p.transitions.toLocaleString('en-US'), num(p.p50Us), num(p.p99Us), num(p.perSecond)];
}

/** "12.3" / "1,234": three significant digits below 100, grouped integers above (the suite's fmtNum). */
export function num(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3).replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m));
}

/** Bytes in binary units: `812 B`, `15.6 MiB`, `1.21 GiB`. */
export function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : num(value)} ${units[unit]}`;
}

function round(value: number, digits = 1): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function roundAll(detail: Record<string, number | string | null>) {
  return Object.fromEntries(
    Object.entries(detail).map(([k, v]) => [k, typeof v === 'number' ? round(v, 2) : v]),
  );
}
