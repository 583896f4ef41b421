import type { SessionStore } from '../../store/session-store.js';

/** Bytes one stored session takes, and how that was found out (`bytes_method`). */
export interface BytesFigure {
  perSession: number;
  method: string;
  /** Secondary figures printed beside it in the JSON (e.g. Redis used_memory delta). */
  detail?: Record<string, number | string | null>;
}

/** Round trips per transition, or null with the reason the store cannot count them. */
export interface RoundTripFigure {
  perTransition: number | null;
  method: string;
}

/** How much more than the measured bytes the store really needs (fragmentation, page fill). */
export interface Overhead {
  factor: number;
  why: string;
}

/**
 * What `chatstate bench` needs to know about one kind of store beyond the public API: how to
 * measure bytes per session and round trips, its memory overhead, and how to remove every key the
 * bench wrote (all of them carry the bench prefix, so real sessions are never touched).
 */
export interface StoreProbe {
  /** `disk` (SQLite) or `memory` (Redis, Memcached, memory:): what the capacity estimate is about. */
  readonly medium: 'disk' | 'memory';
  /** Default --replicas: replicas or backup copies a production deployment typically keeps. */
  readonly defaultReplicas: number;
  /** Claim keys must be remembered for cleanup (Memcached cannot list keys). */
  readonly tracksClaims: boolean;
  /** Called before the users are seeded. */
  beforeSeed(): Promise<void>;
  /** Called after: bytes per seeded session. `ids` are the seeded user ids (without prefix). */
  afterSeed(ids: readonly string[]): Promise<BytesFigure>;
  /** Runs `run(n)` (n untimed transitions) and counts its round trips. */
  roundTrips(run: (n: number) => Promise<void>, n: number): Promise<RoundTripFigure>;
  overhead(): Promise<Overhead>;
  /** Deletes everything under the bench prefix; returns how many keys or rows went. */
  cleanup(ids: readonly string[], claims: ReadonlyArray<readonly [string, string]>): Promise<number>;
  /** After the store closed (SQLite removes a file the bench created). */
  afterClose?(): Promise<void>;
}

export interface ProbeContext {
  store: SessionStore;
  url: string;
  /** The bench's key prefix (`bench:<random>:`). */
  prefix: string;
  /** The prefix real sessions get on this store (`cs:` on Redis and Memcached, none on SQLite). */
  defaultPrefix: string;
  /** The bench created the store (a `sqlite:` file that did not exist): remove it at the end. */
  createdFile: boolean;
}

/** Mean of the encoded bodies of up to 100 sessions, read back through the driver (what blob stores hold). */
export async function bodyBytes(ctx: ProbeContext, ids: readonly string[]): Promise<number> {
  const sample = ids.slice(0, 100);
  let total = 0;
  for (const id of sample) {
    const record = await ctx.store.driver.load(ctx.prefix + id, Date.now());
    if (record && 'body' in record) total += record.body.length;
  }
  return sample.length ? total / sample.length : Number.NaN;
}

/** Picks the probe of the store's driver; drivers registered by users count as memory stores. */
export async function probeFor(ctx: ProbeContext): Promise<StoreProbe> {
  switch (ctx.store.driver.name) {
    case 'sqlite':
      return (await import('./probe-sqlite.js')).sqliteProbe(ctx);
    case 'redis':
      return (await import('./probe-redis.js')).redisProbe(ctx);
    case 'memcached':
      return (await import('./probe-memcached.js')).memcachedProbe(ctx);
    default:
      return (await import('./probe-memory.js')).memoryProbe(ctx);
  }
}
