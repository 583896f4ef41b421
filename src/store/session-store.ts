import { ChatstateError } from '../errors.js';
import { extend } from '../extend.js';
import { BodyEncoding, type Encoded } from '../session/body.js';
import { codecByName } from '../session/codec.js';
import { SessionDraft } from '../session/draft.js';
import {
  decodeAfterCommit,
  decodeFields,
  deepFreeze,
  encodeFieldPatch,
  patchSizeBound,
} from '../session/fields.js';
import { migrate } from '../session/migrations.js';
import { applyPatch, emptySession } from '../session/patch.js';
import type { Session, SessionPatch, Vars } from '../session/types.js';
import { WireShapeError } from '../session/wire.js';
import type {
  BeginRequest,
  BlobChange,
  ChangeEvent,
  CommitRequest,
  CommitResult,
  Driver,
  FieldChange,
  StoredRecord,
} from './contract.js';
import { instrument } from './instrument.js';
import { KeyedQueue } from './keyed-queue.js';
import { LeaseKeeper } from './lease-keeper.js';
import { andThen, isPromise, type MaybePromise } from './maybe-promise.js';
import { type ResolvedStoreOptions, resolveOptions, type StoreOptions } from './options.js';
import { rawBytesOf } from './raw.js';
import { SessionCopies, type SessionCopy } from './session-copies.js';
import { StoreInbox } from './store-inbox.js';
import { StoreOutbox } from './store-outbox.js';
import { validateId } from './validate.js';

export interface TransitionOptions {
  /** Idempotency key (a message id): the transition runs at most once per key within the claim window. */
  claim?: string;
  /**
   * Hold the user's lease while the handler runs (one worker per user across processes). Default
   * true. Pass a lease from `withLease` to run several transitions under one lease (the commit is
   * fenced by it and leaves it held).
   */
  lease?: boolean | UserLease;
  /** Session TTL for this commit, overriding the store default. */
  ttlMs?: number | null;
  /**
   * Id of the inbox message this transition processes: the commit removes it in the same atomic
   * step when the driver can (`store.inbox.removesOnCommit`); the result says so in `consumed`.
   */
  consume?: string;
  /**
   * With a lease from `withLease`: release it in the commit (one write less for the last message
   * of a drain). `withLease` then skips its own release; the result says so in `released`.
   */
  release?: boolean;
  /**
   * False: when another worker holds the user's lease, fail at once with LEASE_BUSY instead of
   * waiting up to `leaseWaitMs` (the webhook drain then falls back to taking the lease itself).
   */
  waitForLease?: boolean;
}

/** What the commit did besides the state change (see `TransitionOptions.consume` / `release`). */
export interface CommitEffects {
  /** The inbox message named by `consume` was removed with the commit. */
  consumed: boolean;
  /** The held lease was released with the commit. */
  released: boolean;
}

/** A reply the transition committed to its outbox: deliver it, then record the delivery. */
export interface CommittedReply {
  /** Outbox entry id (`<key>:<version>:<n>`), stable across retries. */
  id: string;
  userId: string;
  envelope: object;
  /** False when the driver has no outbox: the reply exists only in memory (deliver it now). */
  durable: boolean;
}

export type TransitionResult<V extends Vars, R> =
  | ({ status: 'committed'; session: Session<V>; result: R; replies: CommittedReply[] } & CommitEffects)
  | ({ status: 'unchanged'; session: Session<V>; result: R; replies: CommittedReply[] } & CommitEffects)
  | { status: 'duplicate' };

export type TransitionHandler<V extends Vars, R> = (draft: SessionDraft<V>) => R | PromiseLike<R>;

export interface UserLease {
  id: string;
  token: number;
  expiresAt: number;
}

export interface StoreEvents {
  corrupt: { id: string; reason: string };
}

/**
 * The session store every part of chatstate talks to: wraps one driver with the codec, key
 * prefix, size cap, schema migrations, quarantine, per-user ordering and metrics hooks.
 */
