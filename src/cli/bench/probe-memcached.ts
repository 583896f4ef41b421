import type { MemcachedDriver } from '../../store/drivers/memcached.js';
import { itemKey, transitionClaimKey } from '../../store/drivers/memcached-codec.js';
import { createClient, MemcachedNode } from '../../store/drivers/memcached-conn.js';
import { HashRing } from '../../store/drivers/memcached-ring.js';
import { chunkBytes, memcachedStats } from './memcached-stats.js';
import type { ProbeContext, StoreProbe } from './probe.js';

const IN_FLIGHT = 64;

/**
 * Memcached: round trips by the driver's own counter (the server cannot tell a pipelined round
 * trip from its commands), bytes by the slab chunks the seeded sessions took (`stats slabs`, as
 * bench/lib/server-stats.mjs reads them). Memcached cannot list keys, so the bench remembers
 * every claim it made and deletes it, with the sessions and leases, by name.
 */
export function memcachedProbe(ctx: ProbeContext): StoreProbe {
  const driver = ctx.store.driver as MemcachedDriver;
  const servers = [...driver.servers];
  const totals = async (command: string, read: (s: Map<string, number>) => number) => {
    let sum = 0;
    for (const server of servers) sum += read(await memcachedStats(server, command));
    return sum;
  };
  let chunksBefore = 0;
  let itemBytesBefore = 0;

  return {
    medium: 'memory',
    defaultReplicas: 0,
    tracksClaims: true,
    async beforeSeed() {
      chunksBefore = await totals('stats slabs', chunkBytes);
      itemBytesBefore = await totals('stats', (s) => s.get('bytes') ?? 0);
    },
    async afterSeed(ids) {
      const chunks = (await totals('stats slabs', chunkBytes)) - chunksBefore;
      const items = (await totals('stats', (s) => s.get('bytes') ?? 0)) - itemBytesBefore;
      const longer = ctx.prefix.length - ctx.defaultPrefix.length;
      return {
        perSession: chunks / ids.length,
        method: `memcached: stats slabs, used chunks x chunk size added by ${ids.length} seeded sessions / sessions (what an item occupies). Bench keys are ${longer} bytes longer than cs: keys, which can move an item one slab class up`,
        detail: { item_bytes_per_session: items / ids.length - longer },
      };
    },
    async roundTrips(run, n) {
      const before = driver.metrics.roundTrips;
      await run(n);
      return {
        perTransition: (driver.metrics.roundTrips - before) / n,
        method: `memcached: the driver's round-trip counter over ${n} untimed transitions after the timed ones (memcached counts commands, not the pipelined round trips that carry them)`,
      };
    },
    async overhead() {
      return {
        factor: 1,
        why: 'memcached: factor 1, a slab chunk already includes the item header and the rounding up to its class',
      };
    },
    async cleanup(ids, claims) {
      const ring = new HashRing(servers);
      const nodes = new Map(servers.map((s) => [s, new MemcachedNode(s, createClient(s, 5000))]));
      const names: Array<[string, string]> = [];
      for (const id of ids) {
        const key = ctx.prefix + id;
        names.push([key, itemKey('s', key)], [key, itemKey('l', key)]);
      }
      for (const [id, claim] of claims) {
        const key = ctx.prefix + id;
        names.push([key, transitionClaimKey(key, ctx.prefix + claim)]);
      }
      let deleted = 0;
      try {
        for (let i = 0; i < names.length; i += IN_FLIGHT) {
          const done = await Promise.all(
            names
              .slice(i, i + IN_FLIGHT)
              .map(([key, name]) => (nodes.get(ring.serverFor(key)) as MemcachedNode).delete(name)),
          );
          deleted += done.filter(Boolean).length;
        }
      } finally {
        for (const node of nodes.values()) node.close();
      }
      return deleted;
    },
  };
}
