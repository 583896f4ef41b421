/**
 * The claims a SQLite session row carries in its `c` column: the last few message ids its
 * transitions claimed, and a Bloom filter over the user's older claims in `cs_user_claims`.
 *
 * Why in the row: a transition rewrites its user's session row anyway, so a claim recorded there
 * costs no second B-tree page and no second WAL frame at COMMIT (a claims table of its own made
 * every transition append two pages to the WAL: docs/benchmarks.md, "Claims with the session").
 * The row holds at most RECENT_CLAIMS live entries; when a claim would overflow it, the live
 * entries move to `cs_user_claims`, keyed by (user, digest), so the move writes the one page that
 * holds that user's claims. Claims outlive sessions (7 days against 24 hours by default): before a
 * row is deleted (sweep, clear, quarantine) its live entries move to the table the same way.
 *
 * Why the filter: every message is checked against the user's claims in the table too, a B-tree
 * lookup of about 1.5-2 us on the critical path although almost every message is new. The filter
 * answers "certainly not in the table" for most of them (1,024 bits, 3 hashes: under 4% false
 * positives up to 128 claims, 15% at 256), and a positive still looks the table up, so an answer
 * is never wrong. Filters only grow (the table's expired claims keep their bits), so one is
 * rebuilt from the table's live claims after FILTER_REBUILD_AT additions; a user with more than
 * FILTER_MAX_LIVE live claims gets none (`saturated`: every message looks the table up) until the
 * row is recreated.
 *
 * Layout of the column, by the parity of its length:
 * - odd: [head][ring entries][filter]. head: ring entry count (bits 0-2), 0x80 = saturated. The
 *   filter part, when present, is a 2-byte count of digests added and FILTER_BYTES of bits; absent
 *   (and not saturated) means the table holds no claim of this user.
 * - even: ring entries only, and nothing known of the table (every message looks it up): rows
 *   written before the filter existed, and rows whose claims never overflowed since they were
 *   created (the table may hold claims from before: a cleared or expired session's, or claims of a
 *   transition that changed nothing). The first overflow reads the table and builds the filter.
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
/** Bloom filter size: 1,024 bits. */
export const FILTER_BYTES = 128;
const FILTER_BITS = FILTER_BYTES * 8;
const FILTER_HASHES = 3;
/** Digests added to a filter before it is rebuilt from the table's live claims. */
export const FILTER_REBUILD_AT = 256;
/** More live claims in the table than this and the row keeps no filter (`saturated`). */
export const FILTER_MAX_LIVE = 128;
const HEAD_SATURATED = 0x80;
const HEAD_COUNT = 0x07;
const FILTER_PART = 2 + FILTER_BYTES;

export interface ClaimEntry {
  digest: Buffer;
  expiresAt: number;
}

/** What a row's column says of the table: look it up, nothing there, ask the filter, or always look. */
type TableState = 'unknown' | 'empty' | 'filter' | 'saturated';

/** Where the ring entries of `column` start and end (either layout). */
function ringStart(column: Buffer): number {
  return column.length % 2 === 0 ? 0 : 1;
}
function ringEnd(column: Buffer): number {
  if (column.length % 2 === 0) return column.length;
  return Math.min(column.length, 1 + ((column[0] ?? 0) & HEAD_COUNT) * RECENT_CLAIM_BYTES);
}

function tableState(column: Buffer | null): TableState {
  if (column === null || column.length % 2 === 0) return 'unknown';
  const end = ringEnd(column);
  if (column.length === end) return ((column[0] ?? 0) & HEAD_SATURATED) !== 0 ? 'saturated' : 'empty';
  // Anything but a whole filter after the ring is not ours: claim nothing, look the table up.
  return column.length === end + FILTER_PART ? 'filter' : 'unknown';
}

const expiryAt = (column: Buffer, offset: number): number => column.readUIntBE(offset + DIGEST_BYTES, 6);

/** True when `digest` is among the unexpired ring entries of `column`. */
export function recentHas(column: Buffer | null, digest: Buffer, now: number): boolean {
  if (column === null) return false;
  const first = digest[0];
  const end = ringEnd(column);
  for (let o = ringStart(column); o + RECENT_CLAIM_BYTES <= end; o += RECENT_CLAIM_BYTES) {
    // Most entries differ in the first byte: compare the rest only then.
    if (column[o] !== first) continue;
    if (column.compare(digest, 0, DIGEST_BYTES, o, o + DIGEST_BYTES) === 0) return expiryAt(column, o) > now;
  }
  return false;
}

