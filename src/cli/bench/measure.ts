// The two timed phases, defined as the suite's (bench/lib/measure.mjs): each call timed on its own
// with performance.now(), message ids made before the clock starts, a phase stopping at its
// transition cap or its time budget, whichever comes first. Ctrl-C (the signal) stops it early.
import { type PhaseResult, summarise } from './stats.js';

/** One measured transition of `userId` claiming `messageId`. */
export type Step = (userId: string, messageId: string) => Promise<void>;

export interface PhaseLimits {
  /** Most transitions (Infinity: no cap). */
  limit: number;
  budgetMs: number;
  signal: AbortSignal;
  /** Called after each transition with the count so far (the progress bar throttles itself). */
  onProgress?: (done: number) => void;
}

export interface Workload {
  step: Step;
  users: readonly string[];
  nextMessageId: (userId: string) => string;
}

/** One user at a time: transitions back to back over many distinct users. */
export async function sequential(w: Workload, limits: PhaseLimits, offset = 0): Promise<PhaseResult> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + limits.budgetMs;
  while (latencies.length < limits.limit && !limits.signal.aborted) {
    const userId = w.users[(offset + latencies.length) % w.users.length] as string;
    const messageId = w.nextMessageId(userId);
    const t0 = performance.now();
    await w.step(userId, messageId);
    latencies.push((performance.now() - t0) * 1000);
    limits.onProgress?.(latencies.length);
    if ((latencies.length & 15) === 0 && performance.now() > deadline) break;
  }
  return summarise(latencies, performance.now() - started);
}

/**
 * `concurrency` transitions in flight at all times, each on a distinct user: worker w only touches
 * users w, w + c, w + 2c, ... so no two in-flight transitions share a user. Latency is per call
 * (it includes waiting behind the others); throughput is completed calls / wall time.
 */
export async function concurrent(
  w: Workload,
  limits: PhaseLimits,
  concurrency: number,
): Promise<PhaseResult> {
  const perWorker = Math.floor(w.users.length / concurrency);
  const latencies: number[] = [];
  let issued = 0;
  const started = performance.now();
  const deadline = started + limits.budgetMs;
  const worker = async (index: number) => {
    for (let k = 0; issued < limits.limit && performance.now() < deadline && !limits.signal.aborted; k++) {
      issued++;
      const userId = w.users[index + concurrency * (k % perWorker)] as string;
      const messageId = w.nextMessageId(userId);
      const t0 = performance.now();
      await w.step(userId, messageId);
      latencies.push((performance.now() - t0) * 1000);
      limits.onProgress?.(latencies.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  return summarise(latencies, performance.now() - started);
}

/** `n` transitions one at a time, untimed: warm-up, and the round-trip counts. */
export async function untimed(w: Workload, n: number, signal: AbortSignal, offset = 0): Promise<void> {
  for (let i = 0; i < n && !signal.aborted; i++) {
    const userId = w.users[(offset + i) % w.users.length] as string;
    await w.step(userId, w.nextMessageId(userId));
  }
}
