// Builds a benchmark subject for one chatstate store URL, so a new store row is one small file in
// bench/stores/ (see bench/stores/sqlite.mjs). The transition is the public API call of issue 2.
import { openStore } from './chatstate.mjs';
import { CHATSTATE_OPTIONS, SEED, stepHandler, writeSeed } from './workload.mjs';

/**
 * @param {object} spec
 * @param {string} spec.name          short id used by --only and in the results file
 * @param {string} spec.label         what the table shows
 * @param {(tmp: (file: string) => string) => string | Promise<string>} spec.url  store URL for a run
 * @param {() => Promise<string | null>} [spec.unavailable]  reason to skip (server not reachable), or null
 * @param {(url: string) => Promise<object>} [spec.measureBytes]  on-disk bytes of a store URL after close
 * @param {(tmp: (file: string) => string) => string} [spec.bytesUrl]  a fresh store URL for the bytes run
 * @param {object} [spec.options]     extra store options (defaults otherwise)
 */
export function chatstateSubject(spec) {
  const options = { ...CHATSTATE_OPTIONS, ...spec.options };
  const subject = {
    name: spec.name,
    label: spec.label,
    kind: 'chatstate',
    ...(spec.unavailable ? { unavailable: spec.unavailable } : {}),

    async setup({ users, tmp }) {
      const url = await spec.url(tmp);
      const store = await openStore(url, options);
      await seedUsers(store, users, { lease: true });
      return { store, url };
    },

    async transition(ctx, userId, msgId) {
      const result = await ctx.store.transition(userId, stepHandler, { claim: msgId });
      if (result.status !== 'committed')
        throw new Error(`${spec.name}: transition ${msgId} was ${result.status}`);
    },

    async teardown(ctx) {
      await ctx.store.close();
    },
  };
  if (spec.measureBytes && spec.bytesUrl) {
    subject.bytesPerSession = async ({ n, tmp, userIds }) => {
      const url = spec.bytesUrl(tmp);
      // A fixed clock at the seed's `ts` makes createdAt/updatedAt the seed's own time; no sweeper.
      const store = await openStore(url, { ...options, clock: () => SEED.ts * 1000, sweepIntervalMs: 0 });
      // Plain stored sessions: no claim and no lease, so no claim or lease rows sit beside them.
      await seedUsers(store, userIds(n), { lease: false });
      await store.close();
      return { n, ...(await spec.measureBytes(url)) };
    };
  }
  return subject;
}

/** Stores the seed session for every user through the public API, 64 transitions in flight. */
export async function seedUsers(store, users, { lease }) {
  for (let i = 0; i < users.length; i += 64) {
    await Promise.all(users.slice(i, i + 64).map((id) => store.transition(id, writeSeed, { lease })));
  }
}
