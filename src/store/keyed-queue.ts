/**
 * Runs tasks one at a time per key, in arrival order, with different keys in parallel. The map
 * entry is removed when a key goes idle so memory follows the number of busy users, not all users.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after the key's earlier tasks; the key is forgotten once its promise settles. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.runReporting(key, (done) => {
      const result = task();
      result.then(done, done);
      return result;
    });
  }

  /**
   * `run` for a task that reports its own end: it calls `done()` as its very last step, also when
   * it fails. The key is then forgotten without a reaction on the task's promise, which saves a
   * promise and a microtask turn per task (SessionStore.transition, on every message).
   */
  runReporting<T>(key: string, task: (done: () => void) => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    let result: Promise<T> | undefined;
    let ended = false;
    const done = () => {
      // Called before runReporting returned: the task ended synchronously, so it is never listed.
      if (result === undefined) ended = true;
      else if (this.#tails.get(key) === result) this.#tails.delete(key);
    };
    // The next task starts once this one settles either way, so the tail is the task's own promise.
    const start = () => task(done);
    result = previous ? previous.then(start, start) : start();
    if (!ended) this.#tails.set(key, result);
    return result;
  }

  get size(): number {
    return this.#tails.size;
  }

  /** Resolves when every task queued so far has settled. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.allSettled(this.#tails.values());
  }
}
