/**
 * The store contract: the few primitives a driver implements. Everything else (codec, key prefix,
 * size cap, migrations, quarantine, metrics, retries, per-user ordering) lives in SessionStore,
 * which wraps any driver. Read this file first.
 *
 * A message costs two driver calls: `begin` (claim check + lease + load) and `commit` (version and
 * fencing check + patch + claim record + lease release). A driver that talks to a server does each
 * in one round trip.
 */

/** What the driver can do; SessionStore reports these at startup and refuses what is missing. */
export interface DriverCapabilities {
  /**
   * `blob`: the driver stores the encoded session body as one value and the store applies patches.
   * `fields`: the driver stores fields natively (Redis hash) and applies `FieldPatch` itself.
   */
  model: 'blob' | 'fields';
  /** Expiry happens in the server; false means SessionStore must call `sweep()` periodically. */
  nativeTtl: boolean;
  /** `scan()` lists keys by prefix. */
  scan: boolean;
  /** Change events can be published to other processes. */
  changeEvents: boolean;
  /** Data survives a restart of the store. */
  persistent: boolean;
  /** The store may evict live sessions, leases or claims under memory pressure. */
  evicts: boolean;
  /** Largest value the store accepts, in bytes (null: no practical limit). */
  maxValueBytes: number | null;
  /** Smallest TTL the store honours, in ms (Memcached counts whole seconds). */
  ttlResolutionMs: number;
  /**
   * What a transition does with the user's lease by default. `acquire`: begin takes it (free when
   * begin is one server round trip anyway). `check`: begin and commit only verify that no other
   * worker holds it, because taking it would cost a second write (SQLite: a write transaction in
   * begin); commits stay fenced by the version check. Absent means `acquire`.
   */
  transitionLease?: 'acquire' | 'check';
  /**
   * The driver records replies with the commit (`Driver.outbox`). The conformance suite fails a
   * driver that says so without one. Absent means false.
   */
  outbox?: boolean;
  /**
   * How many users' sessions SessionStore may keep in memory between their transitions, for the
   * driver to validate instead of reading them again (`BeginRequest.copy`, `CommitResult.stamp`;
   * docs/redis.md, "Session copies"). Absent or 0: the driver does not validate copies.
   */
  sessionCopies?: number;
}

export interface StoredBlob {
  version: number;
  expiresAt: number | null;
  body: Uint8Array;
}

export interface StoredFields {
  version: number;
  expiresAt: number | null;
  /** Field name -> encoded value, as the driver stored them (see session/fields.ts). */
  fields: Record<string, string | Uint8Array>;
  /** Encoded history entries, oldest first, when the driver keeps history outside the fields. */
  history?: Array<string | Uint8Array>;
}

export type StoredRecord = StoredBlob | StoredFields;

export interface LeaseGrant {
  /** Fencing token: increases with every grant for a key, so a stale holder can be refused. */
  token: number;
  expiresAt: number;
}

export interface BeginRequest {
  key: string;
  now: number;
  /**
   * When set, report `duplicate` if this idempotency key was already claimed (and nothing else).
   * A transition's claim belongs to its user (`key`): the same id claimed for another user, or by
   * the standalone `claim()`, is a different claim. Drivers keep it with the user's data (Redis and
   * Memcached under the user's hash tag, SQLite in the session row), which is what lets begin and
   * commit stay one round trip or one page.
   */
  claimKey?: string;
  /** When set, take the user's lease (or report `busy` without changing anything). */
  lease?: { ttlMs: number };
  /**
   * Take no lease, but report `busy` if another worker holds it (drivers whose
   * `transitionLease` is `check`). `heldToken`: the caller already holds this lease.
   */
  checkLease?: { heldToken?: number };
  /**
   * The token of a lease the caller already holds (`withLease`) and commits under. begin takes no
   * lease with it; a driver that validates copies (`sessionCopies`) checks that the lease is still
   * the caller's before it answers `unchanged` or a `stamp`. Drivers that do not need it ignore it.
   */
  heldLease?: number;
  /**
   * The copy of the session the caller kept from its last commit (drivers with `sessionCopies`),
   * sent only with `lease` or `heldLease`: when the stored session is still this copy and the
   * lease is the caller's, begin answers `unchanged` and reads nothing more.
   */
  copy?: { version: number; stamp: string };
}

