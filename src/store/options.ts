import type { CodecName } from '../session/codec.js';
import type { Migrations } from '../session/migrations.js';

/** Hooks for metrics; called only when set, so an unobserved store pays nothing for them. */
export interface StoreObserver {
  /** One driver call finished (`op` is the driver method). */
  operation?(op: string, driver: string, durationMs: number, ok: boolean): void;
  /** A stored session could not be decoded and was quarantined. */
  corrupt?(driver: string, reason: string): void;
  /** A transition ended: committed, unchanged, duplicate, or failed. */
  transition?(outcome: 'committed' | 'unchanged' | 'duplicate' | 'failed', durationMs: number): void;
  /** A transition waited for another worker's lease. */
  leaseWait?(durationMs: number): void;
  /** A commit lost the version check and the handler ran again. */
  conflict?(): void;
}

export interface StoreOptions {
  /** Prepended to every session, claim and lease key. Default: the driver's own default (`''` for SQLite). */
  prefix?: string;
  /** Body codec for blob stores and history entries. Default `msgpack` (smaller and faster than `json`). */
  codec?: CodecName;
  /** Deflate bodies whose encoding is larger than this many bytes. Default 1024. */
  compressAbove?: number;
  /** Largest encoded session a commit may store, in bytes. Default 16384 (16 KiB). */
  maxBytes?: number;
  /** Messages of recent context kept per session. Default 5. */
  historyLimit?: number;
  /** Session time to live, renewed by every write. Default 24 h; null: never expires. */
  ttlMs?: number | null;
  /** Per-user lease length; renewed while a handler runs. Default 30 s. */
  leaseTtlMs?: number;
  /** How long a transition waits for another worker's lease before LEASE_BUSY. Default 30 s. */
  leaseWaitMs?: number;
  /** Claim window for transition idempotency keys. Default 7 days (Meta's redelivery window). */
  claimTtlMs?: number;
  /** Handler runs per transition when commits conflict. Default 8. */
  maxAttempts?: number;
  /** Current schema version of vars. Default 1. */
  schemaVersion?: number;
  /** Upgrades from schema version N (key) to N + 1. */
  migrations?: Migrations;
  /** How often to sweep expired rows on stores without native TTL. Default 60 s; 0 disables. */
  sweepIntervalMs?: number;
  /** Time source (ms since epoch). Default Date.now. */
  clock?: () => number;
  observer?: StoreObserver;
}

export type ResolvedStoreOptions = Required<Omit<StoreOptions, 'observer' | 'prefix'>> & {
  prefix: string;
  observer: StoreObserver | undefined;
};

const DAY = 86_400_000;

export function resolveOptions(options: StoreOptions, driverPrefix: string): ResolvedStoreOptions {
  return {
    prefix: options.prefix ?? driverPrefix,
    codec: options.codec ?? 'msgpack',
    compressAbove: options.compressAbove ?? 1024,
    maxBytes: options.maxBytes ?? 16_384,
    historyLimit: options.historyLimit ?? 5,
    ttlMs: options.ttlMs === undefined ? DAY : options.ttlMs,
    leaseTtlMs: options.leaseTtlMs ?? 30_000,
    leaseWaitMs: options.leaseWaitMs ?? 30_000,
    claimTtlMs: options.claimTtlMs ?? 7 * DAY,
    maxAttempts: options.maxAttempts ?? 8,
    schemaVersion: options.schemaVersion ?? 1,
    migrations: options.migrations ?? {},
    sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
    clock: options.clock ?? Date.now,
    observer: options.observer,
  };
}
