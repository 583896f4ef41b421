import { randomBytes } from 'node:crypto';
import type { RedisDriver } from '../../store/drivers/redis.js';
import { openStore } from '../../store/open.js';
import type { SessionStore } from '../../store/session-store.js';
import { missingSqliteFile } from '../shared.js';
import { type Capacity, estimateCapacity } from './capacity.js';
import { concurrent, type Step, sequential, untimed, type Workload } from './measure.js';
import { type BenchOptions, ROUND_TRIP_SAMPLE } from './options.js';
import { type BytesFigure, probeFor, type RoundTripFigure, type StoreProbe } from './probe.js';
import type { Progress } from './progress.js';
import { num } from './report.js';
import { type BenchShape, stepShape, writeShape } from './session-shape.js';
import type { PhaseResult } from './stats.js';
import { messageIds, userIds } from './workload.js';

const SEED_IN_FLIGHT = 64;

export interface BenchRun {
  driver: string;
  prefix: string;
  sequential: PhaseResult;
  concurrent: PhaseResult;
  bytes: BytesFigure;
  roundTrips: RoundTripFigure;
  capacity: Capacity;
  /** Keys or rows deleted at the end; null with --keep. */
  deleted: number | null;
}

/** Ctrl-C during the run: everything the bench wrote was removed (or kept with --keep). */
export class BenchInterrupted extends Error {
  override readonly name = 'BenchInterrupted';
}

/**
 * The whole bench on one store: seed the users under a fresh `bench:<random>:` prefix, measure
 * bytes per session, warm up, time the one-at-a-time and the concurrent phase, count round trips,
 * then delete everything under the prefix, also after Ctrl-C or a failure.
 */