export type BeginResult =
  | { status: 'duplicate' }
  | { status: 'busy'; leaseExpiresAt: number }
  | {
      status: 'ok';
      lease: LeaseGrant | null;
      record: StoredRecord | null;
      /**
       * Drivers with `sessionCopies`: set when the record was read under the caller's lease (taken
       * or held) and identifies it (`''` for no session). Pass it back as `CommitRequest.copyStamp`.
       */
      stamp?: string;
    }
  /** The stored session is still `BeginRequest.copy`, and the lease is the caller's. */
  | { status: 'unchanged'; lease: LeaseGrant | null };

export interface CommitRequest {
  key: string;
  now: number;
  /** Version the transition loaded (0: the session did not exist). */
  expectVersion: number;
  /** Fencing token of the lease the transition holds, if any. */
  leaseToken?: number;
  /** Release the lease after the commit (same atomic step). */
  release?: boolean;
  /** Without a token: refuse (`lease_lost`) if another worker holds an unexpired lease. */
  checkLease?: boolean;
  /**
   * Record this idempotency key as claimed (same atomic step). If it was claimed since `begin`,
   * the commit changes nothing and reports `conflict` (the store's retry then sees `duplicate`).
   */
  claim?: { key: string; ttlMs: number };
  /** The change; null when the handler changed nothing (only claim/release happen). */
  change: BlobChange | FieldChange | null;
  /** Replies to record as pending outbox entries in the same atomic step (drivers with `outbox`). */
  outbox?: Array<{ id: string; payload: string }>;
  /**
   * Id of the inbox entry (of this key) the transition processed: removed in the same atomic step.
   * Only sent to drivers whose inbox says `removesOnCommit`; saves the drain a write per message.
   */
  consume?: string;
  /**
   * The stamp of the session this transition began from (`BeginResult.stamp`, or the stamp of the
   * copy begin validated): the commit is refused as a conflict unless the stored session still
   * carries it, so content deleted and written again up to the same version is not taken for it.
   */
  copyStamp?: string;
}

export interface BlobChange {
  kind: 'blob';
  body: Uint8Array;
  expiresAt: number | null;
}

export interface FieldChange {
  kind: 'fields';
  patch: FieldPatch;
  expiresAt: number | null;
}

/** A session patch already encoded for a field store (see session/fields.ts). */
export interface FieldPatch {
  /** Delete every field and the history first (clear / expired session). */
  reset: boolean;
  set: Record<string, string | Uint8Array>;
  del: string[];
  incr: Record<string, number>;
  push: Array<string | Uint8Array>;
  historyLimit: number;
}

export type CommitResult =
  | {
      status: 'ok';
      version: number;
      /**
       * Drivers with `sessionCopies`: what identifies the stored session now (the fencing token
       * that wrote it), when a later begin can validate a copy of it (`BeginRequest.copy`).
       */
      stamp?: string;
    }
  | { status: 'conflict' }
  | { status: 'lease_lost' };

export interface ScanPage {
  keys: string[];
  /** Pass back to continue; null when done. */
  cursor: string | null;
}

export interface ChangeEvent {
  key: string;
  version: number;
  /** `commit`, `delete` or `expire`. */
  type: 'commit' | 'delete' | 'expire';
}

/**
 * A message waiting to be processed, recorded durably before the webhook is acknowledged.
 * `user` is a full (prefixed) session key; `id` is the provider's message id.
 */
export interface InboxEntry {
  id: string;
  user: string;
  /** Provider timestamp (ms): entries of one user are processed in (at, arrival) order. */
  at: number;
  /** The normalized event, JSON-encoded. */
  payload: string;
}

/**
 * The per-user inbox (journal) of the webhook runtime. Optional: a driver without one makes the
 * runtime process messages before acknowledging them instead (see docs/webhook-runtime.md).
 */
