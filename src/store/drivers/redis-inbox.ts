import { randomBytes } from 'node:crypto';
import { ChatstateError } from '../../errors.js';
import type { InboxDriver, InboxEntry } from '../contract.js';
import { INBOX_SHARDS, inboxKeys, inboxShardKeys, inboxShardOf } from './redis-keys.js';
import { callStep, runPhases, type Step } from './redis-phases.js';
import { LUA_SCRIPTS, type RedisClient } from './redis-scripts.js';

/**
 * The webhook inbox on Redis and Redis Cluster (docs/redis.md, "Webhook inbox").
 *
 * Per user, in the user's slot: a sorted set `{key}:i` (score = provider timestamp in ms, member =
 * `<10-digit arrival seq>:<id>`, so equal timestamps sort by arrival) and a hash `{key}:ip`
 * (id -> seq + payload; the hash is what deduplicates ids). Scores are doubles, exact for integer
 * milliseconds (< 2^53), and the arrival order lives in the member, never in the score.
 *
 * Recovery needs the users with waiting entries, which live in every slot: they are listed in 16
 * index shards `{prefix#inbox:n}` (one slot each), written in separate steps from the entries:
 *
 *   add:    list (ZADD NX)  ->  entries (one script per user)  ->  token + list again
 *   remove: read token      ->  remove entries                 ->  if empty: unlist if token unchanged
 *
 * A user is listed before its entries exist, so a crash never leaves an unlisted entry behind an
 * acknowledgement; the token written after the entries makes an unlist that raced with an add
 * (read its token before the add, found the inbox empty before the add) a no-op, so an add that
 * was acknowledged is always listed until its entries are removed. A listing with an empty inbox
 * is harmless and is pruned by `users()`.
 *
 * On a single server each operation's steps go out as one pipeline (one round trip; one
 * connection executes them in order). On a cluster the steps are sent phase by phase, each phase
 * in parallel over the nodes, because the order across nodes is only kept by waiting.
 */

const S = LUA_SCRIPTS;

export function redisInbox(client: RedisClient, prefix: string): InboxDriver {
  const shard = (n: number) => inboxShardKeys(prefix, n);
  const shardOfUser = (user: string) => shard(inboxShardOf(user));

  const call = (step: Step) => callStep(client, step);
  const run = (phases: Step[][]) => runPhases(client, phases);

  const byShard = (users: Iterable<string>): Map<number, string[]> => {
    const groups = new Map<number, string[]>();
    for (const user of users) {
      const n = inboxShardOf(user);
      groups.set(n, [...(groups.get(n) ?? []), user]);
    }
    return groups;
  };

  const unlistSteps = (pairs: Array<[user: string, token: string]>): Step[] =>
    [...byShard(pairs.map(([user]) => user))].map(([n, users]) => {
      const tokenOf = new Map(pairs);
      const k = shard(n);
      return {
        script: S.inboxUnlist,
        keys: [k.index, k.tokens],
        args: users.flatMap((u) => [u, tokenOf.get(u) ?? '']),
      };
    });

  return {
    async add(entries: InboxEntry[], now: number): Promise<number> {
      if (entries.length === 0) return 0;
      const byUser = new Map<string, string[]>();
      for (const e of entries) {
        if (!e.id) invalid('an inbox entry needs a non-empty message id');
        if (!Number.isFinite(e.at)) invalid(`inbox entry ${e.id}: timestamp ${e.at} is not a number`);
        const args = byUser.get(e.user) ?? [];
        args.push(e.id, String(e.at), e.payload);
        byUser.set(e.user, args);
      }
      const token = randomBytes(8).toString('hex');
      const list = (t: string): Step[] =>
        [...byShard(byUser.keys())].map(([n, users]) => {
          const k = shard(n);
          return { script: S.inboxList, keys: [k.index, k.tokens], args: [String(now), t, ...users] };
        });
      const adds: Step[] = [...byUser].map(([user, args]) => {
        const k = inboxKeys(user);
        return { script: S.inboxAdd, keys: [k.order, k.bodies], args };
      });
      const [, added = []] = await run([list(''), adds, list(token)]);
      return added.reduce<number>((sum, n) => sum + Number(n), 0);
    },

    async peek(user: string, limit: number): Promise<InboxEntry[]> {
      const k = inboxKeys(user);
      const reply = (await call({
        script: S.inboxPeek,
        keys: [k.order, k.bodies],
        args: [String(Math.max(0, Math.floor(limit)))],
      })) as string[];
      const entries: InboxEntry[] = [];
      for (let i = 0; i + 2 < reply.length; i += 3) {
        entries.push({
          id: reply[i] as string,
          user,
          at: Number(reply[i + 1]),
          payload: reply[i + 2] as string,
        });
      }
      return entries;
    },

    async remove(user: string, ids: string[]): Promise<void> {
      const k = inboxKeys(user);
      const wanted = ids.filter((id) => id !== '');
      if (wanted.length === 0) return;
      const s = shardOfUser(user);
      // The token is read before the inbox can be found empty (see inboxUnlist.lua).
      const [[token] = [], [left] = []] = await run([
        [{ command: 'hget', args: [s.tokens, user] }],
        [{ script: S.inboxRemove, keys: [k.order, k.bodies], args: wanted }],
      ]);
      if (Number(left) === 0) await run([unlistSteps([[user, (token as string | null) ?? '']])]);
    },

    async users(before: number, limit: number): Promise<string[]> {
      if (limit < 1) return [];
      const n = String(Math.floor(limit));
      const [shards = []] = await run([
        Array.from({ length: INBOX_SHARDS }, (_, i): Step => {
          const k = shard(i);
          return { script: S.inboxUsers, keys: [k.index, k.tokens], args: [String(before), n] };
        }),
      ]);
      const listed: Array<{ user: string; at: number; token: string }> = [];
      for (const reply of shards as string[][]) {
        for (let i = 0; i + 2 < reply.length; i += 3) {
          listed.push({ user: reply[i] as string, at: Number(reply[i + 1]), token: reply[i + 2] as string });
        }
      }
      listed.sort((a, b) => a.at - b.at || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
      const candidates = listed.slice(0, limit);
      if (candidates.length === 0) return [];
      // Listed users whose inbox is empty (a failed add, a crash before unlisting) are pruned.
      const [exists = []] = await run([
        candidates.map((c): Step => ({ command: 'exists', args: [inboxKeys(c.user).order] })),
      ]);
      const empty = candidates.filter((_, i) => Number(exists[i]) === 0);
      if (empty.length > 0) await run([unlistSteps(empty.map((c) => [c.user, c.token]))]);
      return candidates.filter((_, i) => Number(exists[i]) !== 0).map((c) => c.user);
    },
  };
}

function invalid(message: string): never {
  throw new ChatstateError('INVALID_ARGUMENT', `${message}.`, { component: 'redis' });
}
