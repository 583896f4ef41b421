import { ChatstateError } from '../errors.js';
import { extend } from '../extend.js';
import { applyPatch } from './patch.js';
import {
  type HistoryEntry,
  type JsonValue,
  RETRIES_COUNTER,
  type Session,
  type SessionPatch,
  type SettableField,
  VAR_COUNTER_PREFIX,
  type Vars,
} from './types.js';

/** Keys of V whose values are numbers: the vars `incr` accepts (any key for untyped vars). */
export type NumericKeys<V> = string extends keyof V
  ? string
  : { [K in keyof V]-?: NonNullable<V[K]> extends number ? K : never }[keyof V] & string;

interface DraftOptions {
  now: number;
  ttlMs: number | null;
  historyLimit: number;
  /** The session that expired before this transition started, if any. */
  expired: Session | null;
}

/**
 * What a transition handler changes. Every mutation is recorded as a patch operation, so the
 * store commits only what changed (and nothing at all when nothing did), while the handler reads
 * the session as it would look after its own changes.
 */
export class SessionDraft<V extends Vars = Vars> {
  readonly #base: Session;
  #viewCache: Session | null;
  #dirty = false;
  readonly #patch: SessionPatch;
  readonly #expired: Session | null;
  #touched = false;
  readonly #outbox: object[] = [];

