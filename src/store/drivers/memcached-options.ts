import type { MemcacheClient } from 'memcache-client';
import type { Driver, DriverCapabilities } from '../contract.js';
import { type QuarantineRecord, SESSION_HEADER_BYTES } from './memcached-codec.js';

export interface MemcachedDriverOptions {
  /** Servers as `host:port`; keys are spread over them by consistent hashing (memcached-ring.ts). */
  servers: string[];
  /** Command and connect timeout per server, in ms: a silent server fails with STORE_TIMEOUT after it. Default 1000. */
  timeoutMs?: number;
  /**
   * How long memcached keeps a session after its `expiresAt`, so the next message still sees the
   * expired session (welcome-back flows), like SQLite does until its next sweep. Default 60,000.
   */
  expiredGraceMs?: number;
  /** How long quarantined (undecodable) bytes are kept. Default 30 days. */
  quarantineTtlMs?: number;
  /** Largest item the servers accept (memcached `-I`). Default 1 MiB. */
  itemSizeMax?: number;
  /** Extra CAS attempts when the CAS value changed but the session version did not. Default 3. */
  casRetries?: number;
  /** How long a finished reply (outbox entry) and its provider id item are kept. Default 7 days. */
  outboxRetentionMs?: number;
  /**
   * Outbox index lines younger than this are kept even when their user has nothing pending (a
   * commit appends its line just before its CAS lands). Default 60,000 ms.
   */
  outboxIndexGraceMs?: number;
  /**
   * Builds the client of one server (to inject your own). It must keep one connection per server:
   * the driver relies on commands issued together being answered in order on one socket.
   */
  createClient?: (server: string) => MemcacheClient;
}

/** Counters for tests and metrics: `roundTrips` counts waits (commands sent together count once). */
export interface MemcachedMetrics {
  roundTrips: number;
  requests: number;
  noReplies: number;
  casRetries: number;
}

export type MemcachedDriver = Driver & {
  /** What Memcached cannot guarantee; SessionStore users should log these at startup. */
  readonly warnings: readonly string[];
  readonly servers: readonly string[];
  readonly metrics: MemcachedMetrics;
  /** The server a session (or claim) key lives on. */
  serverFor(key: string): string;
  /** Quarantined raw bytes of a session key, oldest first. */
  quarantined(key: string): Promise<QuarantineRecord[]>;
};

export const MEMCACHED_WARNINGS: readonly string[] = [
  '[chatstate] [memcached] memcached may evict sessions, leases and claims under memory pressure and loses all of them on restart: give it enough memory that `stats` evictions stay 0, and keep state you cannot lose in SQLite or Redis.',
  '[chatstate] [memcached] pending replies (the outbox) live inside the session item and its index in evictable items: an eviction, a restart or a session that expires loses replies not yet delivered, and status updates of finished replies can be evicted too. Use SQLite or Redis when every reply must survive.',
  '[chatstate] [memcached] memcached cannot list keys or publish changes: SessionStore.list() and subscribe() throw CAPABILITY_MISSING (use SQLite or Redis for admin listing and change events).',
];

// Item header (about 56 bytes), key (up to 250), client flags and the session header fit in this.
const ITEM_RESERVE = 512;

/** What the driver declares; everything Memcached cannot do is false here and refused by SessionStore. */
export function memcachedCapabilities(itemSizeMax = 1_048_576): DriverCapabilities {
  return {
    model: 'blob',
    nativeTtl: true,
    scan: false,
    changeEvents: false,
    persistent: false,
    evicts: true,
    maxValueBytes: itemSizeMax - ITEM_RESERVE - SESSION_HEADER_BYTES,
    ttlResolutionMs: 1000,
    outbox: true,
  };
}
