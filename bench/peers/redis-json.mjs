// Baseline (article pattern b): the session as one JSON string, with ioredis:
// GET -> JSON.parse -> modify (st, ts, retry_count + 1, history push trimmed to 5) -> SET … EX 86400.
// Two round trips; the bare GET + SET read-modify-write with ioredis (no keyv in between).
import { ioredisSubject, seedJsonFor } from '../lib/redis-peers.mjs';
import { stepPlain } from '../lib/workload.mjs';

export default ioredisSubject({
  name: 'redis-json',
  label: 'article (b): ioredis GET + SET EX, JSON string',
  prefix: 'json:',
  seed: (ctx, key, uid) => ctx.redis.set(key, seedJsonFor(uid), 'EX', 86_400),
  async step(ctx, key) {
    const raw = await ctx.redis.get(key);
    if (raw === null) throw new Error(`redis-json: ${key} missing`);
    await ctx.redis.set(key, JSON.stringify(stepPlain(JSON.parse(raw), Date.now())), 'EX', 86_400);
  },
});
