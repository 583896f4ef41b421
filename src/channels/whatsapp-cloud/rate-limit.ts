import { KeyedQueue } from '../shared/keyed-queue.js';
import type { Now, Sleep } from '../shared/time.js';
import { WindowLimiter } from '../shared/window-limiter.js';

/** What the client remembers about one (business number, user) pair between sends. */
export interface PairState {
  /** Earliest time the next message to this user may go (pair interval or 131056 backoff). */
  notBefore: number;
  /** Consecutive 131056 answers: the X in Meta's documented 4^X backoff. Reset by a success. */
  strikes: number;
}

/**
 * Per-pair FIFO queues. An idle pair is forgotten at once unless it must still be spaced
 * (`notBefore` in the future), which keeps memory proportional to recently active users.
 */
export function createPairQueues(now: Now): KeyedQueue<PairState> {
  return new KeyedQueue<PairState>(
    () => ({ notBefore: 0, strikes: 0 }),
    (state) => state.notBefore > now(),
  );
}

/** Meta: after 131056 retry after 4^X seconds, X starting at 0 and growing with each failure. */
export function pairBackoffMs(strikes: number, unitMs: number): number {
  return unitMs * 4 ** strikes;
}

/** The pair key ignores a leading `+` so "+1650…" and "1650…" share one queue. */
export function pairKey(from: string, to: string): string {
  return `${from}:${to.charCodeAt(0) === 43 ? to.slice(1) : to}`;
}

/** One per-second limiter per business phone number, created on first use. */
export class SenderLimiters {
  readonly #limiters = new Map<string, WindowLimiter>();
  readonly #rate: number;
  readonly #now: Now;
  readonly #sleep: Sleep;

  /** `rate` false/0 disables counting (130429 pauses still apply). */
  constructor(rate: number | false, now: Now, sleep: Sleep) {
    this.#rate = rate === false ? 0 : rate;
    this.#now = now;
    this.#sleep = sleep;
  }

  get(phoneNumberId: string): WindowLimiter {
    let limiter = this.#limiters.get(phoneNumberId);
    if (limiter === undefined) {
      limiter = new WindowLimiter(this.#rate, 1000, this.#now, this.#sleep);
      this.#limiters.set(phoneNumberId, limiter);
    }
    return limiter;
  }
}
