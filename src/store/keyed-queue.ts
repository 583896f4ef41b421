/**
 * Runs tasks one at a time per key, in arrival order, with different keys in parallel. The map
 * entry is removed when a key goes idle so memory follows the number of busy users, not all users.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    // The next task starts once this one settles either way (`then(task, task)`), so the tail is
    // the task's own promise: one reaction per task to forget the key when it goes idle.
    const result = previous ? previous.then(task, task) : task();
    this.#tails.set(key, result);
    const idle = () => {
      if (this.#tails.get(key) === result) this.#tails.delete(key);
    };
    result.then(idle, idle);
    return result;
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
      // Called before run returned: the task ended synchronously, so it is never listed.
      if (result === undefined) ended = true;
      else if (this.#tails.get(key) === result) this.#tails.delete(key);
    };
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
