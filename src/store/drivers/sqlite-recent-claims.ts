/**
 * The recent claims a SQLite session row carries in its `c` column: the last few message ids its
 * transitions claimed, as packed entries of an 8-byte digest and a 6-byte expiry.
 *
 * Why in the row: a transition rewrites its user's session row anyway, so a claim recorded there
 * costs no second B-tree page and no second WAL frame at COMMIT (a claims table of its own made
 * every transition append two pages to the WAL: docs/benchmarks.md, "Claims with the session").
 * The row holds at most RECENT_CLAIMS live entries; when a claim would overflow it, the live
 * entries move to `cs_user_claims`, keyed by (user, digest), so the move writes the one page that
 * holds that user's claims. Claims outlive sessions (7 days against 24 hours by default): before a
 * row is deleted (sweep, clear, quarantine) its live entries move to the table the same way.
 *
 * Digests are 64-bit hashes of the claim key (userClaimDigest in sqlite-claims.ts). They are
 * compared only among the claims of one user (a few hundred in a dedupe window), where two
 * different message ids meeting on one digest is about n^2 / 2^65: never, in practice.
 */

/** Entry layout: digest (8 bytes), then expiry in ms since the epoch (6 bytes, big-endian). */
export const RECENT_CLAIM_BYTES = 14;
const DIGEST_BYTES = 8;
/** Live entries a row holds before they move to the table (56 bytes in the row at most). */
export const RECENT_CLAIMS = 4;

export interface ClaimEntry {
  digest: Buffer;
  expiresAt: number;
}

const expiryAt = (ring: Buffer, offset: number): number => ring.readUIntBE(offset + DIGEST_BYTES, 6);

/** True when `digest` is among the unexpired entries of `ring`. */
export function recentHas(ring: Buffer | null, digest: Buffer, now: number): boolean {
  if (ring === null) return false;
  const first = digest[0];
  for (let o = 0; o + RECENT_CLAIM_BYTES <= ring.length; o += RECENT_CLAIM_BYTES) {
    // Most entries differ in the first byte: compare the rest only then.
    if (ring[o] !== first) continue;
    if (ring.compare(digest, 0, DIGEST_BYTES, o, o + DIGEST_BYTES) === 0) return expiryAt(ring, o) > now;
  }
  return false;
}

/** The entries of `ring` expiring after `now` (a trailing partial entry, which chatstate never writes, is ignored). */
export function recentLive(ring: Buffer | null, now: number): ClaimEntry[] {
  const live: ClaimEntry[] = [];
  if (ring === null) return live;
  for (let o = 0; o + RECENT_CLAIM_BYTES <= ring.length; o += RECENT_CLAIM_BYTES) {
    const expiresAt = expiryAt(ring, o);
    if (expiresAt > now) live.push({ digest: ring.subarray(o, o + DIGEST_BYTES), expiresAt });
  }
  return live;
}

export interface RecentAdd {
  ring: Buffer;
  moved: ClaimEntry[];
}

/**
 * The ring after recording `digest` until `expiresAt`: expired entries dropped, and when
 * RECENT_CLAIMS live ones are already there, all of them returned as `moved` (for the table) and
 * the new ring holding the new entry alone.
 */
export function recentAdd(ring: Buffer | null, digest: Buffer, expiresAt: number, now: number): RecentAdd {
  const live = recentLive(ring, now);
  const moved = live.length >= RECENT_CLAIMS ? live : [];
  const kept = moved.length ? [] : live;
  const next = Buffer.allocUnsafe((kept.length + 1) * RECENT_CLAIM_BYTES);
  let o = 0;
  for (const entry of kept) o = writeEntry(next, o, entry.digest, entry.expiresAt);
  writeEntry(next, o, digest, expiresAt);
  return { ring: next, moved };
}

function writeEntry(into: Buffer, offset: number, digest: Buffer, expiresAt: number): number {
  digest.copy(into, offset, 0, DIGEST_BYTES);
  into.writeUIntBE(expiresAt, offset + DIGEST_BYTES, 6);
  return offset + RECENT_CLAIM_BYTES;
}
