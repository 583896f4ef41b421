/**
 * Keeps the leases a store holds extended while their work runs. One timer serves every lease
 * held at the time, instead of a timer started and cleared around each transition: at thousands
 * of transitions a second those two timer calls were a measurable share of the store's own CPU
 * (docs/redis.md, "Transition cost"). The timer ticks every half period and stops itself when
 * no lease is held, so an idle store keeps no timer.
 */
export class LeaseKeeper {
  readonly #held = new Set<Holding>();
  readonly #everyMs: number;
  readonly #extend: (key: string, token: number) => void;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `extend` is called for each lease held for `everyMs` since it was taken or last extended. */
  constructor(everyMs: number, extend: (key: string, token: number) => void) {
    this.#everyMs = everyMs;
    this.#extend = extend;
  }

  /** Starts keeping a lease; `stop()` ends it (idempotent). */
  hold(key: string, token: number): { stop(): void } {
    const held = this.#held;
    const holding: Holding = { key, token, since: performance.now(), stop: () => held.delete(holding) };
    held.add(holding);
    if (this.#timer === undefined) {
      // Half the period: a lease is extended between one and one and a half periods after it was
      // last extended, well within its TTL (the period is a third of it).
      this.#timer = setInterval(() => this.#tick(), Math.max(5, Math.floor(this.#everyMs / 2)));
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return holding;
  }

  close(): void {
    this.#held.clear();
    this.#stopTimer();
  }

  #tick(): void {
    if (this.#held.size === 0) {
      this.#stopTimer();
      return;
    }
    const now = performance.now();
    for (const holding of this.#held) {
      if (now - holding.since < this.#everyMs) continue;
      holding.since = now;
      this.#extend(holding.key, holding.token);
    }
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

interface Holding {
  readonly key: string;
  readonly token: number;
  since: number;
  stop(): void;
}