export async function runBench(
  url: string,
  shape: BenchShape,
  o: BenchOptions,
  progress: Progress,
): Promise<BenchRun> {
  const createdFile = missingSqliteFile(url) !== null;
  const prefix = `bench:${randomBytes(3).toString('hex')}:`;
  const store = await openStore(url, { prefix, schemaVersion: shape.schema, sweepIntervalMs: 0 });
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) {
      progress.note(`interrupted again: exiting without cleanup; keys under "${prefix}" may remain`);
      process.exit(130);
    }
    stop.abort();
    progress.note(`interrupted: removing what the bench wrote under "${prefix}" (Ctrl-C again to skip)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ids = userIds(o.users);
  const claims: Array<[string, string]> = [];
  let probe: StoreProbe | undefined;
  let failed = false;
  let result: Awaited<ReturnType<typeof measure>>;
  let deleted: number | null = null;
  try {
    probe = await probeFor({ store, url, prefix, defaultPrefix: realPrefix(store), createdFile });
    progress.note(
      `${store.driver.name} store, ${shape.label}, ${o.users.toLocaleString('en-US')} users under prefix "${prefix}"`,
    );
    result = await measure(store, probe, shape, o, progress, ids, claims, stop.signal);
    if (stop.signal.aborted) throw new BenchInterrupted('interrupted');
  } catch (error) {
    failed = true;
    throw stop.signal.aborted ? new BenchInterrupted('interrupted') : error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    deleted = await finishRun(store, probe, o, progress, ids, claims, prefix, failed);
  }
  return { driver: store.driver.name, prefix, ...result, deleted };
}

async function measure(
  store: SessionStore,
  probe: StoreProbe,
  shape: BenchShape,
  o: BenchOptions,
  progress: Progress,
  ids: string[],
  claims: Array<[string, string]>,
  signal: AbortSignal,
) {
  const handler = stepShape(shape);
  const step: Step = async (userId, messageId) => {
    // Remembered before the call, so a claim written by a transition that then failed is deleted too.
    if (probe.tracksClaims) claims.push([userId, messageId]);
    const result = await store.transition(userId, handler, { claim: messageId });
    if (result.status !== 'committed')
      throw new Error(`bench transition ${messageId} of user ${userId} was ${result.status}, not committed`);
  };
  const w: Workload = { step, users: ids, nextMessageId: messageIds() };

  progress.start({ label: `seeding ${ids.length.toLocaleString('en-US')} users`, limit: ids.length });
  await probe.beforeSeed();
  const seed = writeShape(shape);
  const seedStarted = performance.now();
  // Plain stored sessions, as the suite's bytes run stores them: no claim, no lease row beside them.
  for (let i = 0; i < ids.length && !signal.aborted; i += SEED_IN_FLIGHT) {
    await Promise.all(
      ids.slice(i, i + SEED_IN_FLIGHT).map((id) => store.transition(id, seed, { lease: false })),
    );
    progress.update(Math.min(ids.length, i + SEED_IN_FLIGHT));
  }
  const bytes = await probe.afterSeed(ids);
  progress.end(
    `done in ${seconds(performance.now() - seedStarted)}, ${bytes.perSession.toFixed(1)} B per session`,
  );

  // Untimed, so JIT, statement caches and pages are warm before the timed phases.
  const warmMs = Math.min(1000, o.durationMs / 5);
  progress.start({ label: 'warm-up', budgetMs: warmMs });
  const warm = await sequential(w, {
    limit: Math.min(2000, o.transitions),
    budgetMs: warmMs,
    signal,
    onProgress: progress.update,
  });
  progress.end(`${warm.transitions.toLocaleString('en-US')} transitions`);

  const limits = { limit: o.transitions, budgetMs: o.durationMs, signal, onProgress: progress.update };
  progress.start({ label: 'one at a time', budgetMs: o.durationMs, limit: o.transitions });
  const seq = await sequential(w, limits, 7919);
  progress.end(phaseSummary(seq));

  progress.start({ label: `${o.concurrency} in flight`, budgetMs: o.durationMs, limit: o.transitions });
  const conc = await concurrent(w, limits, o.concurrency);
  progress.end(phaseSummary(conc));

  progress.start({ label: 'counting round trips', limit: ROUND_TRIP_SAMPLE });
  let offset = 104_729;
  const roundTrips = await probe.roundTrips(
    (n) => untimed(w, n, signal, (offset += 104_729)),
    ROUND_TRIP_SAMPLE,
  );
  progress.end(
    roundTrips.perTransition === null
      ? 'not countable on this store'
      : `${roundTrips.perTransition} per transition`,
  );

  const overhead = await probe.overhead();
  const capacity = estimateCapacity({
    bytesPerSession: bytes.perSession,
    dau: o.dau,
    replicas: o.replicas ?? probe.defaultReplicas,
    overhead,
    medium: probe.medium,
    perSecond: conc.perSecond,
    concurrency: o.concurrency,
    shape: shape.label,
    historyLimit: store.options.historyLimit,
    claimTtlDays: store.options.claimTtlMs / 86_400_000,
  });
  return { sequential: seq, concurrent: conc, bytes, roundTrips, capacity };
}

/** Cleanup (unless --keep), close, and remove a SQLite file the bench created. */
async function finishRun(
  store: SessionStore,
  probe: StoreProbe | undefined,
  o: BenchOptions,
  progress: Progress,
  ids: string[],
  claims: Array<[string, string]>,
  prefix: string,
  failed: boolean,
): Promise<number | null> {
  try {
    if (!probe) return null;
    if (o.keep) {
      progress.note(`--keep: the bench's sessions stay under "${prefix}"`);
      return null;
    }
    progress.start({ label: 'cleanup' });
    const deleted = await probe.cleanup(ids, claims);
    progress.end(`${deleted.toLocaleString('en-US')} keys or rows under "${prefix}" deleted`);
    return deleted;
  } catch (error) {
    progress.note(`could not remove the keys under "${prefix}": ${(error as Error).message}`);
    if (!failed) throw error;
    return null;
  } finally {
    await store.close().catch(() => {});
    if (probe && !o.keep) await probe.afterClose?.();
  }
}

/** The prefix real sessions get on this store, so key bytes can be compared like for like. */
function realPrefix(store: SessionStore): string {
  if (store.driver.name === 'redis') return (store.driver as RedisDriver).prefix;
  // store/open.ts gives Memcached sessions the `cs:` prefix; SQLite and memory none.
  return store.driver.name === 'memcached' ? 'cs:' : '';
}

function phaseSummary(p: PhaseResult): string {
  return `${p.transitions.toLocaleString('en-US')} transitions in ${seconds(p.seconds * 1000)}, p50 ${num(p.p50Us)} us, ${num(p.perSecond)}/s`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
