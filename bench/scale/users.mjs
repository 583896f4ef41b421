// Which users a scale round touches: drawn uniformly from all N stored sessions with a seeded PRNG,
// so the working set really is N (a hot subset would stay in every cache and hide the growth) and a
// rerun draws the same users.
import { SEED } from '../lib/workload.mjs';

const BASE = Number(SEED.uid);

/** The i-th stored user id (0 ≤ i < N): the same ids as userIds(N) in bench/lib/workload.mjs. */
export const uidAt = (i) => String(BASE + i);

/** mulberry32: a small, fast 32-bit PRNG; good enough to spread draws evenly, and reproducible. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` user ids drawn uniformly (with replacement) from the `n` stored ones. */
export function drawUsers(n, count, seed) {
  const next = prng(seed);
  return Array.from({ length: count }, () => uidAt(Math.floor(next() * n)));
}
