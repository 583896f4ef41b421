import type { CommitRequest, StoredFields } from '../contract.js';

/**
 * The sessions this process last read or wrote under its own lease, so that the next begin of the
 * same user asks Redis only "is it still this one?" (begin.lua compares `v` and `w`) instead of
 * reading the hash and the history again. On a WhatsApp bot one process usually handles a user's
 * consecutive messages, so most begins hit; a miss costs nothing more than before (the same
 * script reads everything, as without the cache).
 *
 * Why the pair (`v`, `w`) identifies the stored content (docs/redis.md, "Read cache"):
 * - `v` is written by every commit as expected + 1 after the version check, so within one life
 *   of the hash each version is written once. A delete, a quarantine or the keys' expiry end that
 *   life, and versions start again at 1.
 * - `w` is the fencing token of the lease under which the content was written; every commit that
 *   holds a lease writes it with the version. Tokens are unique per user and only grow, and a
 *   superseded token can no longer commit (fencing), so no later life of the hash can carry a `w`
 *   the process cached unless that process wrote it itself, and then its cache has the newer copy.
 *   A commit without a lease leaves `w` alone but moves `v`; a new life written without a lease
 *   has no `w` at all, which never validates.
 *
 * That argument needs the cached copy to have been read or written while this process held the
 * user's lease: entries are only made by a begin that took the lease, and only carried forward
 * by that transition's own commit, which commit.lua refuses unless the stored `w` is still the
 * copy's (the version alone would not see a session deleted and written again up to the same
 * version by a writer that ignores leases). Anything else (a conflict, a lost lease, a timeout, a
 * commit without a lease) drops the entry. Writes made to the hash behind chatstate's back, without
 * moving `v`, are not seen (set `cache=0` for that).
 */
export interface CachedSession {
  /** The record as begin would return it (fields include `v` and, once known, `w`). */
  readonly record: StoredFields;
  /** Decimal fencing token of the write that produced this content; null when unknown (cannot be validated). */
  readonly writer: string | null;
  /** The token of the lease the current transition took in begin: only its commit may carry the entry forward. */
  armedBy: number;
}

export class RedisReadCache {
  readonly #entries = new Map<string, CachedSession>();

  constructor(readonly maxSessions: number) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The entry begin can ask Redis to validate, marked most recently used; undefined when none is validatable. */
  validatable(key: string): CachedSession | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.writer === null) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** begin took the lease (`token`) and Redis confirmed the cached copy: its commit may carry it forward. */
  confirmed(key: string, entry: CachedSession, token: number): void {
    entry.armedBy = token;
    // Evicted by other users' entries while begin was on the wire: put it back.
    if (this.#entries.get(key) !== entry) this.#set(key, entry);
  }

  /**
   * begin took the lease (`token`) and read the session: remember a copy (the reply's Buffers
   * share the socket's read buffer, which a cached entry must not keep alive).
   */
  loaded(key: string, record: StoredFields | null, token: number): void {
    let copy: StoredFields | null;
    if (record === null) copy = { version: 0, expiresAt: null, fields: {}, history: [] };
    else {
      const fields = Number.isSafeInteger(record.version) ? textFields(record.fields) : null;
      copy = fields && {
        version: record.version,
        expiresAt: record.expiresAt,
        fields,
        history: (record.history ?? []).map(own),
      };
    }
    if (copy === null) {
      this.#entries.delete(key);
      return;
    }
    const w = copy.fields.w;
    this.#set(key, { record: copy, writer: typeof w === 'string' ? w : null, armedBy: token });
  }

  /**
   * The entry this commit may carry forward: the copy its own transition began with (armed by the
   * lease this commit holds, at the version it expects) whose writer token commit.lua can check,
   * or no session at all. Any other entry of the user is dropped.
   */
  forCommit(key: string, req: CommitRequest): CachedSession | undefined {
    const entry = this.#entries.get(key);
    if (
      entry !== undefined &&
      req.leaseToken !== undefined &&
      entry.armedBy === req.leaseToken &&
      entry.record.version === req.expectVersion &&
      (entry.record.version === 0 || entry.writer !== null)
    )
      return entry;
    this.#entries.delete(key);
    return undefined;
  }

  /**
   * The commit went through with the writer check of `forCommit`'s entry: apply it to the entry
   * exactly as commit.lua applied it to the hash. Returns the record now cached (undefined: none).
   */
  committed(key: string, entry: CachedSession, req: CommitRequest): StoredFields | undefined {
    entry.armedBy = 0;
    const change = req.change;
    if (change === null) return entry.record; // claim and release only: the hash did not change
    if (change.kind !== 'fields' || hasAny(change.patch.incr)) {
      // Server-side increments are summed by Redis: the result is not known here.
      this.#entries.delete(key);
      return undefined;
    }
    const patch = change.patch;
    const base = entry.record;
    const fresh = patch.reset || base.version === 0;
    // A spread copies the base's fields in one step (V8 clones the object's shape); adding them
    // one by one to an empty object took about 3% of the process's time at 64 transitions in flight.
    const fields: Record<string, string | Uint8Array> = fresh ? {} : { ...base.fields };
    const writer = String(req.leaseToken);
    fields.v = String(req.expectVersion + 1);
    fields.w = writer;
    for (const name in patch.set) fields[name] = text(patch.set[name] as string | Uint8Array);
    for (const name of patch.del) delete fields[name];
    let history = fresh ? [] : (base.history ?? []);
    if (patch.historyLimit === 0) history = [];
    else if (patch.push.length > 0) {
      history = history.concat(patch.push.map(own));
      if (history.length > patch.historyLimit) history = history.slice(history.length - patch.historyLimit);
    }
    // A new object, never changed once made: the store keeps the decoded session beside it (CommitResult.stored).
    const record = { version: req.expectVersion + 1, expiresAt: change.expiresAt, fields, history };
    this.#set(key, { record, writer, armedBy: 0 });
    return record;
  }

  drop(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  #set(key: string, entry: CachedSession): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.maxSessions) {
      // Least recently used first: a Map iterates in insertion order.
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

/** A history entry the cache owns: bytes copied out of whatever buffer they share (the socket's). */
function own(value: string | Uint8Array): string | Uint8Array {
  return typeof value === 'string' ? value : Buffer.from(value);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Field values as text, decoded once here rather than on every begin (every field chatstate
 * writes is UTF-8 text: session/fields.ts). Null when one is not UTF-8: such a hash is left to the
 * store, which reports it as corrupt, and is not cached.
 */
function textFields(fields: Record<string, string | Uint8Array>): Record<string, string> | null {
  const out: Record<string, string> = {};
  try {
    for (const name in fields) out[name] = text(fields[name] as string | Uint8Array);
  } catch {
    return null;
  }
  return out;
}

function text(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : utf8.decode(value);
}

function hasAny(record: Record<string, unknown>): boolean {
  for (const _ in record) return true;
  return false;
}
