// The bench's transition (claim, lease, cached-copy check, fields, history, TTL, event) as the two
// script calls the Redis driver sends, without SessionStore: arguments built by the driver's codec.
// For the diagnostics that measure the scripts apart from the store (bench/diag/redis-floors.mjs,
// bench/diag/redis-script-floor.mjs). Uses the built dist/ (`npm run build` first).
import { HISTORY_LIMIT, nextMessageId, SESSION_TTL_MS } from './workload.mjs';

const { commitArgs } = await import('../../dist/store/drivers/redis-codec.js');
const { codecByName } = await import('../../dist/session/codec.js');

// The history entry as the store writes it (session/fields.ts: [direction, at, text]).
const entry = codecByName('msgpack').encode([0, Date.now(), 'hello']);

/**
 * `step(id)`: begin + commit of the bench's step for one user, sent with `send(script, keys, args)`,
 * its keys under `prefix`. Each user's version and writer token are kept, as the store's session
 * copies keep them, so begin.lua answers "unchanged" after `HMGET v w` as it does for the store.
 */
export function scriptTransition(send, { begin, commit }, prefix) {
  const state = new Map();
  return async (id) => {
    let s = state.get(id);
    if (!s) state.set(id, (s = { version: 0, writer: '' }));
    const tag = `{${prefix}${id}}`;
    const keys = [tag, `${tag}:h`, `${tag}:l`, `${tag}:c:${prefix}${nextMessageId(id)}`];
    const begun = await send(begin, keys, ['1', '30000', '1', String(s.version), s.writer]);
    // 2: no session yet (the first visit), 4: the kept copy is still current.
    const reply = Number(begun[0]);
    if (s.version > 0 ? reply !== 4 : reply !== 2 && reply !== 4)
      throw new Error(`begin replied ${reply} at version ${s.version}`);
    const token = String(begun[1]);
    const now = Date.now();
    const args = commitArgs(
      {
        key: `${prefix}${id}`,
        now,
        expectVersion: s.version,
        leaseToken: Number(token),
        release: true,
        claim: { key: 'unused', ttlMs: 7 * 86_400_000 },
        change: {
          kind: 'fields',
          expiresAt: now + SESSION_TTL_MS,
          patch: {
            reset: false,
            set: { d: '25', n: 'awaiting_email', p: 'awaiting_email', r: String(s.version + 1) },
            del: [],
            incr: {},
            push: [entry],
            historyLimit: HISTORY_LIMIT,
          },
        },
      },
      { graceMs: 60_000, channel: `${prefix}events` },
      s.writer,
    );
    const committed = await send(commit, keys, args);
    if (Number(committed[0]) !== 0) throw new Error(`commit replied ${committed[0]}`);
    s.version++;
    s.writer = token;
  };
}
