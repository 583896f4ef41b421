// The Memcached peers: keyv + @keyv/memcache (memjs, binary protocol) and the articles' get/set of
// a JSON string with memcache-client (the client chatstate's driver uses). Keys carry a per-subject
// prefix because they share the run's memcached.
import KeyvMemcache from '@keyv/memcache';
import Keyv from 'keyv';
import { MemcacheClient } from 'memcache-client';
import { keyvPeer, setAll } from './keyv-peer.mjs';
import { inBatches, memcachedBytes } from './server-stats.mjs';
import { memcachedPeerRoundTripsHook, memcachedUnavailable, SERVER_LIMITS } from './server-subjects.mjs';
import { sharedMemcached } from './servers.mjs';
import { SEED, stepPlain } from './workload.mjs';

const hostPort = (url) => url.slice('memcached://'.length);

/** keyv + @keyv/memcache, bare get + set (keys `keyv:<uid>`: keyv's namespace, memjs client). */
export function keyvMemcachePeer({ name, label }) {
  const peer = keyvPeer({
    name,
    label,
    peerOf: 'memcached',
    dedupe: false,
    unavailable: memcachedUnavailable,
    async createStore() {
      return new KeyvMemcache(hostPort((await sharedMemcached()).url));
    },
  });
  peer.limits = SERVER_LIMITS;
  peer.roundTrips = memcachedPeerRoundTripsHook;
  peer.bytesPerSession = async ({ n, userIds }) =>
    memcachedBytes({
      n,
      ids: userIds(n),
      async open(url) {
        const keyv = new Keyv({ store: new KeyvMemcache(hostPort(url)) });
        return { write: (ids) => setAll(keyv, ids), close: () => keyv.disconnect() };
      },
    });
  return peer;
}

const DAY_S = 86_400;

/** memcache-client get -> JSON.parse -> modify -> set with lifetime 86400 (two round trips). */
export function memcacheJsonPeer({ name, label }) {
  const open = (url) => new MemcacheClient({ server: hostPort(url), cmdTimeout: 5000 });
  const seed = (client, key, uid) => client.set(key, JSON.stringify({ ...SEED, uid }), { lifetime: DAY_S });
  return {
    name,
    label,
    kind: 'peer',
    peerOf: 'memcached',
    limits: SERVER_LIMITS,
    unavailable: memcachedUnavailable,
    roundTrips: memcachedPeerRoundTripsHook,

    async setup({ users }) {
      const client = open((await sharedMemcached()).url);
      await inBatches(users, 64, (uid) => seed(client, `json:${uid}`, uid));
      return { client };
    },

    async transition(ctx, uid) {
      const key = `json:${uid}`;
      const got = await ctx.client.get(key);
      if (!got) throw new Error(`${name}: ${key} missing`);
      const session = stepPlain(JSON.parse(String(got.value)), Date.now());
      await ctx.client.set(key, JSON.stringify(session), { lifetime: DAY_S });
    },

    async teardown(ctx) {
      ctx.client.shutdown();
    },

    async bytesPerSession({ n, userIds }) {
      return memcachedBytes({
        n,
        ids: userIds(n),
        async open(url) {
          const client = open(url);
          return {
            write: (ids) => inBatches(ids, 64, (uid) => seed(client, `session:${uid}`, uid)),
            close: async () => client.shutdown(),
          };
        },
      });
    },
  };
}
