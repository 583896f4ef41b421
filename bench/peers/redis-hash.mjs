// Baseline (article pattern a): the session as a hash of its fields, with ioredis:
// HGETALL -> modify -> HSET of the changed fields (st, ts, retry_count, history as JSON) -> EXPIRE
// 86400, three separate calls (three round trips, nothing atomic). Seed fields: uid, st, ts, name,
// flow, retry_count, v (the seed flattened, as the articles do).
import { ioredisSubject } from '../lib/redis-peers.mjs';
import { HISTORY_LIMIT, SEED } from '../lib/workload.mjs';

const seedFields = (uid) => ({
  uid,
  st: SEED.st,
  ts: String(SEED.ts),
  name: SEED.vars.name,
  flow: SEED.vars.flow,
  retry_count: String(SEED.vars.retry_count),
  v: String(SEED.v),
});

export default ioredisSubject({
  name: 'redis-hash',
  label: 'article (a): ioredis HGETALL, HSET fields, EXPIRE',
  prefix: 'hash:',
  async seed(ctx, key, uid) {
    await ctx.redis.hset(key, seedFields(uid));
    await ctx.redis.expire(key, 86_400);
  },
  async step(ctx, key) {
    const s = await ctx.redis.hgetall(key);
    if (!s.uid) throw new Error(`redis-hash: ${key} missing`);
    const now = Date.now();
    const history = [...JSON.parse(s.history ?? '[]'), { dir: 'in', text: 'hello', at: now }].slice(
      -HISTORY_LIMIT,
    );
    await ctx.redis.hset(key, {
      st: 'awaiting_email',
      ts: String(Math.floor(now / 1000)),
      retry_count: String(Number(s.retry_count) + 1),
      history: JSON.stringify(history),
    });
    await ctx.redis.expire(key, 86_400);
  },
});
