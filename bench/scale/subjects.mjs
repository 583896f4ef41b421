// The rows of the scale benchmark: chatstate SQLite and Redis, each beside its floor from bench/peers/
// (the least a read-modify-write costs on that database), so the growth of chatstate's latency with
// N stored sessions can be compared with the database's own growth. Each setup seeds N sessions by
// copying one real one (seed-sqlite.mjs, seed-redis.mjs), checks a sample, and measures the store size.
import { Redis } from 'ioredis';
import { openStore } from '../lib/chatstate.mjs';
import { missingPrograms, startRedis } from '../lib/servers.mjs';
import { sqliteFileBytes } from '../lib/sqlite-file.mjs';
import {
  CHATSTATE_OPTIONS,
  HISTORY_LIMIT,
  nextMessageId,
  SEED,
  stepHandler,
  writeSeed,
} from '../lib/workload.mjs';
import { FLOOR_SCRIPT, floorStep, seedFloorHash } from '../peers/floor-redis-lua.mjs';
import floorSqlite from '../peers/floor-sqlite.mjs';
import { cloneUserKeys, usedMemory } from './seed-redis.mjs';
import { copyFloorRow, copySessionRow } from './seed-sqlite.mjs';
import { prng, uidAt } from './users.mjs';

const redisMissing = async () => missingPrograms('redis-server');

/** The template: the seed session after five messages, so its history is full (as in bench/run.mjs). */
async function writeTemplate(store) {
  const uid = uidAt(0);
  await store.transition(uid, writeSeed);
  for (let i = 0; i < HISTORY_LIMIT; i++) {
    const result = await store.transition(uid, stepHandler, { claim: nextMessageId(uid) });
    if (result.status !== 'committed') throw new Error(`template transition was ${result.status}`);
  }
}

/** Indexes checked after seeding: the first, the last and `sample` drawn at random. */
function samplePicks(n, sample) {
  const next = prng(0x5ca1e);
  return [0, n - 1, ...Array.from({ length: sample }, () => Math.floor(next() * n))];
}

/** Every picked session must load through the store (decode) and equal the template. */
async function verifySessions(store, n, sample) {
  const picks = samplePicks(n, sample);
  for (const i of picks) {
    const uid = uidAt(i);
    const s = await store.get(uid);
    const problem = !s
      ? 'not found'
      : s.id !== uid
        ? `id ${s.id}`
        : s.node !== SEED.st || s.flow !== SEED.vars.flow || s.vars.name !== SEED.vars.name
          ? `fields ${JSON.stringify({ node: s.node, flow: s.flow, vars: s.vars })}`
          : s.retries !== SEED.vars.retry_count + HISTORY_LIMIT || s.history.length !== HISTORY_LIMIT
            ? `retries ${s.retries}, history ${s.history.length}`
            : !(s.expiresAt > Date.now())
              ? `expiresAt ${s.expiresAt}`
              : null;
    if (problem) throw new Error(`seeded session ${uid} does not load as the template: ${problem}`);
  }
  return picks.length;
}

async function chatstateTransition(ctx, uid, msgId) {
  const result = await ctx.store.transition(uid, stepHandler, { claim: msgId });
  if (result.status !== 'committed') throw new Error(`transition ${msgId} was ${result.status}`);
}

const sqliteSize = (path, n) => {
  const { fileBytes, liveBytes } = sqliteFileBytes(path);
  return { kind: 'sqlite file', bytes: fileBytes, liveBytes, perSession: liveBytes / n };
};

export const chatstateSqlite = {
  name: 'sqlite',
  label: 'chatstate sqlite:<tmp file>',
  kind: 'chatstate',
  store: 'sqlite',
  async setup({ n, tmp, sample }) {
    const path = tmp('chatstate.db');
    const url = `sqlite:${path}`;
    const template = await openStore(url, CHATSTATE_OPTIONS);
    await writeTemplate(template);
    await template.close();
    const t0 = performance.now();
    copySessionRow(path, n);
    const seedMs = performance.now() - t0;
    const size = sqliteSize(path, n);
    // Reopened after the copy: the store measured has never seen the rows being written.
    const store = await openStore(url, CHATSTATE_OPTIONS);
    const verified = await verifySessions(store, n, sample);
    return { store, seed: { ms: seedMs, method: 'INSERT … SELECT of the template row' }, size, verified };
  },
  transition: chatstateTransition,
  async teardown(ctx) {
    await ctx.store.close();
  },
};

