// Shared pieces of the subjects that need a server (bench/stores/redis*.mjs, memcached.mjs and the
// Redis / Memcached peers): the skip reason, the smaller per-round limits, the round-trip count.
import { memcachedCounters, redisRoundTrips } from './server-stats.mjs';
import { sharedCluster, sharedMemcached, sharedRedis } from './servers.mjs';

/**
 * Per-round limits for server subjects in a full run: 5,000 transitions or 2 s per scenario
 * (instead of 20,000 or 4 s), so the whole `npm run bench` stays under ~8 minutes with eleven more
 * rows. Medians and p99 of 5,000 samples are stable; --iterations overrides it.
 */
export const SERVER_LIMITS = Object.freeze({ iterations: 5000, budgetMs: 2000 });

/** Transitions counted for round trips (untimed, one at a time, after the timed rounds). */
export const ROUND_TRIP_SAMPLE = 200;

const reasonOf = async (get) => (await get()).skipped ?? null;
export const redisUnavailable = () => reasonOf(sharedRedis);
export const clusterUnavailable = () => reasonOf(sharedCluster);
export const memcachedUnavailable = () => reasonOf(sharedMemcached);

/** roundTrips hook for a subject on the shared single-node redis-server. */
export async function redisRoundTripsHook(_ctx, run) {
  const { port } = await sharedRedis();
  return redisRoundTrips([port], run, ROUND_TRIP_SAMPLE);
}

/**
 * roundTrips hook for a memcached peer: each of its calls is one request answered before the next
 * is sent, so the server's stores + keys read (+ touches, deletes) per transition are its round trips.
 */
export async function memcachedPeerRoundTripsHook(_ctx, run) {
  const { port } = await sharedMemcached();
  const server = await memcachedCounters(port, run, ROUND_TRIP_SAMPLE);
  const perTransition =
    server.cmd_get + server.cmd_set + server.cmd_touch + server.delete_hits + server.delete_misses;
  return { source: 'server', perTransition, n: ROUND_TRIP_SAMPLE, memcached: server };
}
