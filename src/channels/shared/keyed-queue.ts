interface Entry<S> {
  tail: Promise<unknown> | undefined;
  pending: number;
  state: S;
}

/**
 * Runs tasks with the same key one after another, in call order; different keys run concurrently.
 * Used per (sender, recipient) so replies to one user arrive in the order the bot produced them,
 * and a pair backoff holds back that user's later replies instead of letting them overtake.
 *
 * Entries are dropped when idle unless `keep(state)` says the state still matters (a pair that must
 * stay spaced); those are swept once the map has grown, so memory stays bounded by active users.
 */
export class KeyedQueue<S> {
  readonly #entries = new Map<string, Entry<S>>();
  readonly #init: () => S;
  readonly #keep: (state: S) => boolean;
  #sweepAt = 1024;

  constructor(init: () => S, keep: (state: S) => boolean = () => false) {
    this.#init = init;
    this.#keep = keep;
  }

  get size(): number {
    return this.#entries.size;
  }

  run<T>(key: string, task: (state: S) => Promise<T>): Promise<T> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#sweepAt) this.#sweep();
      entry = { tail: undefined, pending: 0, state: this.#init() };
      this.#entries.set(key, entry);
    }
    const current = entry;
    current.pending++;
    // Fast path: nothing queued for this key, start now (no extra promise hop).
    const result =
      current.tail === undefined ? task(current.state) : current.tail.then(() => task(current.state));
    const release = (): void => {
      current.pending--;
      if (current.pending === 0) {
        current.tail = undefined;
        if (!this.#keep(current.state) && this.#entries.get(key) === current) this.#entries.delete(key);
      }
    };
    current.tail = result.then(release, release);
    return result;
  }

  #sweep(): void {
    for (const [key, entry] of this.#entries) {
      if (entry.pending === 0 && !this.#keep(entry.state)) this.#entries.delete(key);
    }
    this.#sweepAt = Math.max(1024, this.#entries.size * 2);
  }
}
