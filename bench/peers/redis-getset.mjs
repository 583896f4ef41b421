// Peer: the bare GET + SET read-modify-write with ioredis and nothing else: GET a 167-byte blob (the
// size chatstate's msgpack body reaches with a full history), flip a byte, SET … PX 24 h. No JSON,
// no claim, no lease: the least two round trips cost from Node, beside chatstate's two EVALSHA.
import { ioredisSubject } from '../lib/redis-peers.mjs';
import { SESSION_TTL_MS } from '../lib/workload.mjs';

const BLOB_BYTES = 167;

export default ioredisSubject({
  name: 'redis-getset',
  label: 'ioredis bare GET + SET PX (167-byte blob)',
  prefix: 'bare:',
  bytes: false,
  seed: (ctx, key) => ctx.redis.set(key, Buffer.alloc(BLOB_BYTES, 7), 'PX', SESSION_TTL_MS),
  async step(ctx, key) {
    const blob = await ctx.redis.getBuffer(key);
    if (blob === null) throw new Error(`redis-getset: ${key} missing`);
    blob[0] ^= 1;
    await ctx.redis.set(key, blob, 'PX', SESSION_TTL_MS);
  },
});
