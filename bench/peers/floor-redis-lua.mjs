// Floor: the least one Redis round trip costs. One EVALSHA of a script that runs HGETALL, HSET and
// PEXPIRE on a hash holding chatstate's fields for the seed session (v, e, c, u, s, r, n, f, x:name),
// and returns the fields it read. No claim, no lease, no history, no chatstate JavaScript.
// chatstate redis minus this row = the second round trip + claim + lease + history + the JS layer.
// The seed and the step are exported for bench/run-scale.mjs, which runs the same floor at 10k–1M keys.
import { ioredisSubject } from '../lib/redis-peers.mjs';
import { SEED, SESSION_TTL_MS } from '../lib/workload.mjs';

export const FLOOR_SCRIPT = `local h = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], 'n', ARGV[1], 'u', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return h`;

/** Stores the floor's hash for one user under `key` (an ioredis client). */
export async function seedFloorHash(redis, key) {
  const now = String(Date.now());
  await redis.hset(key, {
    v: '1',
    e: String(Date.now() + SESSION_TTL_MS),
    c: now,
    u: now,
    s: String(SEED.v),
    r: String(SEED.vars.retry_count),
    n: SEED.st,
    f: SEED.vars.flow,
    'x:name': JSON.stringify(SEED.vars.name),
  });
  await redis.pexpire(key, SESSION_TTL_MS);
}

/** One floor transition: the single EVALSHA (`sha` of FLOOR_SCRIPT, loaded on this server). */
export async function floorStep(redis, sha, key) {
  const fields = await redis.evalsha(sha, 1, key, SEED.st, String(Date.now()), String(SESSION_TTL_MS));
  if (fields.length === 0) throw new Error(`floor-redis-lua: ${key} missing`);
}

export default ioredisSubject({
  name: 'floor-redis-lua',
  label: 'floor: 1 EVALSHA (HGETALL + HSET + PEXPIRE)',
  kind: 'floor',
  prefix: 'floor:',
  bytes: false,
  prepare: async (redis) => ({ sha: await redis.script('LOAD', FLOOR_SCRIPT) }),
  seed: (ctx, key) => seedFloorHash(ctx.redis, key),
  step: (ctx, key) => floorStep(ctx.redis, ctx.sha, key),
});
