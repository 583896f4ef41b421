import { ChatstateError } from '../../errors.js';
import type { OutboxDriver, OutboxEntry, OutboxUpdate } from '../contract.js';
import { compareMembers, parseEntryId } from '../outbox-id.js';
import { exptime, itemKey, outboxSectionOf, packSession, unpackSession } from './memcached-codec.js';
import type { MemcachedNode } from './memcached-conn.js';

/**
 * The reply outbox on Memcached (docs/memcached.md, "Reply outbox").
 *
 * Memcached has no multi-key atomicity, so a user's pending replies travel inside the session value
 * (the outbox section, memcached-codec.ts), written by the same CAS that commits the state: state
 * and replies are stored together or not at all. A reply that leaves `pending` (sent, failed…)
 * moves to its own item `o:<entry id>` (kept `retentionMs`), and the session keeps the members of
 * the last RECENT finished replies for `forUser`. A provider message id points to its reply through
 * `w:<wamid>`.
 *
 * Memcached cannot list keys, so users with pending replies are listed in INDEX_SHARDS index items
 * `i:outbox:<n>`, one line `<ms> <user key>` per commit with replies, appended BEFORE the CAS (in the
 * same round trip as the commit's read): a crash can leave a line without replies, never replies
 * without a line. `pending()` reads the lines, looks at the sessions, and rewrites a shard (CAS)
 * without the users that have nothing pending, except lines younger than `indexGraceMs` (a commit
 * may still be on its way to the session).
 */

/** Finished replies whose members the session keeps for `forUser`. */
export const RECENT = 20;
export const INDEX_SHARDS = 16;

type RoundTrip = <T extends readonly unknown[] | []>(
  work: T,
) => Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }>;

export interface MemcachedOutboxContext {
  nodeFor(routingKey: string): MemcachedNode;
  roundTrip: RoundTrip;
  casRetries: number;
  /** How long a finished reply (and its provider id item) is kept. */
  retentionMs: number;
  /** Index lines younger than this are kept even when their user has nothing pending. */
  indexGraceMs: number;
  /** Memcached keeps a session this long after its expiry (the session item's lifetime). */
  graceMs: number;
  /** Largest value the servers accept. */
  maxValueBytes: number;
}

/** A pending reply inside the session value. */
interface Held {
  /** `<version>:<n>` */
  m: string;
  p: string;
  a: number;
  e?: string;
  c: number;
  u: number;
}

interface Section {
  p: Held[];
  /** Members of the last finished replies, oldest first. */
  r: string[];
}

export function readSection(value: Buffer | undefined): Section {
  const bytes = outboxSectionOf(value);
  if (bytes.length === 0) return { p: [], r: [] };
  const parsed = JSON.parse(bytes.toString('utf8')) as Partial<Section>;
  return { p: parsed.p ?? [], r: parsed.r ?? [] };
}

function writeSection(section: Section): Buffer {
  return section.p.length === 0 && section.r.length === 0
    ? Buffer.alloc(0)
    : Buffer.from(JSON.stringify(section), 'utf8');
}

/** The outbox section a commit writes: what the stored value holds plus the transition's replies. */
export function commitSection(
  current: Buffer | undefined,
  user: string,
  added: ReadonlyArray<{ id: string; payload: string }> | undefined,
  now: number,
): Buffer {
  const section = readSection(current);
  for (const entry of added ?? []) {
    const parsed = parseEntryId(entry.id);
    if (parsed?.user !== user) {
      throw new ChatstateError(
        'INVALID_ARGUMENT',
        `outbox entry id ${entry.id} does not belong to ${user}.`,
        {
          component: 'memcached',
        },
      );
    }
    if (section.p.some((h) => h.m === parsed.member)) continue;
    section.p.push({ m: parsed.member, p: entry.payload, a: 0, c: now, u: now });
  }
  return writeSection(section);
}

function shardOf(user: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(user)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % INDEX_SHARDS;
}

export const indexKey = (shard: number) => itemKey('i', `outbox:${shard}`);
export const indexKeyOf = (user: string) => indexKey(shardOf(user));
export const indexLine = (user: string, at: number) => `${Math.round(at)} ${encodeURIComponent(user)}\n`;