  constructor(base: Session, options: DraftOptions) {
    this.#base = base;
    this.#viewCache = base;
    this.#expired = options.expired;
    this.#patch = {
      reset: options.expired !== null && base.version > 0,
      set: {},
      setVars: {},
      unsetVars: [],
      incr: {},
      push: [],
      historyLimit: options.historyLimit,
      expiresAt: options.ttlMs === null ? null : options.now + options.ttlMs,
      updatedAt: options.now,
    };
    this.#ttlNow = options.now;
  }
  readonly #ttlNow: number;

  get id(): string {
    return this.#base.id;
  }
  /** True when no session was stored for this user (or it had expired). */
  get isNew(): boolean {
    return this.#base.version === 0 || this.#expired !== null;
  }
  /** The session that had expired when this message arrived: lets a flow greet a returning user. */
  get expired(): Readonly<Session<V>> | null {
    return this.#expired as Session<V> | null;
  }
  get flow(): string | null {
    return this.#view.flow;
  }
  get node(): string | null {
    return this.#view.node;
  }
  get prevNode(): string | null {
    return this.#view.prevNode;
  }
  get retries(): number {
    return this.#view.retries;
  }
  get vars(): Readonly<Partial<V>> {
    return this.#view.vars as Partial<V>;
  }
  get history(): readonly HistoryEntry[] {
    return this.#view.history;
  }
  get createdAt(): number {
    return this.#view.createdAt;
  }
  get version(): number {
    return this.#base.version;
  }
  get schema(): number {
    return this.#view.schema;
  }
  /** True when the handler changed something, asked for a TTL renewal, or sent a reply. */
  get changed(): boolean {
    return this.#touched || this.#dirty || this.#outbox.length > 0;
  }

  /**
   * Records a reply to deliver after the commit (the outbox): it is committed atomically with
   * this transition's state change, and dropped with it if the transition fails or is re-run.
   */
  send(envelope: object): this {
    this.#outbox.push(envelope);
    return this;
  }

  /** Replies recorded by `send`, in order. */
  get outbox(): readonly object[] {
    return this.#outbox;
  }

  setFlow(flow: string | null): this {
    return this.#setField('flow', flow);
  }

  /** Moves to `node`, remembering the current node as `prevNode`. */
  goto(node: string | null): this {
    this.#setField('prevNode', this.#view.node);
    return this.#setField('node', node);
  }

  set<K extends keyof V & string>(key: K, value: V[K]): this {
    if (value === undefined) return this.unset(key);
    delete this.#patch.incr[VAR_COUNTER_PREFIX + key];
    this.#patch.setVars[key] = value as JsonValue;
    this.#patch.unsetVars = this.#patch.unsetVars.filter((k) => k !== key);
    return this.#refresh();
  }

  unset(key: keyof V & string): this {
    delete this.#patch.setVars[key];
    delete this.#patch.incr[VAR_COUNTER_PREFIX + key];
    if (!this.#patch.unsetVars.includes(key)) this.#patch.unsetVars.push(key);
    return this.#refresh();
  }

  /**
   * Atomic increment of the retry counter or a numeric var; returns the new value. Committed as
   * an increment (HINCRBY on Redis), so it composes with other writers instead of overwriting them.
   */
  incr(key: typeof RETRIES_COUNTER | NumericKeys<V>, by = 1): number {
    if (!Number.isSafeInteger(by)) {
      throw new ChatstateError('INVALID_ARGUMENT', `incr("${key}", ${by}): the step must be an integer.`);
    }
    if (key === RETRIES_COUNTER) {
      const patch = this.#patch;
      if ('retries' in patch.set) patch.set.retries = (patch.set.retries ?? 0) + by;
      else patch.incr[RETRIES_COUNTER] = (patch.incr[RETRIES_COUNTER] ?? 0) + by;
      this.#refresh();
      // What applyPatch will make of it, without building the whole view for one number.
      const from = patch.set.retries ?? (patch.reset ? 0 : this.#base.retries);
      return from + (patch.incr[RETRIES_COUNTER] ?? 0);
    }
    const current = this.#view.vars[key];
    if (current !== undefined && typeof current !== 'number') {
      throw new ChatstateError(
        'INVALID_ARGUMENT',
        `incr("${key}"): vars.${key} holds a ${typeof current}, not a number.`,
      );
    }
    if (key in this.#patch.setVars) this.#patch.setVars[key] = ((current as number | undefined) ?? 0) + by;
    else {
      const counter = VAR_COUNTER_PREFIX + key;
      this.#patch.incr[counter] = (this.#patch.incr[counter] ?? 0) + by;
      this.#patch.unsetVars = this.#patch.unsetVars.filter((k) => k !== key);
    }
    this.#refresh();
    return this.#view.vars[key] as number;
  }

  resetRetries(): this {
    delete this.#patch.incr[RETRIES_COUNTER];
    return this.#setField('retries', 0);
  }

  /** Appends a message to the recent-messages context (trimmed to the store's history limit). */
  remember(entry: Omit<HistoryEntry, 'at'> & { at?: number }): this {
    this.#patch.push.push(extend(entry, { at: entry.at ?? this.#ttlNow }));
    return this.#refresh();
  }

  /** The "clear session" command: the commit replaces everything with an empty session. */
  clear(): this {
    this.#patch.reset = true;
    this.#patch.set = {};
    this.#patch.setVars = {};
    this.#patch.unsetVars = [];
    this.#patch.incr = {};
    this.#patch.push = [];
    this.#touched = true;
    return this.#refresh();
  }

  /** Sets this session's time to live from now (null: never expires). Implies a write. */
  setTtl(ttlMs: number | null): this {
    this.#patch.expiresAt = ttlMs === null ? null : this.#ttlNow + ttlMs;
    this.#touched = true;
    return this;
  }

  /** Renews the TTL even if nothing else changed. */
  touch(): this {
    this.#touched = true;
    return this;
  }

  /** The patch to commit, or null when nothing changed. */
  toPatch(): SessionPatch | null {
    return this.changed ? this.#patch : null;
  }

  /** The session as it will be stored (version is the base version + 1). */
  preview(): Session {
    return this.#dirty ? this.#view : applyPatch(this.#base, this.#patch);
  }

  #setField<F extends SettableField>(field: F, value: Session[F]): this {
    (this.#patch.set as Record<string, unknown>)[field] = value;
    return this.#refresh();
  }

  /** The session after this draft's changes, computed only when read (handlers write more than they read). */
  get #view(): Session {
    this.#viewCache ??= applyPatch(this.#base, this.#patch);
    return this.#viewCache;
  }

  #refresh(): this {
    this.#dirty = true;
    this.#viewCache = null;
    return this;
  }
}
