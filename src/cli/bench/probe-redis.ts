import type { Cluster, Redis } from 'ioredis';
import type { RedisDriver } from '../../store/drivers/redis.js';
import type { ProbeContext, StoreProbe } from './probe.js';

const LOADED_BYTES = 100 * 1024 * 1024;
const ASSUMED_FRAGMENTATION = 1.2;

/**
 * Redis and Redis Cluster, counted the way bench/lib/server-stats.mjs counts them: round trips by
 * MONITOR on every master (commands from clients, not the ones a script runs), bytes by
 * MEMORY USAGE of the seeded sessions' keys, with the used_memory delta beside it.
 */
export function redisProbe(ctx: ProbeContext): StoreProbe {
  const client = (ctx.store.driver as RedisDriver).client;
  const masters = (): Redis[] => (client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]);
  // Every key of a bench user starts with `{<prefix>` (redis-keys.ts puts the session key in braces).
  const tag = `{${ctx.prefix}`;
  let usedBefore = 0;

  const usedMemory = async () => {
    let sum = 0;
    for (const m of masters()) sum += Number(/^used_memory:(\d+)/m.exec(await m.info('memory'))?.[1] ?? 0);
    return sum;
  };

  /** MEMORY USAGE on the master that owns the key (the others answer MOVED); null when absent. */
  const memoryUsage = async (key: string): Promise<number | null> => {
    for (const m of masters()) {
      try {
        const n = await m.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
        return n === null ? null : Number(n);
      } catch {
        // MOVED: another master holds the slot.
      }
    }
    return null;
  };

  return {
    medium: 'memory',
    defaultReplicas: 1,
    tracksClaims: false,
    async beforeSeed() {
      usedBefore = await usedMemory();
    },
    async afterSeed(ids) {
      const usedDelta = (await usedMemory()) - usedBefore;
      const sample = ids.slice(0, 100);
      let bytes = 0;
      let keys = 0;
      for (const id of sample) {
        const key = ctx.prefix + id;
        for (const name of [`{${key}}`, `{${key}}:h`]) {
          const n = await memoryUsage(name);
          if (n !== null) {
            bytes += n;
            keys++;
          }
        }
      }
      // Not corrected for the bench prefix in the key names: jemalloc rounds a key's allocation to a
      // size class, so the difference to a `cs:` key is 0 or one class step, not the extra bytes.
      const longer = ctx.prefix.length - ctx.defaultPrefix.length;
      return {
        perSession: bytes / sample.length,
        method: `redis: MEMORY USAGE … SAMPLES 0 of the keys of ${sample.length} seeded sessions (hash + history list), mean per session; key names are ${longer} bytes longer than ${ctx.defaultPrefix} keys (at most one allocator size class more per key); used_memory delta beside it`,
        detail: {
          keys_per_session: keys / sample.length,
          used_memory_delta_per_session: usedDelta / ids.length,
        },
      };
    },
    async roundTrips(run, n) {
      const monitors: Redis[] = [];
      try {
        let counted = 0;
        let markersSeen = 0;
        const marker = `chatstate-bench-marker-${Date.now()}`;
        for (const master of masters()) {
          const monitor = await master.monitor();
          monitors.push(monitor);
          monitor.on('monitor', (_time: string, args: string[], source: string) => {
            if (String(args[0]).toLowerCase() === 'echo' && args[1] === marker) markersSeen++;
            // A round trip is a command a client sent; `lua` marks the ones a script ran.
            else if (source !== 'lua' && args.some((a) => String(a).startsWith(tag))) counted++;
          });
        }
        await run(n);
        // MONITOR lines arrive asynchronously: a marker sent after the run shows every earlier one arrived.
        const all = masters();
        await Promise.all(all.map((m) => m.echo(marker)));
        const deadline = Date.now() + 5000;
        while (markersSeen < all.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        return {
          perTransition: counted / n,
          method: `redis: MONITOR on ${all.length === 1 ? 'the server' : `all ${all.length} masters`} over ${n} untimed transitions after the timed ones, counting commands sent by clients on the bench's keys (not the commands scripts run)`,
        };
      } catch (error) {
        return {
          perTransition: null,
          method: `redis: MONITOR was refused (${(error as Error).message}), so round trips were not counted`,
        };
      } finally {
        for (const m of monitors) m.disconnect();
      }
    },
    async overhead() {
      const info = await (masters()[0] as Redis).info('memory');
      const ratio = Number(/^mem_fragmentation_ratio:([\d.]+)/m.exec(info)?.[1]);
      const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
      if (used >= LOADED_BYTES && Number.isFinite(ratio)) {
        const factor = Math.max(1, ratio);
        return { factor, why: `redis: mem_fragmentation_ratio ${ratio} read from INFO memory` };
      }
      return {
        factor: ASSUMED_FRAGMENTATION,
        why: `redis: fragmentation ${ASSUMED_FRAGMENTATION} assumed: the server uses ${(used / 1048576).toFixed(1)} MB, too little for its mem_fragmentation_ratio (${Number.isFinite(ratio) ? ratio : 'unknown'}) to describe a loaded server`,
      };
    },
    async cleanup() {
      let deleted = 0;
      const pattern = `${tag.replace(/[*?[\]\\]/g, '\\$&')}*`;
      for (const master of masters()) {
        let cursor = '0';
        do {
          const [next, keys] = (await master.scan(cursor, 'MATCH', pattern, 'COUNT', '1000')) as [
            string,
            string[],
          ];
          cursor = next;
          if (keys.length === 0) continue;
          // One UNLINK per key: keys of different users may sit in different cluster slots.
          const batch = master.pipeline();
          for (const key of keys) batch.unlink(key);
          for (const [error, n] of (await batch.exec()) ?? []) if (!error) deleted += Number(n);
        } while (cursor !== '0');
      }
      return deleted;
    },
  };
}