function parseIndex(value: Buffer): Map<string, number> {
  const latest = new Map<string, number>();
  for (const line of value.toString('utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space < 1) continue;
    const at = Number(line.slice(0, space));
    let user: string;
    try {
      user = decodeURIComponent(line.slice(space + 1));
    } catch {
      continue;
    }
    if (Number.isFinite(at) && at > (latest.get(user) ?? Number.NEGATIVE_INFINITY)) latest.set(user, at);
  }
  return latest;
}

export type MemcachedOutbox = OutboxDriver & {
  /** Appends the user's index line (before the commit's CAS). */
  listUser(user: string, now: number): Promise<void>;
};

export function memcachedOutbox(x: MemcachedOutboxContext): MemcachedOutbox {
  const sessionTtl = (expiresAt: number | null, now: number) =>
    expiresAt === null ? 0 : exptime(Math.max(0, expiresAt - now) + x.graceMs);

  const toEntry = (user: string, h: Held): OutboxEntry => ({
    id: `${user}:${h.m}`,
    user,
    payload: h.p,
    state: 'pending',
    attempts: h.a,
    ...(h.e === undefined ? {} : { error: h.e }),
    createdAt: h.c,
    updatedAt: h.u,
  });

  const applyChange = (entry: OutboxEntry, change: OutboxUpdate, now: number): OutboxEntry => ({
    ...entry,
    state: change.state,
    ...(change.attempts === undefined ? {} : { attempts: change.attempts }),
    ...(change.providerId === undefined ? {} : { providerId: change.providerId }),
    ...(change.error === undefined ? {} : { error: change.error }),
    updatedAt: now,
  });

  const repack = (value: Buffer, section: Section) => {
    const stored = unpackSession(value);
    const out = packSession(stored.version, stored.expiresAt, stored.body, writeSection(section));
    if (out.length > x.maxValueBytes) {
      throw new ChatstateError(
        'SESSION_TOO_LARGE',
        `the session value with its pending replies would be ${out.length} bytes, over the ${x.maxValueBytes}-byte item limit: deliver replies (recovery) or raise memcached -I.`,
        { component: 'memcached', details: { size: out.length, cap: x.maxValueBytes } },
      );
    }
    return { out, stored };
  };

  const finishedItem = (entry: OutboxEntry) => Buffer.from(JSON.stringify(entry), 'utf8');
  const readFinished = (value: Buffer | undefined): OutboxEntry | null =>
    value ? (JSON.parse(value.toString('utf8')) as OutboxEntry) : null;

  const rememberProvider = (entry: OutboxEntry, change: OutboxUpdate) =>
    change.providerId === undefined
      ? true
      : x
          .nodeFor(change.providerId)
          .store('set', itemKey('w', change.providerId), entry.id, exptime(x.retentionMs));

  return {
    async listUser(user, now) {
      const key = indexKeyOf(user);
      const node = x.nodeFor(key);
      const line = indexLine(user, now);
      if (await node.store('append', key, line, 0)) return;
      if (await node.store('add', key, line, 0)) return;
      // Someone created the item between the two: append to theirs.
      if (await node.store('append', key, line, 0)) return;
      throw new ChatstateError(
        'STORE_UNAVAILABLE',
        `memcached did not store the outbox index line of ${user}: nothing was committed; retry.`,
        { component: 'memcached' },
      );
    },

    async update(id, change, now) {
      const parsed = parseEntryId(id);
      if (!parsed) return;
      const { user, member } = parsed;
      const node = x.nodeFor(user);
      const sKey = itemKey('s', user);
      const oKey = itemKey('o', id);
      for (let attempt = 0; attempt <= x.casRetries; attempt++) {
        const [items] = await x.roundTrip([node.gets([sKey, oKey])]);
        const session = items.get(sKey);
        const section = readSection(session?.value);
        const held = section.p.find((h) => h.m === member);
        if (session && held) {
          const entry = applyChange(toEntry(user, held), change, now);
          if (entry.state === 'pending') {
            held.a = entry.attempts;
            held.u = now;
            if (entry.error !== undefined) held.e = entry.error;
          } else {
            section.p = section.p.filter((h) => h !== held);
            section.r = [...section.r.filter((m) => m !== member), member].slice(-RECENT);
          }
          const { out, stored } = repack(session.value, section);
          // Pipelined on the user's socket: the finished item is stored before the entry leaves the
          // session, so the reply is never missing from both.
          const [, written] = await x.roundTrip([
            entry.state === 'pending'
              ? true
              : node.store('set', oKey, finishedItem(entry), exptime(x.retentionMs)),
            node.store('cas', sKey, out, sessionTtl(stored.expiresAt, now), session.cas),
            rememberProvider(entry, change),
          ]);
          if (written) return;
          continue;
        }
        const finished = items.get(oKey);
        const entry = readFinished(finished?.value);
        if (!finished || !entry) return;
        const next = applyChange(entry, change, now);
        const [written] = await x.roundTrip([
          node.store('cas', oKey, finishedItem(next), exptime(x.retentionMs), finished.cas),
          rememberProvider(next, change),
        ]);
        if (written) return;
      }
      throw new ChatstateError(
        'SESSION_CONFLICT',
        `outbox entry ${id} changed under ${x.casRetries + 1} attempts in a row: retry the update, or raise casRetries.`,
        { component: 'memcached' },
      );
    },

    async byProviderId(providerId) {
      const wKey = itemKey('w', providerId);
      const [items] = await x.roundTrip([x.nodeFor(providerId).gets([wKey])]);
      const id = items.get(wKey)?.value.toString('utf8');
      const parsed = id === undefined ? null : parseEntryId(id);
      if (!id || !parsed) return null;
      const sKey = itemKey('s', parsed.user);
      const oKey = itemKey('o', id);
      const [found] = await x.roundTrip([x.nodeFor(parsed.user).gets([sKey, oKey])]);
      const held = readSection(found.get(sKey)?.value).p.find((h) => h.m === parsed.member);
      return held ? toEntry(parsed.user, held) : readFinished(found.get(oKey)?.value);
    },

    async forUser(user, limit) {
      if (limit < 1) return [];
      const node = x.nodeFor(user);
      const sKey = itemKey('s', user);
      const [items] = await x.roundTrip([node.gets([sKey])]);
      const section = readSection(items.get(sKey)?.value);
      const entries = section.p.map((h) => toEntry(user, h));
      const oKeys = section.r.map((m) => itemKey('o', `${user}:${m}`));
      if (oKeys.length > 0) {
        const [finished] = await x.roundTrip([node.gets(oKeys)]);
        for (const key of oKeys) {
          const entry = readFinished(finished.get(key)?.value);
          if (entry) entries.push(entry);
        }
      }
      const memberOf = (e: OutboxEntry) => parseEntryId(e.id)?.member ?? '0:0';
      return entries
        .sort((a, b) => b.createdAt - a.createdAt || compareMembers(memberOf(b), memberOf(a)))
        .slice(0, limit);
    },

    async pending(before, limit) {
      if (limit < 1) return [];
      const shardKeys = Array.from({ length: INDEX_SHARDS }, (_, n) => indexKey(n));
      const shardItems = await getsAll(shardKeys, (k) => k);
      const listed = new Map<string, number>();
      const perShard = new Map<string, Map<string, number>>();
      for (const key of shardKeys) {
        const item = shardItems.get(key);
        const lines = item ? parseIndex(item.value) : new Map<string, number>();
        perShard.set(key, lines);
        for (const [user, at] of lines) listed.set(user, Math.max(at, listed.get(user) ?? at));
      }
      if (listed.size === 0) return [];
      const users = [...listed.keys()];
      const userOf = new Map(users.map((u) => [itemKey('s', u), u]));
      const sessions = await getsAll([...userOf.keys()], (k) => userOf.get(k) as string);
      const pendingOf = new Map<string, Held[]>();
      for (const user of users) pendingOf.set(user, readSection(sessions.get(itemKey('s', user))?.value).p);
      // Rewrite each shard without the users that have nothing pending (lines within the grace stay).
      const keepAfter = Date.now() - x.indexGraceMs;
      const rewrites: Array<Promise<boolean>> = [];
      for (const key of shardKeys) {
        const item = shardItems.get(key);
        const lines = perShard.get(key);
        if (!item || !lines || lines.size === 0) continue;
        let text = '';
        for (const [user, at] of lines) {
          if ((pendingOf.get(user)?.length ?? 0) > 0 || at > keepAfter) text += indexLine(user, at);
        }
        if (text !== item.value.toString('utf8')) {
          // A line appended since the read changed the CAS value: the rewrite then does nothing.
          rewrites.push(x.nodeFor(key).store('cas', key, text, 0, item.cas));
        }
      }
      if (rewrites.length > 0) await x.roundTrip(rewrites);
      const out: OutboxEntry[] = [];
      for (const [user, held] of pendingOf) {
        for (const h of held) if (h.c < before) out.push(toEntry(user, h));
      }
      return out
        .sort(
          (a, b) =>
            a.createdAt - b.createdAt ||
            (a.user < b.user
              ? -1
              : a.user > b.user
                ? 1
                : compareMembers(parseEntryId(a.id)?.member ?? '', parseEntryId(b.id)?.member ?? '')),
        )
        .slice(0, limit);
    },
  };

  /** `gets` of many keys, one multi-get per server, all servers in one round trip. */
  async function getsAll(keys: string[], route: (key: string) => string) {
    const groups = new Map<MemcachedNode, string[]>();
    for (const key of keys) {
      const node = x.nodeFor(route(key));
      groups.set(node, [...(groups.get(node) ?? []), key]);
    }
    const replies = await x.roundTrip([...groups].map(([node, group]) => node.gets(group)));
    const out = new Map<string, { value: Buffer; cas: string }>();
    for (const reply of replies) for (const [k, v] of reply) out.set(k, v);
    return out;
  }
}
