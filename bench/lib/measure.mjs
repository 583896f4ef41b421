// The two measured scenarios. Each call is timed on its own with performance.now(); message ids
// are made before the clock starts. A round stops at its iteration count or its time budget,
// whichever comes first (the slow peers hit the budget, chatstate hits the count).
import { summariseRound } from './stats.mjs';
import { nextMessageId } from './workload.mjs';

/** Untimed transitions so JIT, statement caches and pages are warm before a timed round. */
export async function warmUp(subject, ctx, users, { count, budgetMs }) {
  const deadline = performance.now() + budgetMs;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const userId = users[i % users.length];
    await subject.transition(ctx, userId, nextMessageId(userId));
  }
}

/** One user at a time: transitions back to back over many distinct users. */
export async function sequential(subject, ctx, users, { iterations, budgetMs, offset = 0 }) {
  const latencies = new Float64Array(iterations);
  const started = performance.now();
  const deadline = started + budgetMs;
  let n = 0;
  while (n < iterations) {
    const userId = users[(offset + n) % users.length];
    const msgId = nextMessageId(userId);
    const t0 = performance.now();
    await subject.transition(ctx, userId, msgId);
    latencies[n++] = (performance.now() - t0) * 1000;
    if ((n & 15) === 0 && performance.now() > deadline) break;
  }
  return summariseRound(latencies.subarray(0, n), performance.now() - started);
}

/**
 * `concurrency` transitions in flight at all times, each on a distinct user: worker w only ever
 * touches users w, w + c, w + 2c, ... so no two in-flight transitions share a user. Latency is per
 * call (it includes waiting behind the others); throughput is completed calls / wall time.
 */
export async function concurrent(subject, ctx, users, { iterations, budgetMs, concurrency }) {
  if (users.length < concurrency) throw new Error(`need at least ${concurrency} users, have ${users.length}`);
  const perWorker = Math.floor(users.length / concurrency);
  const latencies = new Float64Array(iterations);
  let issued = 0;
  let n = 0;
  const started = performance.now();
  const deadline = started + budgetMs;
  const worker = async (w) => {
    for (let k = 0; issued < iterations && performance.now() < deadline; k++) {
      issued++;
      const userId = users[w + concurrency * (k % perWorker)];
      const msgId = nextMessageId(userId);
      const t0 = performance.now();
      await subject.transition(ctx, userId, msgId);
      latencies[n++] = (performance.now() - t0) * 1000;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return summariseRound(latencies.subarray(0, n), performance.now() - started);
}

/** `n` transitions one at a time, untimed (the round-trip counts run these). */
export async function untimed(subject, ctx, users, n, offset = 0) {
  for (let i = 0; i < n; i++) {
    const userId = users[(offset + i) % users.length];
    await subject.transition(ctx, userId, nextMessageId(userId));
  }
}
