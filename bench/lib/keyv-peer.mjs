// Builds a keyv peer: the code a user writes without chatstate, on any keyv storage adapter.
// Per transition (4 keyv calls, no transaction, no version check, no lease):
//   1. get('msg:<id>')            dedupe check; a hit means "already handled" (never happens here)
//   2. get(uid)                   the whole session, JSON-deserialised by keyv
//   3. modify in JS               st, ts, vars.retry_count + 1, history push trimmed to 5
//   4. set(uid, session, 24 h)    the whole session back, JSON-serialised, TTL renewed
//   5. set('msg:<id>', 1, 7 d)    mark the message handled (after the write, so a crash retries it)
// Two concurrent messages of one user can lose an update, and a crash between 4 and 5 applies a
// message twice: the guarantees chatstate's claim + lease + versioned commit give are absent.
// With `dedupe: false` only 2-4 remain: the bare get + set read-modify-write (two keyv calls).
import Keyv from 'keyv';
import { CLAIM_TTL_MS, SEED, SESSION_TTL_MS, stepPlain } from './workload.mjs';

/**
 * @param {object} spec
 * @param {string} spec.name, spec.label
 * @param {string} spec.peerOf   the chatstate subject this peer is compared with
 * @param {(tmp: (file: string) => string, purpose: 'run' | 'bytes') => Promise<object>} spec.createStore  a keyv storage adapter
 * @param {() => Promise<string | null>} [spec.unavailable]
 * @param {(store: object, tmp: (file: string) => string) => Promise<object>} [spec.measureBytes]  after disconnect
 * @param {boolean} [spec.dedupe]  the msg:<id> get and set around the read-modify-write (default true)
 */
export function keyvPeer(spec) {
  const open = async (tmp, purpose) => {
    const store = await spec.createStore(tmp, purpose);
    const keyv = new Keyv({ store });
    const errors = [];
    keyv.on('error', (error) => errors.push(error));
    return { keyv, store, errors };
  };
  const peer = {
    name: spec.name,
    label: spec.label,
    kind: 'peer',
    peerOf: spec.peerOf,
    ...(spec.unavailable ? { unavailable: spec.unavailable } : {}),

    async setup({ users, tmp }) {
      const ctx = await open(tmp, 'run');
      await setAll(ctx.keyv, users);
      return ctx;
    },

    transition:
      spec.dedupe === false
        ? async (ctx, uid) => {
            const session = await ctx.keyv.get(uid);
            if (!session) throw new Error(`${spec.name}: session ${uid} missing`);
            await ctx.keyv.set(uid, stepPlain(session, Date.now()), SESSION_TTL_MS);
          }
        : async (ctx, uid, msgId) => {
            const { keyv } = ctx;
            const dedupeKey = `msg:${msgId}`;
            if (await keyv.get(dedupeKey)) throw new Error(`${spec.name}: message ${msgId} seen twice`);
            const session = await keyv.get(uid);
            if (!session) throw new Error(`${spec.name}: session ${uid} missing`);
            await keyv.set(uid, stepPlain(session, Date.now()), SESSION_TTL_MS);
            await keyv.set(dedupeKey, 1, CLAIM_TTL_MS);
          },

    async teardown(ctx) {
      await ctx.keyv.disconnect();
      if (ctx.errors.length) throw ctx.errors[0];
    },
  };
  if (spec.measureBytes) {
    peer.bytesPerSession = async ({ n, tmp, userIds }) => {
      const ctx = await open(tmp, 'bytes');
      await setAll(ctx.keyv, userIds(n));
      await ctx.keyv.disconnect();
      return { n, ...(await spec.measureBytes(ctx.store, tmp)) };
    };
  }
  return peer;
}

/** Stores the seed session, in its own JSON shape, under every uid (64 writes in flight). */
export async function setAll(keyv, uids) {
  for (let i = 0; i < uids.length; i += 64) {
    await Promise.all(uids.slice(i, i + 64).map((uid) => keyv.set(uid, { ...SEED, uid }, SESSION_TTL_MS)));
  }
}
