/**
 * Runs tasks one at a time per key, in arrival order, with different keys in parallel. The map
 * entry is removed when a key goes idle so memory follows the number of busy users, not all users.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const result = previous ? previous.then(task, task) : task();
    const tail = result.then(noop, noop);
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  get size(): number {
    return this.#tails.size;
  }

  /** Resolves when every task queued so far has settled. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}

function noop(): void {}
