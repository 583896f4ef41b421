// The Redis peers: keyv + @keyv/redis, and the patterns the Redis session-store articles use,
// written with ioredis the way a user writes them. Each subject is a small spec; this file holds
// what they share (seeding, bytes, round trips). Keys carry a per-subject prefix because all of them
// share the run's redis-server.
import KeyvRedis from '@keyv/redis';
import { Redis } from 'ioredis';
import Keyv from 'keyv';
import { keyvPeer, setAll } from './keyv-peer.mjs';
import { inBatches, redisBytes } from './server-stats.mjs';
import { redisRoundTripsHook, redisUnavailable, SERVER_LIMITS } from './server-subjects.mjs';
import { sharedRedis } from './servers.mjs';
import { SEED } from './workload.mjs';

/** keyv + @keyv/redis (node-redis client), keyv's default namespace: keys are `keyv::<uid>`. */
export function keyvRedisPeer({ name, label, dedupe }) {
  const peer = keyvPeer({
    name,
    label,
    peerOf: 'redis',
    dedupe,
    unavailable: redisUnavailable,
    async createStore() {
      return new KeyvRedis((await sharedRedis()).url);
    },
  });
  peer.limits = SERVER_LIMITS;
  peer.roundTrips = redisRoundTripsHook;
  // Both keyv rows store the same seed value: measure the bytes once, on the bare get + set row.
  if (dedupe) return peer;
  peer.bytesPerSession = async ({ n, userIds }) =>
    redisBytes({
      n,
      ids: userIds(n),
      keysOf: (id) => [`keyv::keyv:${id}`],
      async open(url) {
        const keyv = new Keyv({ store: new KeyvRedis(url) });
        return { write: (ids) => setAll(keyv, ids), close: () => keyv.disconnect() };
      },
    });
  return peer;
}

/**
 * An ioredis subject: `seed(redis, key, uid)` stores one seed session, `step(redis, key, uid)` is one
 * transition. Keys are `<prefix><uid>` during the run and `session:<uid>` (what the articles use) in
 * the bytes run.
 */
export function ioredisSubject({ name, label, kind = 'peer', prefix, seed, step, prepare, bytes = true }) {
  const subject = {
    name,
    label,
    kind,
    peerOf: 'redis',
    limits: SERVER_LIMITS,
    unavailable: redisUnavailable,
    roundTrips: redisRoundTripsHook,

    async setup({ users }) {
      const redis = new Redis((await sharedRedis()).url);
      const ctx = { redis, prefix, ...(prepare ? await prepare(redis) : {}) };
      await inBatches(users, 64, (uid) => seed(ctx, `${prefix}${uid}`, uid));
      return ctx;
    },

    async transition(ctx, uid) {
      await step(ctx, `${ctx.prefix}${uid}`, uid);
    },

    async teardown(ctx) {
      ctx.redis.disconnect();
    },
  };
  if (bytes) {
    subject.bytesPerSession = async ({ n, userIds }) =>
      redisBytes({
        n,
        ids: userIds(n),
        keysOf: (id) => [`session:${id}`],
        async open(url) {
          const redis = new Redis(url);
          const ctx = { redis, prefix: 'session:', ...(prepare ? await prepare(redis) : {}) };
          return {
            write: (ids) => inBatches(ids, 64, (uid) => seed(ctx, `session:${uid}`, uid)),
            close: async () => redis.disconnect(),
          };
        },
      });
  }
  return subject;
}

/** The seed session as its owners store it (shared/DESIGN.md), for this uid. */
export const seedFor = (uid) => ({ ...SEED, uid });
export const seedJsonFor = (uid) => JSON.stringify(seedFor(uid));
