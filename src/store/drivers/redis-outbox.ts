import { ChatstateError } from '../../errors.js';
import type { CommitRequest, OutboxDriver, OutboxEntry, OutboxState, OutboxUpdate } from '../contract.js';
import { compareMembers, parseEntryId } from '../outbox-id.js';
import {
  inboxShardOf,
  OUTBOX_SHARDS,
  outboxEntryKey,
  outboxKeys,
  outboxShardKeys,
  providerIdKey,
  transitionClaimKey,
} from './redis-keys.js';
import { callStep, runPhases, type Step } from './redis-phases.js';
import { LUA_SCRIPTS, type RedisClient, type ScriptArg } from './redis-scripts.js';

/**
 * The reply outbox on Redis and Redis Cluster (docs/redis.md, "Reply outbox").
 *
 * Per user, in the user's slot, written by commit.lua in the same script as the state change:
 * one hash per reply `{key}:o:<version>:<n>`, a sorted set of all the user's replies `{key}:o` and
 * one of the pending ones `{key}:oq` (score = created, ms). Every outbox key expires `retentionMs`
 * after its last write, so finished replies do not stay forever.
 *
 * Recovery needs the users with pending replies across slots: they are listed in 16 index shards
 * `{prefix#outbox:n}`, like the inbox's. On a single server a script may touch any key, so
 * commit.lua lists the user and outboxUpdate.lua unlists it in the same step as the entries: no
 * race, no extra round trip. On a cluster the shard lives in another slot, so a commit that records
 * replies first lists its user (outboxList, one extra round trip, only for those commits); a
 * user is unlisted only by `pending()`, once its pending set is empty and its listing token is
 * older than `unlistAfterMs` (the commit that followed a fresh listing may still be on its way).
 */
export interface RedisOutboxOptions {
  /** How long an entry (and its provider id key) is kept after its last change. */
  retentionMs: number;
  /** Age (server clock) of a listing before `pending()` may remove a user with nothing pending. */
  unlistAfterMs: number;
}

/** Days a reply is kept after its last change by default: the provider's redelivery window. */
export const OUTBOX_RETENTION_MS = 7 * 86_400_000;
export const OUTBOX_UNLIST_AFTER_MS = 60_000;

const S = LUA_SCRIPTS;

export type RedisOutbox = OutboxDriver & {
  /** KEYS and ARGV commit.lua needs to record `req.outbox` (appended to its own). */
  commitParts(req: CommitRequest, claimKeyGiven: boolean): { keys: string[]; args: ScriptArg[] };
  /** On a cluster: lists the user before a commit that records replies. */
  beforeCommit(req: CommitRequest): Promise<void>;
};

