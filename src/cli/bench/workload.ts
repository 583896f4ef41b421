// User and message ids of the bench, shaped like the suite's (bench/lib/workload.mjs): 11-digit
// wa_ids starting at the seed's uid, and fresh WhatsApp-shaped message ids used as claims.

const FIRST_USER = 12025550123;

/** `n` distinct wa_ids of the seed's length, the first being the seed's own uid. */
export function userIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(FIRST_USER + i));
}

/**
 * Fresh message ids: `wamid.HBgL` + the user's number + a scrambled sequence, unique within the
 * run and in no key order (a claim insert lands anywhere in a B-tree, as in production).
 */
export function messageIds(): (userId: string) => string {
  const runTag = Date.now().toString(36).toUpperCase();
  let seq = 0;
  return (userId) => {
    seq += 1;
    // Knuth's multiplicative hash: a bijection on 32 bits, so unique and unordered.
    const scrambled = Math.imul(seq, 0x9e3779b1) >>> 0;
    return `wamid.HBgL${userId}FQIAEhgU${scrambled.toString(16).toUpperCase().padStart(8, '0')}${runTag}${seq.toString(16).toUpperCase()}A==`;
  };
}
