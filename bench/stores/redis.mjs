// chatstate's Redis store on one redis-server (`redis://127.0.0.1:<port>`, every option default:
// prefix cs:, events on, 60 s grace). The bench starts its own redis-server on a free port
// (bench/lib/servers.mjs) and stops it afterwards; without the program the row is skipped.
import { openStore } from '../lib/chatstate.mjs';
import { chatstateSubject, seedUsers } from '../lib/chatstate-subject.mjs';
import { redisBytes } from '../lib/server-stats.mjs';
import { redisRoundTripsHook, redisUnavailable, SERVER_LIMITS } from '../lib/server-subjects.mjs';
import { sharedRedis } from '../lib/servers.mjs';
import { CHATSTATE_OPTIONS } from '../lib/workload.mjs';

const subject = chatstateSubject({
  name: 'redis',
  label: 'chatstate redis://',
  url: async () => (await sharedRedis()).url,
  unavailable: redisUnavailable,
});

subject.limits = SERVER_LIMITS;
subject.roundTrips = redisRoundTripsHook;

/**
 * 100,000 seed sessions through store.transition (no lease, no claim) on a fresh redis-server. The
 * clock is fixed at the run's start, not at the seed's ts (May 2024): a store clock in the past
 * would give every key a PEXPIREAT in the past and Redis would drop it at once. Both are 13-digit
 * millisecond times, so the stored fields have the same size.
 */
subject.bytesPerSession = async ({ n, userIds }) => {
  const now = Date.now();
  return redisBytes({
    n,
    ids: userIds(n),
    keysOf: (id) => [`{cs:${id}}`, `{cs:${id}}:h`],
    async open(url) {
      const store = await openStore(url, { ...CHATSTATE_OPTIONS, clock: () => now, sweepIntervalMs: 0 });
      return {
        write: (ids) => seedUsers(store, ids, { lease: false }),
        close: () => store.close(),
      };
    },
  });
};

export default subject;
