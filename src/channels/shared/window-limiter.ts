import type { Now, Sleep } from './time.js';

/**
 * At most `limit` requests in any window of `windowMs` (a sliding-window log over a ring buffer).
 *
 * Why not a plain token bucket: a bucket of capacity C refilled at r/s lets C + r messages into a
 * single second, so a full bucket of 80 plus its refill breaks an "80 messages per second" rule
 * and earns 130429 errors. The log allows a burst of `limit` and never more than `limit` per window.
 *
 * A slot is stamped when its request *finishes* (`settle`), not when it starts: the provider counts
 * arrivals, which happen somewhere in between, so stamping the start would let network jitter push
 * `limit + 1` arrivals into one provider-side window. Until settled, a slot counts as occupied.
 *
 * Requests over the limit wait (FIFO), they never fail. The fast path (allowed now, nobody queued)
 * allocates nothing and starts no timer; while throttled, one sleep per limiter drives the queue.
 */
export class WindowLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: Now;
  readonly #sleep: Sleep;
  readonly #times: Float64Array | undefined;
  #head = 0;
  #count = 0;
  #pausedUntil = 0;
  readonly #waiters: Array<(slot: number) => void> = [];
  #draining = false;
  #wake: (() => void) | undefined;

  /** `limit` of Infinity (or 0) disables counting; `pause()` still works. */
  constructor(limit: number, windowMs: number, now: Now, sleep: Sleep) {
    this.#limit =
      limit > 0 && Number.isFinite(limit) ? Math.max(1, Math.floor(limit)) : Number.POSITIVE_INFINITY;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#sleep = sleep;
    this.#times = Number.isFinite(this.#limit) ? new Float64Array(this.#limit) : undefined;
  }

  /** How many callers are waiting for a slot. */
  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * A slot number when the request may go now, otherwise a promise of one (resolved in FIFO
   * order). Pass the slot to `settle` when the request has finished, whatever its outcome.
   */
  take(): number | Promise<number> {
    if (this.#waiters.length === 0) {
      const now = this.#now();
      if (this.#nextSlotAt(now) <= now) return this.#occupy();
    }
    const waiting = new Promise<number>((resolve) => this.#waiters.push(resolve));
    if (!this.#draining) void this.#drain();
    return waiting;
  }

  /** The request in `slot` finished: its window starts now. */
  settle(slot: number): void {
    if (this.#times === undefined || slot < 0) return;
    this.#times[slot] = this.#now();
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Holds every request back until `untilMs` (the provider said "too fast" for this whole sender). */
  pause(untilMs: number): void {
    if (untilMs > this.#pausedUntil) this.#pausedUntil = untilMs;
  }

  #nextSlotAt(now: number): number {
    let at = now;
    if (this.#times !== undefined && this.#count >= this.#limit) {
      // Full ring: #head holds the oldest of the last `limit` requests (Infinity while in flight).
      at = (this.#times[this.#head] ?? 0) + this.#windowMs;
    }
    return Math.max(at, this.#pausedUntil);
  }

  #occupy(): number {
    if (this.#times === undefined) return -1;
    const slot = this.#head;
    this.#times[slot] = Number.POSITIVE_INFINITY;
    this.#head = (this.#head + 1) % this.#limit;
    if (this.#count < this.#limit) this.#count++;
    return slot;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#waiters.length > 0) {
        const now = this.#now();
        const at = this.#nextSlotAt(now);
        if (at === Number.POSITIVE_INFINITY) {
          // The oldest slot is still in flight: wait for its settle().
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
        } else if (at > now) {
          await this.#sleep(at - now);
        } else {
          this.#waiters.shift()?.(this.#occupy());
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
