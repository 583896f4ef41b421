import type { InboxDriver } from './contract.js';

export interface InboxMessage {
  /** Provider message id (the dedupe key). */
  id: string;
  userId: string;
  /** Provider timestamp, ms. */
  at: number;
  payload: string;
}

/** The driver's inbox seen through the store's key prefix (user ids in, user ids out). */
export class StoreInbox {
  readonly #driver: InboxDriver;
  readonly #prefix: string;
  readonly #clock: () => number;

  constructor(driver: InboxDriver, prefix: string, clock: () => number) {
    this.#driver = driver;
    this.#prefix = prefix;
    this.#clock = clock;
  }

  /** A transition's commit removes the message it names in `consume` (one write less per message). */
  get removesOnCommit(): boolean {
    return this.#driver.removesOnCommit === true;
  }

  add(messages: InboxMessage[]): Promise<number> {
    const p = this.#prefix;
    return this.#driver.add(
      messages.map((m) => ({ id: m.id, user: p + m.userId, at: m.at, payload: m.payload })),
      this.#clock(),
    );
  }

  /**
   * For a process that records and never drains: the driver's `append` where it has one (SQLite:
   * no index write per message), else `add`. Entries become visible to `peek` once a `users()`
   * call, in any process, picked them up (a worker's poll does).
   */
  append(messages: InboxMessage[]): Promise<number> {
    const p = this.#prefix;
    const entries = messages.map((m) => ({ id: m.id, user: p + m.userId, at: m.at, payload: m.payload }));
    const now = this.#clock();
    return this.#driver.append ? this.#driver.append(entries, now) : this.#driver.add(entries, now);
  }

  async peek(userId: string, limit: number): Promise<InboxMessage[]> {
    const entries = await this.#driver.peek(this.#prefix + userId, limit);
    return entries.map((e) => ({ id: e.id, userId, at: e.at, payload: e.payload }));
  }

  remove(userId: string, ids: string[]): Promise<void> {
    return this.#driver.remove(this.#prefix + userId, ids);
  }

  /** Users with messages recorded more than `olderThanMs` ago (left by a crash or a failed run). */
  async users(olderThanMs: number, limit = 1000): Promise<string[]> {
    const keys = await this.#driver.users(this.#clock() - olderThanMs, limit);
    const cut = this.#prefix.length;
    return keys.filter((k) => k.startsWith(this.#prefix)).map((k) => k.slice(cut));
  }
}
