import type { OutboxDriver, OutboxEntry, OutboxUpdate } from './contract.js';

export type OutboxRecord = Omit<OutboxEntry, 'user'> & { userId: string };

/** The driver's outbox seen through the store's key prefix. */
export class StoreOutbox {
  readonly #driver: OutboxDriver;
  readonly #prefix: string;
  readonly #clock: () => number;

  constructor(driver: OutboxDriver, prefix: string, clock: () => number) {
    this.#driver = driver;
    this.#prefix = prefix;
    this.#clock = clock;
  }

  #record = (entry: OutboxEntry): OutboxRecord => {
    const { user, ...rest } = entry;
    return { ...rest, userId: user.slice(this.#prefix.length) };
  };

  /** Pending replies older than `olderThanMs` (left by a crash between commit and delivery). */
  async pending(olderThanMs: number, limit = 100): Promise<OutboxRecord[]> {
    const entries = await this.#driver.pending(this.#clock() - olderThanMs, limit);
    return entries.filter((e) => e.user.startsWith(this.#prefix)).map(this.#record);
  }

  update(id: string, change: OutboxUpdate): Promise<void> {
    return this.#driver.update(id, change, this.#clock());
  }

  async byProviderId(providerId: string): Promise<OutboxRecord | null> {
    const entry = await this.#driver.byProviderId(providerId);
    return entry?.user.startsWith(this.#prefix) ? this.#record(entry) : null;
  }

  async forUser(userId: string, limit = 20): Promise<OutboxRecord[]> {
    return (await this.#driver.forUser(this.#prefix + userId, limit)).map(this.#record);
  }
}
