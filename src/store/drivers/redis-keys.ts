import { ChatstateError } from '../../errors.js';

/**
 * Key layout. Every key of one user carries the user's session key as its hash tag (`{…}`), so
 * every script touches exactly one Cluster slot and can never fail with CROSSSLOT:
 *
 *   {cs:12025550123}            hash   the session fields (session/fields.ts) and version `v`; its expiry is the session's + grace
 *   {cs:12025550123}:h          list   recent history, capped with RPUSH + LTRIM
 *   {cs:12025550123}:l          string the lease: the holder's fencing token (no key once released)
 *   {cs:12025550123}:c:<claim>  string a transition claim (message id), in the user's slot
 *   {cs:12025550123}:q:<t>:<r>  hash   a quarantined record (raw bytes, reason, time)
 *   {cs:12025550123}:i          zset   webhook inbox order: score = provider timestamp, member = <seq>:<id>
 *   {cs:12025550123}:ip         hash   webhook inbox bodies: <id> -> <seq><payload>, '' -> last seq
 *   {cs:12025550123}:o          zset   reply outbox: every entry, member = <version>:<n>, score = created (ms)
 *   {cs:12025550123}:oq         zset   reply outbox: the pending entries only (same members)
 *   {cs:12025550123}:o:<v>:<n>  hash   one reply: payload, state, attempts, provider id, error, times
 *
 * The index of users with waiting inbox entries is split in INBOX_SHARDS shards, each its own slot
 * (`#` cannot occur in a user id, so no session key can collide with them):
 *
 *   {cs:#inbox:<n>}             zset   user key -> time first listed (ms)
 *   {cs:#inbox:<n>}:t           hash   user key -> token of the last add (see inboxList.lua)
 *   {cs:#outbox:<n>}            zset   users with pending replies -> time first listed (ms)
 *   {cs:#outbox:<n>}:t          hash   user key -> server time (ms) of the last listing (outboxUnlist.lua)
 *
 * A provider message id (wamid) points to its reply with a global key, in its own slot:
 *
 *   cs:#w:<wamid>               string the reply's entry id (status webhooks)
 *
 * Standalone claims (`store.claim(key)`) are single keys and use the claim key as it is.
 */
export interface SessionKeys {
  hash: string;
  history: string;
  lease: string;
}

export function sessionKeys(key: string): SessionKeys {
  // A brace inside the key would move the hash tag (all users into one slot): refuse it early.
  if (key.includes('{') || key.includes('}')) {
    throw new ChatstateError(
      'INVALID_ARGUMENT',
      `key "${key.slice(0, 60)}" contains a brace: Redis Cluster reads braces as a hash tag. Remove braces from the store prefix.`,
      { component: 'redis' },
    );
  }
  const tag = `{${key}}`;
  return { hash: tag, history: `${tag}:h`, lease: `${tag}:l` };
}

export function transitionClaimKey(key: string, claimKey: string): string {
  return `{${key}}:c:${claimKey}`;
}

export function quarantineKey(key: string, at: number, random: string): string {
  return `{${key}}:q:${at}:${random}`;
}

/** SCAN pattern for the quarantine records of one session key. */
export function quarantinePattern(key: string): string {
  return `${globEscape(`{${key}}`)}:q:*`;
}

/** SCAN pattern for session hashes whose key starts with `prefix`. */
export function sessionPattern(prefix: string): string {
  return `{${globEscape(prefix)}*}`;
}

/** The session key of a session hash name, or null for any other key. */
export function keyOfHash(name: string): string | null {
  return name.length >= 2 && name.startsWith('{') && name.endsWith('}') && !/[{}]/.test(name.slice(1, -1))
    ? name.slice(1, -1)
    : null;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export interface InboxKeys {
  /** Sorted set: the order of the user's waiting entries. */
  order: string;
  /** Hash: the entries' payloads, and the arrival counter under field ''. */
  bodies: string;
}

export function inboxKeys(key: string): InboxKeys {
  const { hash } = sessionKeys(key); // refuses braces
  return { order: `${hash}:i`, bodies: `${hash}:ip` };
}

/** Shards of the index of users with waiting inbox entries (fixed: changing it would orphan listings). */
export const INBOX_SHARDS = 16;

export interface InboxShardKeys {
  index: string;
  tokens: string;
}

export function inboxShardKeys(prefix: string, shard: number): InboxShardKeys {
  const tag = `{${prefix}#inbox:${shard}}`;
  return { index: tag, tokens: `${tag}:t` };
}

/** The index shard a user key is listed in: FNV-1a (32 bit) of its UTF-8 bytes, mod INBOX_SHARDS. */
export function inboxShardOf(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % INBOX_SHARDS;
}

export interface OutboxKeys {
  /** Sorted set of every reply of the user (forUser, newest first). */
  all: string;
  /** Sorted set of the user's pending replies (recovery). */
  pending: string;
}

export function outboxKeys(key: string): OutboxKeys {
  const { hash } = sessionKeys(key); // refuses braces
  return { all: `${hash}:o`, pending: `${hash}:oq` };
}

/** The hash of one reply; `member` is `<version>:<n>`, the end of its entry id. */
export function outboxEntryKey(key: string, member: string): string {
  return `{${key}}:o:${member}`;
}

/** Shards of the index of users with pending replies (fixed: changing it would orphan listings). */
export const OUTBOX_SHARDS = 16;

export function outboxShardKeys(prefix: string, shard: number): InboxShardKeys {
  const tag = `{${prefix}#outbox:${shard}}`;
  return { index: tag, tokens: `${tag}:t` };
}

/** Global key from a provider message id (wamid) to its reply's entry id. */
export function providerIdKey(prefix: string, providerId: string): string {
  return `${prefix}#w:${providerId}`;
}