export interface InboxDriver {
  /** `commit` removes `CommitRequest.consume` atomically with the state change. */
  readonly removesOnCommit?: boolean;
  /** Records entries atomically; ids already present are ignored. Returns how many were new. */
  add(entries: InboxEntry[], now: number): Promise<number>;
  /** A user's oldest entries, in processing order. */
  peek(user: string, limit: number): Promise<InboxEntry[]>;
  remove(user: string, ids: string[]): Promise<void>;
  /** Users with entries recorded before `before` (ms), oldest first: recovery after a crash. */
  users(before: number, limit: number): Promise<string[]>;
  /**
   * Optional cheaper `add` for a process that only records (the ingest role): the entries are as
   * durable when it resolves, but `peek` sees them only after a `users()` call (any process) moved
   * them into the inbox; a redelivered id is dropped then. Returns how many were written.
   */
  append?(entries: InboxEntry[], now: number): Promise<number>;
}

export type OutboxState = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

/**
 * A reply produced by a transition, recorded in the same atomic commit as the state change and
 * delivered after it. `id` is `<user key>:<session version>:<n>`: unique, and the same if a
 * commit is retried, so a reply can never be recorded twice.
 */
export interface OutboxEntry {
  id: string;
  user: string;
  /** The outbound envelope (channel, from, to, message), JSON-encoded. */
  payload: string;
  state: OutboxState;
  attempts: number;
  /** The provider's message id (wamid) once sent. */
  providerId?: string;
  /** `<code>: <message>` of the last failure. */
  error?: string;
  createdAt: number;
  updatedAt: number;
}

export interface OutboxUpdate {
  state: OutboxState;
  attempts?: number;
  providerId?: string;
  error?: string;
}

/** Delivery bookkeeping of the outbox; entries are created only by `commit`. Optional capability. */
export interface OutboxDriver {
  /** Pending entries created before `before`, oldest first (recovery after a crash). */
  pending(before: number, limit: number): Promise<OutboxEntry[]>;
  update(id: string, change: OutboxUpdate, now: number): Promise<void>;
  /** The entry a provider message id (wamid) belongs to: status webhooks. */
  byProviderId(providerId: string): Promise<OutboxEntry | null>;
  /** A user's latest entries, newest first (admin view). */
  forUser(user: string, limit: number): Promise<OutboxEntry[]>;
}

export interface Driver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /** The webhook runtime's durable inbox, when the store can hold one. */
  readonly inbox?: InboxDriver;
  /** The reply outbox, when the store can commit replies atomically with the state. */
  readonly outbox?: OutboxDriver;
  /**
   * begin and commit may return their result itself instead of a promise (or throw instead of
   * rejecting): a synchronous driver (SQLite) then runs a whole transition without an event-loop
   * hop. Callers treat both forms alike (`await` accepts either).
   */
  begin(request: BeginRequest): BeginResult | Promise<BeginResult>;
  commit(request: CommitRequest): CommitResult | Promise<CommitResult>;
  /** Loads without claim or lease (admin reads). */
  load(key: string, now: number): Promise<StoredRecord | null>;
  /** Claims an idempotency key once: true the first time within its TTL. */
  claim(key: string, ttlMs: number, now: number): Promise<boolean>;
  acquireLease(key: string, ttlMs: number, now: number): Promise<LeaseGrant | null>;
  extendLease(key: string, token: number, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(key: string, token: number): Promise<boolean>;
  /** Deletes a session (the "clear session" command); true if one existed. */
  delete(key: string): Promise<boolean>;
  /** Moves the raw bytes of an undecodable session aside, then deletes the session. */
  quarantine(key: string, raw: Uint8Array, reason: string, now: number): Promise<void>;
  scan?(prefix: string, cursor: string | null, limit: number, now: number): Promise<ScanPage>;
  /** Removes expired sessions, claims and leases (stores without native TTL). Returns sessions removed. */
  sweep?(now: number): Promise<number>;
  /** Subscribes to change events from every process; returns an unsubscribe function. */
  subscribe?(listener: (event: ChangeEvent) => void): Promise<() => Promise<void>>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