export const floorSqliteScale = {
  name: 'floor-sqlite',
  label: 'floor: better-sqlite3, 1 tx SELECT + UPDATE blob',
  kind: 'floor',
  store: 'sqlite',
  peerOf: 'sqlite',
  async setup({ n, tmp, sample }) {
    const ctx = await floorSqlite.setup({ users: [uidAt(0)], tmp });
    try {
      const t0 = performance.now();
      copyFloorRow(ctx.db, n);
      const seedMs = performance.now() - t0;
      const select = ctx.db.prepare('SELECT length(d) AS b FROM s WHERE k = ?');
      const picks = samplePicks(n, sample);
      for (const i of picks)
        if (!select.get(uidAt(i))) throw new Error(`floor row ${uidAt(i)} missing after seeding`);
      const size = sqliteSize(tmp('floor.db'), n);
      return {
        ...ctx,
        seed: { ms: seedMs, method: 'INSERT … SELECT of one row' },
        size,
        verified: picks.length,
      };
    } catch (error) {
      ctx.db.close();
      throw error;
    }
  },
  transition: (ctx, uid) => floorSqlite.transition(ctx, uid),
  teardown: (ctx) => floorSqlite.teardown(ctx),
};

/** A fresh redis-server per row and size, so used_memory and the keyspace hold only that row's N. */
async function withRedis(fn) {
  const server = await startRedis();
  const admin = new Redis(server.url);
  try {
    const ctx = await fn(server, admin, await usedMemory(admin));
    return { ...ctx, server };
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    admin.disconnect();
  }
}

async function redisSize(admin, n, baseline, keysPerSession) {
  const dbsize = await admin.dbsize();
  if (dbsize < n * keysPerSession)
    throw new Error(`DBSIZE ${dbsize} after seeding, expected at least ${n * keysPerSession}`);
  const used = await usedMemory(admin);
  return { kind: 'redis used_memory', bytes: used, perSession: (used - baseline) / n, dbsize };
}

export const chatstateRedis = {
  name: 'redis',
  label: 'chatstate redis://',
  kind: 'chatstate',
  store: 'redis',
  unavailable: redisMissing,
  async setup({ n, sample }) {
    return withRedis(async (server, admin, baseline) => {
      const store = await openStore(server.url, CHATSTATE_OPTIONS);
      try {
        await writeTemplate(store);
        const t0 = performance.now();
        // The session hash and its history list; the template's lease and claims are not copied.
        await cloneUserKeys(admin, n, (i) => [`{cs:${uidAt(i)}}`, `{cs:${uidAt(i)}}:h`]);
        const seedMs = performance.now() - t0;
        const size = await redisSize(admin, n, baseline, 2);
        const verified = await verifySessions(store, n, sample);
        return {
          store,
          seed: { ms: seedMs, method: 'DUMP once, RESTORE … ABSTTL in pipelines' },
          size,
          verified,
        };
      } catch (error) {
        await store.close();
        throw error;
      }
    });
  },
  transition: chatstateTransition,
  async teardown(ctx) {
    await ctx.store.close();
    await ctx.server.stop();
  },
};

export const floorRedisScale = {
  name: 'floor-redis-lua',
  label: 'floor: 1 EVALSHA (HGETALL + HSET + PEXPIRE)',
  kind: 'floor',
  store: 'redis',
  peerOf: 'redis',
  unavailable: redisMissing,
  async setup({ n, sample }) {
    return withRedis(async (server, admin, baseline) => {
      const redis = new Redis(server.url);
      try {
        const sha = await redis.script('LOAD', FLOOR_SCRIPT);
        await seedFloorHash(redis, `floor:${uidAt(0)}`);
        const t0 = performance.now();
        await cloneUserKeys(admin, n, (i) => [`floor:${uidAt(i)}`]);
        const seedMs = performance.now() - t0;
        const size = await redisSize(admin, n, baseline, 1);
        const picks = samplePicks(n, sample);
        for (const i of picks)
          if ((await admin.hlen(`floor:${uidAt(i)}`)) !== 9)
            throw new Error(`floor hash floor:${uidAt(i)} is not the template after seeding`);
        return {
          redis,
          sha,
          seed: { ms: seedMs, method: 'DUMP once, RESTORE … ABSTTL in pipelines' },
          size,
          verified: picks.length,
        };
      } catch (error) {
        redis.disconnect();
        throw error;
      }
    });
  },
  transition: (ctx, uid) => floorStep(ctx.redis, ctx.sha, `floor:${uid}`),
  async teardown(ctx) {
    ctx.redis.disconnect();
    await ctx.server.stop();
  },
};

/** In table order: each chatstate row, then its floor. */
export const SCALE_SUBJECTS = [chatstateSqlite, floorSqliteScale, chatstateRedis, floorRedisScale];