export class SessionStore<V extends Vars = Vars> {
  readonly driver: Driver;
  readonly options: ResolvedStoreOptions;
  readonly #body: BodyEncoding;
  readonly #queue = new KeyedQueue();
  readonly #listeners = new Set<(event: StoreEvents['corrupt']) => void>();
  /** Leases released by a commit (`TransitionOptions.release`): withLease must not release them again. */
  readonly #releasedInCommit = new WeakSet<UserLease>();
  /** Extends every lease this store holds while its work runs (one timer for all of them). */
  readonly #leaseKeeper: LeaseKeeper;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /**
   * Sessions kept after this store's leased commits, for drivers that validate copies (Redis):
   * the user's next begin asks only whether the copy is still current (session-copies.ts).
   */
  readonly #copies: SessionCopies | null;

  constructor(driver: Driver, options: StoreOptions = {}, driverPrefix = '') {
    this.options = resolveOptions(options, driverPrefix);
    this.driver = this.options.observer ? instrument(driver, this.options.observer) : driver;
    const o = this.options;
    if (!Number.isInteger(o.historyLimit) || o.historyLimit < 0)
      invalid('historyLimit must be an integer >= 0');
    if (!Number.isInteger(o.maxBytes) || o.maxBytes < 64) invalid('maxBytes must be an integer >= 64');
    if (o.ttlMs !== null && !(o.ttlMs > 0)) invalid('ttlMs must be > 0 or null');
    if (!(o.maxAttempts >= 1)) invalid('maxAttempts must be >= 1');
    this.#body = new BodyEncoding(codecByName(o.codec), o.compressAbove);
    const copies = driver.capabilities.sessionCopies ?? 0;
    this.#copies = copies > 0 ? new SessionCopies(copies) : null;
    this.#leaseKeeper = new LeaseKeeper(Math.max(10, Math.floor(o.leaseTtlMs / 3)), (key, token) => {
      this.driver.extendLease(key, token, o.leaseTtlMs, o.clock()).catch(() => false);
    });
    if (!driver.capabilities.nativeTtl && driver.sweep && o.sweepIntervalMs > 0) {
      this.#sweeper = setInterval(() => {
        this.sweep().catch(() => {});
      }, o.sweepIntervalMs);
      unrefTimer(this.#sweeper);
    }
  }

  get capabilities() {
    return this.driver.capabilities;
  }

  #outbox: StoreOutbox | null | undefined;
  /** Delivery bookkeeping of committed replies, or null when the driver has no outbox. */
  get outbox(): StoreOutbox | null {
    if (this.#outbox === undefined) {
      const o = this.driver.outbox;
      this.#outbox = o ? new StoreOutbox(o, this.options.prefix, this.options.clock) : null;
    }
    return this.#outbox;
  }

  #inbox: StoreInbox | null | undefined;
  /** The durable per-user inbox of the webhook runtime, or null when the driver has none. */
  get inbox(): StoreInbox | null {
    if (this.#inbox === undefined) {
      this.#inbox = this.driver.inbox
        ? new StoreInbox(this.driver.inbox, this.options.prefix, this.options.clock)
        : null;
    }
    return this.#inbox;
  }

  /**
   * Loads the user's session (or a fresh one), runs the handler on a draft, and commits only what
   * changed, atomically, with the version check, lease fencing and optional idempotency claim.
   * Transitions of one user run one at a time in this process; the lease extends that across
   * processes. A lost version check re-runs the handler on the newer session.
   */
  transition<R>(
    id: string,
    handler: TransitionHandler<V, R>,
    options: TransitionOptions = {},
  ): Promise<TransitionResult<V, R>> {
    this.#assertOpen();
    validateId(id);
    const key = this.options.prefix + id;
    return this.#queue.runReporting(key, (done) => this.#transition(id, key, handler, options, done));
  }

  async #transition<R>(
    id: string,
    key: string,
    handler: TransitionHandler<V, R>,
    options: TransitionOptions,
    done: () => void,
  ): Promise<TransitionResult<V, R>> {
    const o = this.options;
    const started = o.observer ? performance.now() : 0;
    try {
      const claimKey = options.claim === undefined ? undefined : o.prefix + options.claim;
      const held = typeof options.lease === 'object' ? options.lease : null;
      const checkOnly = this.driver.capabilities.transitionLease === 'check';
      // What begin asks of the lease: take it, only check it (held by us or nobody), or ignore it.
      const checkLease =
        options.lease !== false && checkOnly ? (held ? { heldToken: held.token } : {}) : undefined;
      const takeLease = options.lease !== false && !checkOnly && !held ? { ttlMs: o.leaseTtlMs } : undefined;
      const commitCheck = options.lease !== false && checkOnly && !held;
      // A kept copy is only offered, and the driver only validates it, under the user's lease.
      const copies = takeLease || held ? this.#copies : null;
      let waitedSince = 0;
      let attempt = 0;
      for (;;) {
        const now = o.clock();
        // Optional fields are absent rather than undefined (drivers test them with `in` or `!== undefined`).
        const request: BeginRequest = { key, now };
        if (claimKey !== undefined) request.claimKey = claimKey;
        if (checkLease) request.checkLease = checkLease;
        if (takeLease) request.lease = takeLease;
        if (held) request.heldLease = held.token;
        const copy = copies?.get(key);
        if (copy) request.copy = copy;
        // Awaited even when the driver answered at once: this one microtask turn lets the other
        // transitions started in this tick begin too, so a driver that shares one transaction per
        // tick (SQLite: sqlite-turn.ts) commits them together instead of one COMMIT each. It is
        // the only wait on a lone transition's path.
        const begun = await this.driver.begin(request);
        if (begun.status === 'duplicate') {
          o.observer?.transition?.('duplicate', performance.now() - started);
          return { status: 'duplicate' };
        }
        if (begun.status === 'busy') {
          if (options.waitForLease === false) {
            throw new ChatstateError(
              'LEASE_BUSY',
              `user ${id} is leased by another worker and the transition was asked not to wait (waitForLease: false); retry later or let it wait.`,
              { component: 'store' },
            );
          }
          waitedSince ||= now;
          await this.#waitForLease(id, waitedSince, begun.leaseExpiresAt);
          continue;
        }
        if (waitedSince) o.observer?.leaseWait?.(o.clock() - waitedSince);
        waitedSince = 0;
        const lease = held
          ? { token: held.token, owned: false }
          : begun.lease && { token: begun.lease.token, owned: true };
        const run: Attempt<V, R> = {
          id,
          key,
          now,
          lease,
          handler,
          options,
          claimKey,
          checkLease: commitCheck,
          copy: undefined,
          stamp: undefined,
        };
        let record: StoredRecord | null = null;
        if (begun.status === 'unchanged') {
          run.copy = copy;
          run.stamp = copy?.stamp;
        } else {
          record = begun.record;
          run.stamp = begun.stamp;
        }
        let outcome = this.#runAndCommit(run, record);
        if (isPromise(outcome)) outcome = await outcome;
        if (typeof outcome === 'object') {
          o.observer?.transition?.(outcome.status, performance.now() - started);
          return outcome;
        }
        if (outcome === 'lease_lost' && held) {
          throw new ChatstateError(
            'LEASE_LOST',
            `the lease on user ${id} expired or was taken over before the commit; nothing was applied. Keep the lease extended while working (withLease does).`,
            { component: 'store' },
          );
        }
        o.observer?.conflict?.();
        if (++attempt >= o.maxAttempts) {
          throw new ChatstateError(
            'SESSION_CONFLICT',
            `session ${id} changed under ${attempt} attempts in a row: another writer is updating it without the lease; use leases (the default) or raise maxAttempts.`,
            { component: 'store', details: { attempts: attempt } },
          );
        }
        // Jittered backoff so two writers that keep colliding fall out of step.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
      }
    } catch (error) {
      // Whatever failed (a commit that timed out may have been applied), the copy is not trusted.
      this.#copies?.drop(key);
      o.observer?.transition?.('failed', performance.now() - started);
      throw error;
    } finally {
      // The last step, whatever happened: this user's queue may forget the key (keyed-queue.ts).
      done();
    }
  }

  /**
   * One handler run and commit, or why the commit was refused. Runs synchronously to the end when
   * the driver, the codec and the handler do (SQLite, an uncompressed body, a handler that returns
   * no promise): each step below goes on at once with a plain value and waits only for a promise.
   */
  #runAndCommit<R>(attempt: Attempt<V, R>, record: StoredRecord | null): MaybePromise<Outcome<V, R>> {
    const owned = attempt.lease?.owned ? attempt.lease : null;
    if (!owned) return this.#load(attempt, record);
    return this.#holdingLease(attempt, owned.token, record);
  }

  /**
   * A lease this attempt took in begin: kept extended while the handler runs, released if no commit
   * does. Not an async function: on the Redis path that would add a promise and a microtask turn to
   * every transition, and a synchronous driver (SQLite) gets its outcome back at once.
   */
  #holdingLease<R>(
    attempt: Attempt<V, R>,
    token: number,
    record: StoredRecord | null,
  ): MaybePromise<Outcome<V, R>> {
    const keeper = this.#leaseKeeper.hold(attempt.key, token);
    attempt.handlerDone = keeper.stop;
    const release = () => this.driver.releaseLease(attempt.key, token).catch(() => false);
    const settle = (outcome: Outcome<V, R>): MaybePromise<Outcome<V, R>> => {
      keeper.stop();
      // A commit that went through released the lease with it.
      return typeof outcome === 'object' ? outcome : release().then(() => outcome);
    };
    const fail = (error: unknown): Promise<never> => {
      keeper.stop();
      return release().then(() => {
        throw error;
      });
    };
    let outcome: MaybePromise<Outcome<V, R>>;
    try {
      outcome = this.#load(attempt, record);
    } catch (error) {
      return fail(error);
    }
    return isPromise(outcome) ? Promise.resolve(outcome).then(settle, fail) : settle(outcome);
  }

  #load<R>(attempt: Attempt<V, R>, record: StoredRecord | null): MaybePromise<Outcome<V, R>> {
    const { copy } = attempt;
    if (copy) return this.#runHandler(attempt, this.#loaded(copy.session, attempt.now));
    // A session read under the lease with a stamp may be kept after the commit: read-only from now.
    const freeze = this.#copies !== null && attempt.stamp !== undefined;
    return andThen(this.#decode(attempt.id, attempt.key, record, attempt.now, freeze), (loaded) =>
      this.#runHandler(attempt, loaded),
    );
  }

  #runHandler<R>(attempt: Attempt<V, R>, loaded: Loaded): MaybePromise<Outcome<V, R>> {
    const o = this.options;
    const draft = new SessionDraft<V>(loaded.session, {
      now: attempt.now,
      ttlMs: attempt.options.ttlMs === undefined ? o.ttlMs : attempt.options.ttlMs,
      historyLimit: o.historyLimit,
      expired: loaded.expired,
    });
    return andThen(attempt.handler(draft), (result) => this.#prepareCommit(attempt, loaded, draft, result));
  }

  #prepareCommit<R>(
    attempt: Attempt<V, R>,
    loaded: Loaded,
    draft: SessionDraft<V>,
    result: R,
  ): MaybePromise<Outcome<V, R>> {
    attempt.handlerDone?.();
    const patch = draft.toPatch();
    if (!patch && attempt.claimKey === undefined && attempt.lease === null) {
      return {
        status: 'unchanged',
        session: loaded.session as Session<V>,
        result,
        replies: [],
        consumed: false,
        released: false,
      };
    }
    const nextVersion = loaded.session.version + 1;
    const durable = this.driver.outbox !== undefined;
    const replies: CommittedReply[] = draft.outbox.map((envelope, n) => ({
      id: `${attempt.key}:${nextVersion}:${n}`,
      userId: attempt.id,
      envelope,
      durable,
    }));
    const prepared = patch
      ? this.#prepare(loaded.session, draft, patch, loaded.migrated, attempt.copy)
      : null;
    return andThen(prepared, (value) => this.#commit(attempt, loaded, result, replies, value));
  }

  #commit<R>(
    attempt: Attempt<V, R>,
    loaded: Loaded,
    result: R,
    replies: CommittedReply[],
    prepared: Prepared | null,
  ): MaybePromise<Outcome<V, R>> {
    const o = this.options;
    const { options, lease, claimKey } = attempt;
    const held = typeof options.lease === 'object' ? options.lease : null;
    const consume =
      options.consume !== undefined && this.driver.inbox?.removesOnCommit ? options.consume : undefined;
    const releaseHeld = held !== null && options.release === true;
    // Built field by field: optional fields are absent rather than undefined (drivers test `in`).
    const request: CommitRequest = {
      key: attempt.key,
      now: o.clock(),
      expectVersion: loaded.session.version,
      change: prepared?.change ?? null,
    };
    if (lease) {
      request.leaseToken = lease.token;
      request.release = lease.owned || releaseHeld;
    }
    if (consume !== undefined) request.consume = consume;
    if (attempt.checkLease) request.checkLease = true;
    if (replies.length && this.driver.outbox)
      request.outbox = replies.map((r) => ({ id: r.id, payload: JSON.stringify(r.envelope) }));
    if (claimKey !== undefined) request.claim = { key: claimKey, ttlMs: o.claimTtlMs };
    // The stamp of a stored session (not of "no session", nor after a quarantine: version 0).
    if (attempt.stamp && loaded.session.version > 0) request.copyStamp = attempt.stamp;
    const committed = this.driver.commit(request);
    const settle = (done: CommitResult): Outcome<V, R> => {
      if (done.status !== 'ok') {
        this.#copies?.drop(attempt.key);
        return done.status;
      }
      if (releaseHeld) this.#releasedInCommit.add(held);
      const effects: CommitEffects = { consumed: consume !== undefined, released: releaseHeld };
      if (!prepared) {
        // Nothing written: a session read under the lease (frozen, stamped) is still what is stored.
        const base = loaded.session;
        if (this.#copies && done.stamp !== undefined && base.version > 0 && Object.isFrozen(base)) {
          const size = attempt.copy?.size;
          this.#copies.keep(attempt.key, { session: base, version: base.version, stamp: done.stamp, size });
        }
        return {
          status: 'unchanged',
          session: base as Session<V>,
          result,
          replies: [],
          ...effects,
        };
      }
      const kept = done.stamp === undefined ? null : this.#keep(attempt, loaded.session, prepared, done);
      // A copy from before this commit no longer matches the stored version: let it go now.
      if (kept === null) this.#copies?.drop(attempt.key);
      const next = kept ?? prepared.next ?? prepared.preview();
      // The stored version is the next one (applyPatch's), unless the driver says otherwise.
      const session = done.version === next.version ? next : extend(next, { version: done.version });
      return {
        status: 'committed',
        session: session as Session<V>,
        result,
        replies,
        ...effects,
      };
    };
    return andThen(committed, settle);
  }

  /**
   * Keeps the session this commit stored as the user's copy (drivers that validate copies, after
   * a commit that returned a stamp), and returns it; null when it cannot be kept. It is built from
   * the session the commit started on plus what the commit wrote, read back from the text and bytes
   * it wrote (decodeAfterCommit): exactly what reading the stored session would give. That needs
   * the session begun from to be read-only (a copy, or one frozen on load) or not used at all (a
   * new, cleared or expired one), and, for a stored session, its stamp checked by the commit.
   */
  #keep<R>(
    attempt: Attempt<V, R>,
    base: Session,
    { change, size }: Prepared,
    done: { version: number; stamp?: string },
  ): Session | null {
    const copies = this.#copies;
    if (!copies || change.kind !== 'fields' || attempt.stamp === undefined) return null;
    if (!(Object.isFrozen(base) || change.patch.reset || base.version === 0)) return null;
    let session: Session | null = null;
    try {
      session = decodeAfterCommit(
        base,
        change.patch,
        { version: done.version, expiresAt: change.expiresAt },
        this.#body.codec,
      );
    } catch {
      // Not kept: the next begin reads the session and quarantines it if it is corrupt.
    }
    if (session === null) return null;
    copies.keep(attempt.key, { session, version: done.version, stamp: done.stamp as string, size });
    return session;
  }

  /** The stored session (or a fresh one); a corrupt one is quarantined and replaced by a fresh one. */
  #decode(
    id: string,
    key: string,
    record: StoredRecord | null,
    now: number,
    freeze = false,
  ): MaybePromise<Loaded> {
    if (!record) return { session: this.#fresh(id, now), expired: null, migrated: false };
    let stored: MaybePromise<Session>;
    try {
      stored = 'body' in record ? this.#body.decode(id, record) : decodeFields(id, record, this.#body.codec);
      if (freeze && !isPromise(stored)) deepFreeze(stored);
    } catch (error) {
      return this.#corrupt(error, id, key, record, now);
    }
    return isPromise(stored)
      ? Promise.resolve(stored).then(
          (session) => this.#loaded(session, now),
          (error) => this.#corrupt(error, id, key, record, now),
        )
      : this.#loaded(stored, now);
  }

  #fresh(id: string, now: number): Session {
    return emptySession(id, now, this.options.schemaVersion);
  }

  #loaded(stored: Session, now: number): Loaded {
    if (stored.expiresAt !== null && stored.expiresAt <= now) {
      // Keep the stored version so the commit that replaces the expired session passes the version check.
      const session = this.#fresh(stored.id, now);
      session.version = stored.version;
      return { session, expired: stored, migrated: false };
    }
    const session = migrate(stored, this.options.schemaVersion, this.options.migrations);
    return { session, expired: null, migrated: session !== stored };
  }

  async #corrupt(
    error: unknown,
    id: string,
    key: string,
    record: StoredRecord,
    now: number,
  ): Promise<Loaded> {
    if (!(error instanceof WireShapeError)) throw error;
    await this.#quarantine(id, key, record, error.message, now);
    return { session: this.#fresh(id, now), expired: null, migrated: false };
  }

  async #quarantine(
    id: string,
    key: string,
    record: StoredRecord,
    reason: string,
    now: number,
  ): Promise<void> {
    this.#copies?.drop(key);
    await this.driver.quarantine(key, rawBytesOf(record), reason, now);
    this.options.observer?.corrupt?.(this.driver.name, reason);
    for (const listener of this.#listeners) listener({ id, reason });
  }

  #prepare(
    base: Session,
    draft: SessionDraft<V>,
    patch: SessionPatch,
    migrated: boolean,
    copy: SessionCopy | undefined,
  ): MaybePromise<Prepared> {
    const cap = Math.min(
      this.options.maxBytes,
      this.driver.capabilities.maxValueBytes ?? Number.POSITIVE_INFINITY,
    );
    const preview = () => draft.preview();
    if (this.driver.capabilities.model === 'blob') {
      const next = draft.preview();
      const blob = ({ body, size }: Encoded): Prepared => {
        if (size > cap) tooLarge(base.id, size, cap);
        return { next, preview, change: { kind: 'blob', body, expiresAt: patch.expiresAt } };
      };
      return andThen(this.#body.encode(next), blob);
    }
    // A migrated session is rewritten whole so the upgraded vars and schema reach the hash.
    const fieldPatch = migrated ? rewritePatch(draft.preview(), patch) : patch;
    // The session's createdAt after the patch, as applyPatch sets it.
    const createdAt = patch.reset ? patch.updatedAt : base.createdAt;
    const encoded = encodeFieldPatch(base, fieldPatch, this.#body.codec, createdAt);
    // Encoding the whole session only to measure it cost a few percent of every commit. A kept
    // copy carries an upper bound of its size: while that bound plus what this patch can add stays
    // under the cap, so does the session; past it, the session is measured (and the bound reset).
    // Without a measurement the session after the patch is not built at all when the commit's
    // copy is kept (#keep builds that one from what the commit wrote).
    const known = encoded.reset ? undefined : copy?.size;
    let size = known === undefined ? cap + 1 : known + patchSizeBound(encoded);
    let next: Session | null = null;
    if (size > cap) {
      next = draft.preview();
      size = this.#body.sizeOf(next);
      if (size > cap) tooLarge(base.id, size, cap);
    }
    return { next, preview, size, change: { kind: 'fields', patch: encoded, expiresAt: patch.expiresAt } };
  }

  async #waitForLease(id: string, since: number, leaseExpiresAt: number): Promise<void> {
    const now = this.options.clock();
    if (now - since >= this.options.leaseWaitMs) {
      throw new ChatstateError(
        'LEASE_BUSY',
        `user ${id} stayed leased by another worker for ${now - since} ms: a handler is stuck or too slow; raise leaseWaitMs or look for the slow handler.`,
        { component: 'store' },
      );
    }
    // Poll briefly: a lease is usually released within milliseconds, and never later than its expiry.
    const delay = Math.max(1, Math.min(20, leaseExpiresAt - now, since + this.options.leaseWaitMs - now));
    await new Promise((resolve) => setTimeout(resolve, delay));
  }

  /** Reads a session without claiming or leasing (admin view). Expired sessions read as null. */
  async get(id: string): Promise<Session<V> | null> {
    this.#assertOpen();
    validateId(id);
    const key = this.options.prefix + id;
    const now = this.options.clock();
    const record = await this.driver.load(key, now);
    if (!record) return null;
    const { session, expired } = await this.#decode(id, key, record, now);
    return expired || session.version === 0 ? null : (session as Session<V>);
  }

  /** The "clear session" command. True when a session existed. */
  async delete(id: string): Promise<boolean> {
    this.#assertOpen();
    validateId(id);
    const key = this.options.prefix + id;
    this.#copies?.drop(key);
    return this.driver.delete(key);
  }

  /** Lists user ids that start with `prefix` (admin use), a page at a time. */
  async list(
    options: { prefix?: string; cursor?: string | null; limit?: number } = {},
  ): Promise<{ ids: string[]; cursor: string | null }> {
    this.#assertOpen();
    if (!this.driver.scan) {
      throw new ChatstateError(
        'CAPABILITY_MISSING',
        `the ${this.driver.name} store cannot list sessions: use SQLite or Redis for admin listing.`,
        {
          component: this.driver.name,
        },
      );
    }
    const page = await this.driver.scan(
      this.options.prefix + (options.prefix ?? ''),
      options.cursor ?? null,
      options.limit ?? 100,
      this.options.clock(),
    );
    const cut = this.options.prefix.length;
    return { ids: page.keys.map((k) => k.slice(cut)), cursor: page.cursor };
  }

  /** Claims an idempotency key once within `ttlMs` (webhook dedupe). */
  claim(key: string, ttlMs = this.options.claimTtlMs): Promise<boolean> {
    this.#assertOpen();
    if (!key) invalid('claim key must be a non-empty string');
    return this.driver.claim(this.options.prefix + key, ttlMs, this.options.clock());
  }

  async acquireLease(id: string, ttlMs = this.options.leaseTtlMs): Promise<UserLease | null> {
    this.#assertOpen();
    validateId(id);
    const grant = await this.driver.acquireLease(this.options.prefix + id, ttlMs, this.options.clock());
    return grant ? { id, ...grant } : null;
  }

  /**
   * Runs `fn` holding the user's lease: waits up to leaseWaitMs for another worker to release it
   * (then LEASE_BUSY), extends it while `fn` runs, releases it after. Pass the lease to
   * `transition(id, handler, { lease })` to run several transitions under it, in order.
   */
  async withLease<T>(id: string, fn: (lease: UserLease) => Promise<T>): Promise<T> {
    this.#assertOpen();
    validateId(id);
    const key = this.options.prefix + id;
    const since = this.options.clock();
    for (;;) {
      const grant = await this.driver.acquireLease(key, this.options.leaseTtlMs, this.options.clock());
      if (grant) {
        const waited = this.options.clock() - since;
        if (waited > 0) this.options.observer?.leaseWait?.(waited);
        const keeper = this.#leaseKeeper.hold(key, grant.token);
        const lease: UserLease = { id, ...grant };
        try {
          return await fn(lease);
        } finally {
          keeper.stop();
          if (!this.#releasedInCommit.has(lease))
            await this.driver.releaseLease(key, grant.token).catch(() => false);
        }
      }
      await this.#waitForLease(id, since, this.options.clock() + 20);
    }
  }

  extendLease(lease: UserLease, ttlMs = this.options.leaseTtlMs): Promise<boolean> {
    this.#assertOpen();
    return this.driver.extendLease(this.options.prefix + lease.id, lease.token, ttlMs, this.options.clock());
  }

  releaseLease(lease: UserLease): Promise<boolean> {
    this.#assertOpen();
    return this.driver.releaseLease(this.options.prefix + lease.id, lease.token);
  }

  /** Deletes expired rows now (stores without native TTL do this on a timer too). */
  async sweep(): Promise<number> {
    this.#assertOpen();
    return this.driver.sweep ? this.driver.sweep(this.options.clock()) : 0;
  }

  /** Session change events from every process sharing the store (drivers with `changeEvents`). */
  async subscribe(listener: (event: ChangeEvent & { id: string }) => void): Promise<() => Promise<void>> {
    this.#assertOpen();
    if (!this.driver.subscribe) {
      throw new ChatstateError(
        'CAPABILITY_MISSING',
        `the ${this.driver.name} store has no change events: use Redis.`,
        {
          component: this.driver.name,
        },
      );
    }
    const cut = this.options.prefix.length;
    return this.driver.subscribe((event) => {
      if (event.key.startsWith(this.options.prefix)) listener({ ...event, id: event.key.slice(cut) });
    });
  }

  on(event: 'corrupt', listener: (event: StoreEvents['corrupt']) => void): () => void {
    if (event !== 'corrupt') invalid(`unknown event "${event}"`);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  ping(): Promise<void> {
    this.#assertOpen();
    return this.driver.ping();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops accepting work, lets running transitions finish, then closes the driver. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    await this.#queue.drain();
    this.#copies?.clear();
    this.#leaseKeeper.close();
    await this.driver.close();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ChatstateError(
        'STORE_CLOSED',
        `the ${this.driver.name} store is closed: open a new one with openStore().`,
        {
          component: 'store',
        },
      );
    }
  }
}

/** One run of a transition's handler and commit (a conflict starts another). */
interface Attempt<V extends Vars, R> {
  id: string;
  key: string;
  now: number;
  /** The lease the commit is fenced by: taken by begin (`owned`) or passed in by the caller. */
  lease: { token: number; owned: boolean } | null;
  handler: TransitionHandler<V, R>;
  options: TransitionOptions;
  claimKey: string | undefined;
  /** The commit verifies that no other worker holds the lease (drivers that only check it). */
  checkLease: boolean;
  /** The kept copy begin validated (`unchanged`): the session this attempt runs on. */
  copy: SessionCopy | undefined;
  /** What identifies the session begun from (the copy's or `BeginResult.stamp`), if anything does. */
  stamp: string | undefined;
  /** Called once the handler has returned (stops extending a lease begin took). */
  handlerDone?: () => void;
}

/** What an attempt ended with: a result, or why its commit was refused. */
type Outcome<V extends Vars, R> = TransitionResult<V, R> | 'conflict' | 'lease_lost';

/** A session as loaded for a transition. */
interface Loaded {
  session: Session;
  /** The stored session when it had expired (the transition starts from a fresh one). */
  expired: Session | null;
  /** A schema migration changed it on load. */
  migrated: boolean;
}

interface Prepared {
  /** The session after the patch, when it was built already (blob stores, a measured size). */
  next: Session | null;
  /** Builds it (the draft's preview). */
  preview: () => Session;
  /** Field stores: the encoded size of `next`, or an upper bound of it (see #prepare). */
  size?: number;
  change: BlobChange | FieldChange;
}

/** A patch that rewrites every field of `next` (after a schema migration). */
function rewritePatch(next: Session, patch: SessionPatch): SessionPatch {
  return {
    ...patch,
    reset: true,
    set: {
      flow: next.flow,
      node: next.node,
      prevNode: next.prevNode,
      retries: next.retries,
      schema: next.schema,
    },
    setVars: { ...next.vars },
    unsetVars: [],
    incr: {},
    push: next.history,
  };
}

function tooLarge(id: string, size: number, cap: number): never {
  throw new ChatstateError(
    'SESSION_TOO_LARGE',
    `session ${id} would encode to ${size} bytes, over the ${cap}-byte cap; nothing was stored. Keep media as references, trim vars, or raise maxBytes.`,
    { component: 'store', details: { size, cap } },
  );
}

function invalid(message: string): never {
  throw new ChatstateError('INVALID_ARGUMENT', message, { component: 'store' });
}

function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
