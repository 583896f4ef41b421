import type { Driver } from '../contract.js';
import type { StoreOptions } from '../options.js';

/** The parts of a test framework the suite needs (Vitest, Jest and node:test all fit). */
export interface SuiteApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  beforeEach(fn: () => Promise<void> | void): void;
  afterEach(fn: () => Promise<void> | void): void;
}

/** How the suite reaches one driver. Every case opens a fresh, empty driver and closes it after. */
export interface ConformanceTarget {
  name: string;
  /** Opens a driver on an empty store (flush the server or use a fresh file/prefix). */
  open(): Promise<Driver>;
  /**
   * Opens a second driver on the same data (another process's view). Default: reuse the first
   * driver, which is what an in-process store (memory) can offer.
   */
  openPeer?(first: Driver): Promise<Driver>;
  /** Stores bytes that are not a chatstate session under the session key `key` (full, prefixed). */
  corrupt(driver: Driver, key: string): Promise<void>;
  /** Raw bytes quarantined for `key`, oldest first. */
  quarantined(driver: Driver, key: string): Promise<Uint8Array[]>;
  /** Options every store in the suite gets (for example a unique prefix). */
  storeOptions?: StoreOptions;
}
