import { bodyBytes, type ProbeContext, type StoreProbe } from './probe.js';

/**
 * `memory:` (and drivers registered by an application, which the bench knows nothing about): a
 * valid floor, the cost of SessionStore, draft and codec without I/O. Bytes are the encoded bodies
 * the driver holds; there is no server to count round trips on.
 */
export function memoryProbe(ctx: ProbeContext): StoreProbe {
  const name = ctx.store.driver.name;
  return {
    medium: 'memory',
    defaultReplicas: 0,
    tracksClaims: false,
    async beforeSeed() {},
    async afterSeed(ids) {
      return {
        perSession: await bodyBytes(ctx, ids),
        method: `${name}: mean encoded body (${ctx.store.options.codec}) of up to 100 seeded sessions, read back through the driver; the JS heap's per-entry overhead is not counted`,
      };
    },
    async roundTrips() {
      return {
        perTransition: null,
        method: `${name}: no server (the store lives in this process), so there are no round trips to count`,
      };
    },
    async overhead() {
      return { factor: 1, why: `${name}: encoded bodies only (factor 1); V8 object overhead comes on top` };
    },
    async cleanup(ids) {
      // Sessions through the public API; claims of a memory store vanish with the process.
      let deleted = 0;
      for (const id of ids) if (await ctx.store.delete(id)) deleted++;
      return deleted;
    },
  };
}
