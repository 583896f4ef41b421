// One timed round of the scale benchmark: transitions one at a time over users drawn uniformly from
// all N stored sessions (bench/scale/users.mjs). Each call is timed on its own; ids are made before
// the clock starts. A round stops at `iterations` transitions or `budgetMs`, whichever comes first.
import { median, p99 } from '../lib/stats.mjs';
import { nextMessageId } from '../lib/workload.mjs';

export async function timedRound(subject, ctx, users, { iterations, budgetMs }) {
  const count = Math.min(iterations, users.length);
  const latencies = new Float64Array(count);
  const started = performance.now();
  const deadline = started + budgetMs;
  let n = 0;
  while (n < count) {
    const uid = users[n];
    const msgId = nextMessageId(uid);
    const t0 = performance.now();
    await subject.transition(ctx, uid, msgId);
    latencies[n++] = (performance.now() - t0) * 1000;
    if ((n & 15) === 0 && performance.now() > deadline) break;
  }
  const wallMs = performance.now() - started;
  const sample = latencies.subarray(0, n);
  return {
    n,
    medianUs: median(sample),
    p99Us: p99(sample),
    meanUs: sample.reduce((a, b) => a + b, 0) / n,
    opsPerSec: (n * 1000) / wallMs,
  };
}

/** Untimed transitions over other random users, so JIT and caches are warm before a timed round. */
export async function warmRound(subject, ctx, users) {
  for (const uid of users) await subject.transition(ctx, uid, nextMessageId(uid));
}

/** The median of each round figure: one disturbed round on the shared machine does not move it. */
export function combine(rounds) {
  const m = (key) => median(rounds.map((r) => r[key]));
  return {
    rounds: rounds.length,
    n: rounds.reduce((sum, r) => sum + r.n, 0),
    medianUs: m('medianUs'),
    p99Us: m('p99Us'),
    meanUs: m('meanUs'),
    opsPerSec: m('opsPerSec'),
    p99PerRound: rounds.map((r) => r.p99Us),
  };
}
