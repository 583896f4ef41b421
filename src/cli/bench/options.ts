import { positiveInt, UsageError } from '../shared.js';

export interface BenchOptions {
  users: number;
  concurrency: number;
  /** Per timed phase. */
  durationMs: number;
  /** Per timed phase (Infinity: no cap). */
  transitions: number;
  dau: number;
  /** null: the store's default (see StoreProbe.defaultReplicas). */
  replicas: number | null;
  keep: boolean;
  json: boolean;
}

export const DEFAULTS = { users: 1000, concurrency: 64, durationS: 10, dau: 100_000 } as const;

/** Untimed transitions counted for round trips, as many as the suite counts (ROUND_TRIP_SAMPLE). */
export const ROUND_TRIP_SAMPLE = 200;

export interface BenchFlags {
  users?: string;
  concurrency?: string;
  duration?: string;
  transitions?: string;
  dau?: string;
  replicas?: string;
  keep?: boolean;
  json?: boolean;
}

/** Flag values to options; a bad value is a UsageError naming the flag (exit 2). */
export function parseBenchFlags(flags: BenchFlags): BenchOptions {
  const users = positiveInt(flags.users, 'users', DEFAULTS.users);
  const concurrency = positiveInt(flags.concurrency, 'concurrency', DEFAULTS.concurrency);
  if (concurrency > users)
    throw new UsageError(
      `--concurrency ${concurrency} is more than --users ${users}: each transition in flight needs its own user.`,
    );
  return {
    users,
    concurrency,
    durationMs: positiveSeconds(flags.duration, 'duration', DEFAULTS.durationS) * 1000,
    transitions: positiveInt(flags.transitions, 'transitions', Number.POSITIVE_INFINITY),
    dau: positiveInt(flags.dau, 'dau', DEFAULTS.dau),
    replicas:
      flags.replicas === undefined || flags.replicas === '' ? null : count(flags.replicas, 'replicas'),
    keep: Boolean(flags.keep),
    json: Boolean(flags.json),
  };
}

function positiveSeconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${flag} must be a positive number of seconds, got "${value}".`);
  return n;
}

function count(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`--${flag} must be an integer >= 0, got "${value}".`);
  return n;
}
