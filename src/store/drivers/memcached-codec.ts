import { createHash } from 'node:crypto';
import type { StoredBlob } from '../contract.js';

/**
 * Byte layouts and key names of the Memcached driver. One item per session: a small binary header
 * (version, expiry) followed by the body bytes the store encoded, so a load is one `get` and a
 * commit one `cas` of one value.
 */

/**
 * What an item holds; the one-letter tag keeps the kinds apart in one keyspace:
 * `s:` session, `l:` lease, `q:` quarantine of one session key, `c:` standalone claim (`store.claim`),
 * `t:` transition claim, which belongs to one user (see transitionClaimKey); the reply outbox
 * (memcached-outbox.ts): `o:` a finished reply, `w:` provider message id -> reply id, `i:` index shard.
 */
export type ItemKind = 's' | 'l' | 'c' | 'q' | 'o' | 'w' | 'i';

// Text-protocol keys are at most 250 bytes of printable ASCII without spaces. Store prefixes and
// claim keys are free text, so anything else is replaced by a hash (upper-case tag: no clash).
const SAFE_KEY = /^[\x21-\x7e]{1,240}$/;

export function itemKey(kind: ItemKind, key: string): string {
  if (SAFE_KEY.test(key)) return `${kind}:${key}`;
  return `${kind.toUpperCase()}:${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * A claim taken by a transition lives beside the user's session (routed by the session key, like
 * Redis keeps it in the user's slot), so the claim check rides in begin's multi-get and the claim
 * record in commit's pipeline, in order on one socket. Hashed: unambiguous for any prefix and claim
 * text, and 24 bytes whatever the message id length (128 bits: no collision in practice).
 */
export function transitionClaimKey(key: string, claimKey: string): string {
  const digest = createHash('sha256').update(key).update('\0').update(claimKey).digest();
  return `t:${digest.subarray(0, 16).toString('base64url')}`;
}

// Header: tag (1 byte), version (uint32 BE), then expiresAt (uint48 BE, ms) only when the tag says so.
// A session with replies (the outbox section, see memcached-outbox.ts) has one of the two outbox
// tags, and the header goes on with the section's length (uint32 BE) and the section, before the body.
const TAG_NO_EXPIRY = 0xa1;
const TAG_EXPIRY = 0xa2;
const TAG_NO_EXPIRY_OUTBOX = 0xa3;
const TAG_EXPIRY_OUTBOX = 0xa4;
const MAX_VERSION = 0xffff_ffff;
const EMPTY_SECTION = Buffer.alloc(0);

/** Bytes the header adds to a body, at most (without an outbox section). */
export const SESSION_HEADER_BYTES = 11;

/**
 * `outbox`: the encoded outbox section, written only when not empty, so a session without replies
 * is stored byte for byte as before.
 */
export function packSession(
  version: number,
  expiresAt: number | null,
  body: Uint8Array,
  outbox: Uint8Array = EMPTY_SECTION,
): Buffer {
  if (version > MAX_VERSION)
    throw new RangeError(`session version ${version} does not fit the memcached header`);
  const section = outbox.length > 0;
  const base = expiresAt === null ? 5 : 11;
  const head = section ? base + 4 + outbox.length : base;
  const out = Buffer.allocUnsafe(head + body.length);
  out[0] =
    expiresAt === null
      ? section
        ? TAG_NO_EXPIRY_OUTBOX
        : TAG_NO_EXPIRY
      : section
        ? TAG_EXPIRY_OUTBOX
        : TAG_EXPIRY;
  out.writeUInt32BE(version, 1);
  if (expiresAt !== null) out.writeUIntBE(Math.max(0, Math.round(expiresAt)), 5, 6);
  if (section) {
    out.writeUInt32BE(outbox.length, base);
    out.set(outbox, base + 4);
  }
  out.set(body, head);
  return out;
}

/** Where a stored value's parts are, or null for bytes without a valid header. */
function layout(value: Buffer) {
  const tag = value[0];
  const expiry = tag === TAG_EXPIRY || tag === TAG_EXPIRY_OUTBOX;
  const section = tag === TAG_NO_EXPIRY_OUTBOX || tag === TAG_EXPIRY_OUTBOX;
  if (!expiry && !section && tag !== TAG_NO_EXPIRY) return null;
  const base = expiry ? 11 : 5;
  if (value.length < base + (section ? 4 : 0)) return null;
  const length = section ? value.readUInt32BE(base) : 0;
  const head = section ? base + 4 + length : base;
  if (head > value.length) return null;
  return { expiry, base, head, length };
}

/**
 * Reads a stored session. Bytes without a valid header (written by something else) come back as
 * version 0 with the whole value as body: the store then fails to decode it and quarantines it, and
 * the next commit (expecting version 0) overwrites it with CAS.
 */
export function unpackSession(value: Buffer): StoredBlob {
  const at = layout(value);
  if (!at) return { version: 0, expiresAt: null, body: value };
  return {
    version: value.readUInt32BE(1),
    expiresAt: at.expiry ? value.readUIntBE(5, 6) : null,
    body: value.subarray(at.head),
  };
}

/** The outbox section of a stored session (empty when it has none). */
export function outboxSectionOf(value: Buffer | undefined): Buffer {
  const at = value ? layout(value) : null;
  return value && at && at.length > 0 ? value.subarray(at.base + 4, at.head) : EMPTY_SECTION;
}

/** A lease item holds its fencing token and the expiry it was granted with, as ASCII. */
export function packLease(token: number, expiresAt: number): string {
  return `${token}:${expiresAt}`;
}

export function unpackLease(value: Buffer | undefined): { token: number; expiresAt: number } | null {
  if (!value) return null;
  const [token, expiresAt] = value.toString('latin1').split(':').map(Number);
  return Number.isSafeInteger(token) && Number.isSafeInteger(expiresAt)
    ? { token: token as number, expiresAt: expiresAt as number }
    : null;
}

export interface QuarantineRecord {
  at: number;
  reason: string;
  raw: Uint8Array;
}

// Quarantine records are appended to one item per session, oldest first:
// total length (uint32 BE, what follows), at (uint48 BE, ms), reason length (uint16 BE), reason, raw.
export function packQuarantine(record: QuarantineRecord): Buffer {
  const reason = Buffer.from(record.reason.slice(0, 500), 'utf8');
  const out = Buffer.allocUnsafe(12 + reason.length + record.raw.length);
  out.writeUInt32BE(8 + reason.length + record.raw.length, 0);
  out.writeUIntBE(Math.max(0, Math.round(record.at)), 4, 6);
  out.writeUInt16BE(reason.length, 10);
  reason.copy(out, 12);
  out.set(record.raw, 12 + reason.length);
  return out;
}

export function unpackQuarantine(value: Buffer): QuarantineRecord[] {
  const records: QuarantineRecord[] = [];
  for (let at = 0; at + 12 <= value.length; ) {
    const end = at + 4 + value.readUInt32BE(at);
    const reasonEnd = at + 12 + value.readUInt16BE(at + 10);
    if (end > value.length || reasonEnd > end) break;
    records.push({
      at: value.readUIntBE(at + 4, 6),
      reason: value.toString('utf8', at + 12, reasonEnd),
      raw: new Uint8Array(value.subarray(reasonEnd, end)),
    });
    at = end;
  }
  return records;
}

/** Relative exptimes above this many seconds are read by memcached as absolute unix times. */
const MAX_RELATIVE_SECONDS = 30 * 24 * 3600;

/**
 * Memcached `exptime` for a time to live in ms. Memcached counts whole seconds on a clock that
 * ticks once a second, so an item set with N lives between N-1 and N seconds: one second is added
 * so nothing expires before it was asked to. Beyond 30 days the value must be an absolute unix
 * time, taken from the real clock (the store clock may be a test clock).
 */
export function exptime(ttlMs: number): number {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000)) + 1;
  if (seconds <= MAX_RELATIVE_SECONDS) return seconds;
  return Math.ceil((Date.now() + ttlMs) / 1000) + 1;
}

/** `exptime` that removes an item at once (how a CAS-checked delete is written in the text protocol). */
export const EXPIRE_NOW = -1;
