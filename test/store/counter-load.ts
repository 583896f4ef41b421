// The load the cluster tests that move a user's slot (migration, failover) keep running while they move
// it: writers incrementing one counter, each message retried with its own claim until it is applied once.
// A test then checks that the counter equals the number of messages applied, i.e. that no update was lost.
import type { SessionStore } from '../../src/store/session-store.js';

type TransitionResult = Awaited<ReturnType<SessionStore['transition']>>;

export interface CounterLoadOptions {
  /** Session key whose `retries` counter every message increments. */
  key: string;
  /** Claims are `${claimPrefix}${n}`, n counting up across all writers. */
  claimPrefix: string;
  /** Attempts per message before a writer moves on to the next one. */
  attempts: number;
  /** Pause after a failed attempt (default: retry at once). */
  retryDelayMs?: number;
  /** Called on every attempt that returned, before the writer moves on to its next message. */
  onApplied?: (result: TransitionResult, attempt: number) => void;
  /** Called with the code of every failed attempt, after it is recorded in `failures`. */
  onFailure: (code: string) => void;
}

export interface CounterLoad {
  /** Claims applied: committed, or reported duplicate because a failed attempt had in fact been committed. */
  readonly applied: Set<string>;
  /** The code (or text) of every failed attempt. */
  readonly failures: string[];
  /** Stops the writers after their current message and waits for them. */
  stop(): Promise<void>;
}

/** Starts two writers per store at once; they run until stop(). */
export function startCounterLoad(stores: SessionStore[], options: CounterLoadOptions): CounterLoad {
  let stop = false;
  let next = 0;
  const applied = new Set<string>();
  const failures: string[] = [];
  const worker = async (store: SessionStore) => {
    while (!stop) {
      const claim = `${options.claimPrefix}${next++}`;
      for (let attempt = 0; attempt < options.attempts; attempt++) {
        try {
          const result = await store.transition(options.key, (s) => void s.incr('retries'), { claim });
          applied.add(claim);
          options.onApplied?.(result, attempt);
          break;
        } catch (error) {
          const code = (error as { code?: string }).code ?? String(error);
          failures.push(code);
          options.onFailure(code);
          if (options.retryDelayMs !== undefined)
            await new Promise((r) => setTimeout(r, options.retryDelayMs));
        }
      }
    }
  };
  const workers = stores.flatMap((s) => [worker(s), worker(s)]);
  return {
    applied,
    failures,
    async stop() {
      stop = true;
      await Promise.all(workers);
    },
  };
}
