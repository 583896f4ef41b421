// chatstate's Memcached store (`memcached://127.0.0.1:<port>`, defaults) on a memcached the bench
// starts on a free port (-m 1024, so no claim item of the run is evicted).
import { openStore } from '../lib/chatstate.mjs';
import { chatstateSubject, seedUsers } from '../lib/chatstate-subject.mjs';
import { memcachedBytes, memcachedCounters } from '../lib/server-stats.mjs';
import { memcachedUnavailable, ROUND_TRIP_SAMPLE, SERVER_LIMITS } from '../lib/server-subjects.mjs';
import { sharedMemcached } from '../lib/servers.mjs';
import { CHATSTATE_OPTIONS, SEED } from '../lib/workload.mjs';

const subject = chatstateSubject({
  name: 'memcached',
  label: 'chatstate memcached://',
  url: async () => (await sharedMemcached()).url,
  unavailable: memcachedUnavailable,
});

subject.limits = SERVER_LIMITS;

/**
 * The driver's own round-trip counter (memcached cannot see round trips: the driver pipelines
 * several commands in one), with the server's counters over the same transitions beside it.
 */
subject.roundTrips = async (ctx, run) => {
  const { port } = await sharedMemcached();
  const driver = ctx.store.driver;
  const before = driver.metrics;
  const server = await memcachedCounters(port, run, ROUND_TRIP_SAMPLE);
  const after = driver.metrics;
  const per = (k) => (after[k] - before[k]) / ROUND_TRIP_SAMPLE;
  return {
    source: 'driver',
    perTransition: per('roundTrips'),
    n: ROUND_TRIP_SAMPLE,
    driver: { roundTrips: per('roundTrips'), requests: per('requests'), noReplies: per('noReplies') },
    memcached: server,
  };
};

/** 100,000 seed sessions (no lease, no claim) on a fresh memcached; clock at the seed's ts. */
subject.bytesPerSession = async ({ n, userIds }) =>
  memcachedBytes({
    n,
    ids: userIds(n),
    async open(url) {
      const store = await openStore(url, {
        ...CHATSTATE_OPTIONS,
        clock: () => SEED.ts * 1000,
        sweepIntervalMs: 0,
      });
      return { write: (ids) => seedUsers(store, ids, { lease: false }), close: () => store.close() };
    },
  });

export default subject;