/** False only when `column` proves that the table holds no claim of this user with `digest`. */
export function tableMayHold(column: Buffer | null, digest: Buffer): boolean {
  const state = tableState(column);
  if (state === 'empty') return false;
  if (state !== 'filter' || column === null) return true;
  const bits = ringEnd(column) + 2;
  const h1 = digest.readUInt32BE(0);
  const h2 = digest.readUInt32BE(4) | 1;
  for (let i = 0; i < FILTER_HASHES; i++) {
    const bit = (h1 + i * h2) & (FILTER_BITS - 1);
    if (((column[bits + (bit >>> 3)] ?? 0) & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** The ring entries of `column` expiring after `now` (a trailing partial entry, which chatstate never writes, is ignored). */
export function recentLive(column: Buffer | null, now: number): ClaimEntry[] {
  const live: ClaimEntry[] = [];
  if (column === null) return live;
  const end = ringEnd(column);
  for (let o = ringStart(column); o + RECENT_CLAIM_BYTES <= end; o += RECENT_CLAIM_BYTES) {
    const expiresAt = expiryAt(column, o);
    if (expiresAt > now) live.push({ digest: column.subarray(o, o + DIGEST_BYTES), expiresAt });
  }
  return live;
}

export interface RecentAdd {
  /** The row's new `c` value. */
  column: Buffer;
  /** Ring entries to record in the table (all live ones, when the ring was full). */
  moved: ClaimEntry[];
  /**
   * The filter must be built from the table: pass the user's live claims there, with `moved`, to
   * `withTableClaims` and write its result instead of `column`.
   */
  rebuild: boolean;
}

/**
 * The column after recording `digest` until `expiresAt`: expired ring entries dropped, and when
 * RECENT_CLAIMS live ones are already there, all of them returned as `moved` (for the table), added
 * to the filter, and the new ring holding the new entry alone.
 */
export function recentAdd(column: Buffer | null, digest: Buffer, expiresAt: number, now: number): RecentAdd {
  const live = recentLive(column, now);
  const state = tableState(column);
  const entry = { digest, expiresAt };
  if (live.length < RECENT_CLAIMS) {
    live.push(entry);
    const filter = state === 'filter' && column !== null ? column.subarray(ringEnd(column)) : null;
    return { column: compose(state, live, filter), moved: [], rebuild: false };
  }
  if (state === 'unknown' || state === 'saturated')
    return { column: compose(state, [entry], null), moved: live, rebuild: state === 'unknown' };
  const filter = Buffer.alloc(FILTER_PART);
  if (state === 'filter' && column !== null) column.copy(filter, 0, ringEnd(column));
  const added = filter.readUInt16BE(0) + live.length;
  for (const moved of live) setBits(filter, moved.digest);
  filter.writeUInt16BE(Math.min(added, 0xffff), 0);
  return {
    column: compose('filter', [entry], filter),
    moved: live,
    rebuild: added > FILTER_REBUILD_AT,
  };
}

/**
 * `column` (from recentAdd) with its filter built from `digests`: the user's live claims in the
 * table, including the ones this commit moves there.
 */
export function withTableClaims(column: Buffer, digests: readonly Buffer[]): Buffer {
  const ring = recentLive(column, Number.NEGATIVE_INFINITY);
  if (digests.length === 0) return compose('empty', ring, null);
  if (digests.length > FILTER_MAX_LIVE) return compose('saturated', ring, null);
  const filter = Buffer.alloc(FILTER_PART);
  for (const digest of digests) setBits(filter, digest);
  filter.writeUInt16BE(digests.length, 0);
  return compose('filter', ring, filter);
}

function setBits(filter: Buffer, digest: Buffer): void {
  const h1 = digest.readUInt32BE(0);
  const h2 = digest.readUInt32BE(4) | 1;
  for (let i = 0; i < FILTER_HASHES; i++) {
    const bit = (h1 + i * h2) & (FILTER_BITS - 1);
    const at = 2 + (bit >>> 3);
    filter[at] = (filter[at] ?? 0) | (1 << (bit & 7));
  }
}

/** Writes a column: the even layout for `unknown`, else head + ring + filter part (when given). */
function compose(state: TableState, ring: readonly ClaimEntry[], filter: Buffer | null): Buffer {
  const head = state === 'unknown' ? 0 : 1;
  const tail = state === 'filter' && filter ? filter.length : 0;
  const out = Buffer.allocUnsafe(head + ring.length * RECENT_CLAIM_BYTES + tail);
  if (head) out[0] = ring.length | (state === 'saturated' ? HEAD_SATURATED : 0);
  let o = head;
  for (const entry of ring) {
    entry.digest.copy(out, o, 0, DIGEST_BYTES);
    out.writeUIntBE(entry.expiresAt, o + DIGEST_BYTES, 6);
    o += RECENT_CLAIM_BYTES;
  }
  if (tail && filter) filter.copy(out, o);
  return out;
}
