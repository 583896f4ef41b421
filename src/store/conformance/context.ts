import type { Driver } from '../contract.js';
import type { StoreOptions } from '../options.js';
import { SessionStore } from '../session-store.js';
import type { ConformanceTarget } from './types.js';

/** What each case gets: a fresh driver, a store over it, and a way to open more views of it. */
export class CaseContext {
  readonly target: ConformanceTarget;
  readonly driver: Driver;
  readonly store: SessionStore;
  readonly #extra: Array<{ store: SessionStore; driver: Driver; ownsDriver: boolean }> = [];

  constructor(target: ConformanceTarget, driver: Driver) {
    this.target = target;
    this.driver = driver;
    this.store = new SessionStore(driver, { sweepIntervalMs: 0, ...target.storeOptions });
  }

  /** A TTL long enough for the driver's resolution, short enough to wait out in a test. */
  get shortTtlMs(): number {
    return Math.max(150, this.driver.capabilities.ttlResolutionMs * 2);
  }

  /** Another store on the same data, as a second process would see it. */
  async peer(options: StoreOptions = {}): Promise<SessionStore> {
    const driver = this.target.openPeer ? await this.target.openPeer(this.driver) : this.driver;
    const store = new SessionStore(driver, { sweepIntervalMs: 0, ...this.target.storeOptions, ...options });
    this.#extra.push({ store, driver, ownsDriver: driver !== this.driver });
    return store;
  }

  key(id: string): string {
    return this.store.options.prefix + id;
  }

  async close(): Promise<void> {
    for (const extra of this.#extra) if (extra.ownsDriver) await extra.store.close();
    await this.store.close();
  }
}
