// Which users a scale round touches: drawn uniformly from all N stored sessions with a seeded PRNG,
// so the working set really is N (a hot subset would stay in every cache and hide the growth) and a
// rerun draws the same users.
import { prng } from '../lib/prng.mjs';
import { SEED } from '../lib/workload.mjs';

export { prng };

const BASE = Number(SEED.uid);

/** The i-th stored user id (0 ≤ i < N): the same ids as userIds(N) in bench/lib/workload.mjs. */
export const uidAt = (i) => String(BASE + i);

/** `count` user ids drawn uniformly (with replacement) from the `n` stored ones. */
export function drawUsers(n, count, seed) {
  const next = prng(seed);
  return Array.from({ length: count }, () => uidAt(Math.floor(next() * n)));
}