export function redisOutbox(client: RedisClient, prefix: string, o: RedisOutboxOptions): RedisOutbox {
  const cluster = client.isCluster;
  const shardOf = (user: string) => outboxShardKeys(prefix, inboxShardOf(user));
  const retention = String(Math.max(1, Math.ceil(o.retentionMs)));
  const call = (step: Step) => callStep(client, step);
  const run = (phases: Step[][]) => runPhases(client, phases);

  const readStep = (user: string, members: string[]): Step => ({
    script: S.outboxRead,
    keys: members.map((m) => outboxEntryKey(user, m)),
    args: [''],
  });

  const toEntries = (user: string, members: string[], reply: unknown): OutboxEntry[] => {
    const out: OutboxEntry[] = [];
    (reply as string[][]).forEach((flat, i) => {
      if (flat.length === 0) return;
      const f: Record<string, string> = {};
      for (let j = 0; j + 1 < flat.length; j += 2) f[flat[j] as string] = flat[j + 1] as string;
      out.push({
        id: `${user}:${members[i]}`,
        user,
        payload: f.p ?? '',
        state: (f.s ?? 'pending') as OutboxState,
        attempts: Number(f.a ?? 0),
        ...(f.pid === undefined ? {} : { providerId: f.pid }),
        ...(f.err === undefined ? {} : { error: f.err }),
        createdAt: Number(f.c),
        updatedAt: Number(f.u),
      });
    });
    return out;
  };

  // Replies are ordered by creation, then (one user's) version and position in the transition.
  const member = (e: OutboxEntry) => parseEntryId(e.id)?.member ?? '0:0';
  const oldestFirst = (a: OutboxEntry, b: OutboxEntry) =>
    a.createdAt - b.createdAt ||
    (a.user < b.user ? -1 : a.user > b.user ? 1 : compareMembers(member(a), member(b)));

  return {
    commitParts(req, claimKeyGiven) {
      const entries = req.outbox ?? [];
      const k = outboxKeys(req.key);
      const members = entries.map((e) => {
        const parsed = parseEntryId(e.id);
        if (parsed?.user !== req.key) invalid(`outbox entry id ${e.id} does not belong to ${req.key}`);
        return parsed.member;
      });
      // KEYS[4] is read only with a claim; without one any name of the user's slot fills it.
      const keys = claimKeyGiven ? [] : [transitionClaimKey(req.key, '')];
      keys.push(k.all, k.pending);
      if (!cluster) {
        const s = shardOf(req.key);
        keys.push(s.index, s.tokens);
      }
      keys.push(...members.map((m) => outboxEntryKey(req.key, m)));
      const args: ScriptArg[] = [];
      entries.forEach((e, i) => args.push(members[i] as string, e.payload));
      args.push(req.key, String(req.now), retention, String(entries.length));
      return { keys, args };
    },

    async beforeCommit(req) {
      if (!cluster || !req.outbox?.length) return;
      const s = shardOf(req.key);
      await call({ script: S.outboxList, keys: [s.index, s.tokens], args: [String(req.now), req.key] });
    },

    async update(id: string, change: OutboxUpdate, now: number): Promise<void> {
      const parsed = parseEntryId(id);
      if (!parsed) return;
      const { user, member } = parsed;
      const keys = [outboxEntryKey(user, member), outboxKeys(user).pending];
      const pid = change.providerId ?? '';
      // On a cluster the provider id key is in another slot: written first, so a status webhook
      // that arrives right after the send finds the entry.
      const pidKey = pid === '' ? null : providerIdKey(prefix, pid);
      if (!cluster) {
        const s = shardOf(user);
        keys.push(s.index, s.tokens);
        if (pidKey) keys.push(pidKey);
      } else if (pidKey) {
        await call({ command: 'set', args: [pidKey, id, 'PX', retention] });
      }
      await call({
        script: S.outboxUpdate,
        keys,
        args: [
          change.state,
          change.attempts === undefined ? '' : String(change.attempts),
          pid,
          change.error ?? '',
          String(now),
          retention,
          member,
          user,
          cluster ? '0' : '1',
          !cluster && pidKey ? '1' : '0',
          id,
        ],
      });
    },

    async byProviderId(providerId: string): Promise<OutboxEntry | null> {
      const id = (await call({ command: 'get', args: [providerIdKey(prefix, providerId)] })) as string | null;
      const parsed = id === null ? null : parseEntryId(id);
      if (!parsed) return null;
      const [entry] = toEntries(
        parsed.user,
        [parsed.member],
        await call(readStep(parsed.user, [parsed.member])),
      );
      return entry ?? null;
    },

    async forUser(user: string, limit: number): Promise<OutboxEntry[]> {
      if (limit < 1) return [];
      // Within one millisecond the set sorts members as text ("5:10" < "5:9"): read a little more
      // than asked and order exactly here.
      const members = (await call({
        command: 'zrevrange',
        args: [outboxKeys(user).all, '0', String(Math.floor(limit) + 15)],
      })) as string[];
      if (members.length === 0) return [];
      const entries = toEntries(user, members, await call(readStep(user, members)));
      return entries.sort((a, b) => oldestFirst(b, a)).slice(0, limit);
    },

    async pending(before: number, limit: number): Promise<OutboxEntry[]> {
      if (limit < 1) return [];
      const n = String(Math.floor(limit));
      const [shards = []] = await run([
        Array.from({ length: OUTBOX_SHARDS }, (_, i): Step => {
          const k = outboxShardKeys(prefix, i);
          // Same reply shape as the inbox's shard read: user, score, token.
          return { script: S.inboxUsers, keys: [k.index, k.tokens], args: [String(before), n] };
        }),
      ]);
      const listed: Array<{ user: string; at: number; token: string }> = [];
      for (const reply of shards as string[][]) {
        for (let i = 0; i + 2 < reply.length; i += 3) {
          listed.push({ user: reply[i] as string, at: Number(reply[i + 1]), token: reply[i + 2] as string });
        }
      }
      listed.sort((a, b) => a.at - b.at || (a.user < b.user ? -1 : 1));
      const candidates = listed.slice(0, limit);
      if (candidates.length === 0) return [];
      const [due = []] = await run([
        candidates.map(
          (c): Step => ({
            script: S.outboxDue,
            keys: [outboxKeys(c.user).pending],
            args: [String(before), n],
          }),
        ),
      ]);
      const found = candidates.map((c, i) => {
        const [count, ...members] = due[i] as [number, ...string[]];
        return { ...c, count: Number(count), members };
      });
      const reading = found.filter((f) => f.members.length > 0);
      const empty = found.filter((f) => f.count === 0);
      const [entries = []] = await run([
        reading.map((f) => readStep(f.user, f.members)),
        ...(empty.length > 0 ? [unlistSteps(empty, before)] : []),
      ]);
      return reading
        .flatMap((f, i) => toEntries(f.user, f.members, entries[i]))
        .filter((e) => e.state === 'pending')
        .sort(oldestFirst)
        .slice(0, limit);
    },
  };

  function unlistSteps(users: Array<{ user: string; token: string }>, now: number): Step[] {
    const groups = new Map<number, string[]>();
    for (const { user, token } of users) {
      const shard = inboxShardOf(user);
      groups.set(shard, [...(groups.get(shard) ?? []), user, token]);
    }
    return [...groups].map(([shard, pairs]) => {
      const k = outboxShardKeys(prefix, shard);
      return {
        script: S.outboxUnlist,
        keys: [k.index, k.tokens],
        args: [String(Math.max(0, o.unlistAfterMs)), String(Math.max(now, Date.now())), ...pairs],
      };
    });
  }
}

function invalid(message: string): never {
  throw new ChatstateError('INVALID_ARGUMENT', `${message}.`, { component: 'redis' });
}
