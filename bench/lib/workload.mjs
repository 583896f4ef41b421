// The workload every subject runs: the seed session, how it maps onto chatstate, the transition
// handler of issue 2, and the user / message ids. Subjects import from here so they all do the
// same work on the same data.

/** The lead-gen bot's seed session (shared/DESIGN.md), as its owners store it today. */
export const SEED = Object.freeze({
  uid: '12025550123',
  st: 'awaiting_email',
  ts: 1715602400,
  vars: Object.freeze({ name: 'John Doe', flow: 'onboarding_v2', retry_count: 1 }),
  v: 2,
});
export const SEED_JSON = JSON.stringify(SEED);

/**
 * Store options every chatstate subject uses: the seed's `v` (2) is the schema version of its vars,
 * so the store runs at schema 2 (at the default 1 the seeded sessions would read as SCHEMA_TOO_NEW).
 * Everything else is the default a user gets (msgpack, 24 h TTL, 30 s lease, history 5, 7 d claims).
 */
export const CHATSTATE_OPTIONS = Object.freeze({ schemaVersion: SEED.v });

/**
 * Writes the seed into a draft: id = uid (the store key), flow = vars.flow, node = st,
 * vars = { name }, retries = vars.retry_count, schema = v (store option), createdAt = updatedAt =
 * ts in ms when the store clock says so. prevNode stays null and history empty.
 */
export function writeSeed(draft) {
  draft.setFlow(SEED.vars.flow);
  draft.goto(SEED.st);
  draft.set('name', SEED.vars.name);
  draft.incr('retries', SEED.vars.retry_count);
}

/** The measured transition (issue 2): move on, count a retry, remember the inbound message. */
export function stepHandler(s) {
  s.goto('awaiting_email');
  s.incr('retries');
  s.remember({ dir: 'in', text: 'hello' });
}

/** The same change for a peer that stores the seed's own JSON shape (whole-blob read-modify-write). */
export function stepPlain(session, now) {
  const history = [...(session.history ?? []), { dir: 'in', text: 'hello', at: now }];
  return {
    ...session,
    st: 'awaiting_email',
    ts: Math.floor(now / 1000),
    vars: { ...session.vars, retry_count: (session.vars?.retry_count ?? 0) + 1 },
    history: history.length > HISTORY_LIMIT ? history.slice(history.length - HISTORY_LIMIT) : history,
  };
}

export const HISTORY_LIMIT = 5;
export const SESSION_TTL_MS = 24 * 3_600_000;
export const CLAIM_TTL_MS = 7 * 24 * 3_600_000;

/** `n` distinct wa_ids of the seed's length (11 digits), the first being the seed's own uid. */
export function userIds(n) {
  const base = Number(SEED.uid);
  return Array.from({ length: n }, (_, i) => String(base + i));
}

let messageSeq = 0;
const runTag = Date.now().toString(36).toUpperCase();

/**
 * A fresh WhatsApp-shaped message id for every call, unique across subjects and rounds of one run:
 * `wamid.HBgL` + the user's number + a part that looks random, as Cloud API ids do. Ids therefore
 * arrive in no key order (a claim insert lands anywhere in the claims B-tree, as in production),
 * which sequential ids would hide.
 */
export function nextMessageId(userId) {
  messageSeq += 1;
  // A bijection on 32 bits (Knuth's multiplicative hash): unique for 4 billion ids, unordered.
  const scrambled = Math.imul(messageSeq, 0x9e3779b1) >>> 0;
  return `wamid.HBgL${userId}FQIAEhgU${scrambled.toString(16).toUpperCase().padStart(8, '0')}${runTag}${messageSeq.toString(16).toUpperCase()}A==`;
}
