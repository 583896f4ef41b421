// Seeds N sessions on a redis-server fast: the keys of one session written through the real store are
// DUMPed once and RESTOREd under N-1 more users' keys (same absolute expiry), in pipelines of
// `batch` users. RESTORE keeps the serialized encoding (listpack hash, quicklist history), so every
// copy is byte for byte what the driver wrote, and used_memory grows as with real writes.

/** Redis `INFO memory` used_memory, in bytes. */
export async function usedMemory(redis) {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
}

/**
 * `keysOf(i)` names the keys of the i-th user (the same number and order for every i); the keys of
 * user 0 must exist. Copies them to users 1 … n-1.
 */
export async function cloneUserKeys(redis, n, keysOf, { batch = 1000 } = {}) {
  const templates = [];
  for (const key of keysOf(0)) {
    const payload = await redis.dumpBuffer(key);
    if (!payload)
      throw new Error(
        `${key} does not exist after the template write; the driver's key layout changed, update bench/scale/subjects.mjs`,
      );
    // PEXPIRETIME (Redis 7): -1 for a key without expiry.
    templates.push({ payload, at: Number(await redis.call('PEXPIRETIME', key)) });
  }
  // Two pipelines in flight keep the server busy while the client builds the next one.
  let previous = Promise.resolve();
  for (let first = 1; first < n; first += batch) {
    const pipeline = redis.pipeline();
    for (let i = first; i < Math.min(n, first + batch); i++) {
      keysOf(i).forEach((key, k) => {
        const { payload, at } = templates[k];
        if (at > 0) pipeline.restore(key, at, payload, 'ABSTTL');
        else pipeline.restore(key, 0, payload);
      });
    }
    const current = pipeline.exec().then((replies) => {
      const failed = replies.find(([error]) => error);
      if (failed) throw failed[0];
    });
    // Handled here so a failure is not reported as unhandled before it is awaited below.
    current.catch(() => {});
    await previous;
    previous = current;
  }
  await previous;
}
