import type { Session } from '../session/types.js';

/**
 * A session the store kept after a commit, for a driver that validates copies
 * (`DriverCapabilities.sessionCopies`): the next begin of the user sends `version` and `stamp`, and
 * the driver answers `unchanged` instead of reading the session again when both still match.
 */
export interface SessionCopy {
  /** Deep-frozen: handlers of later transitions read it, and must not change it. */
  readonly session: Session;
  /** `session.version`, held beside it so the copy itself is begin's `BeginRequest.copy` (no object per begin). */
  readonly version: number;
  /** What identifies the stored content beside the version (Redis: the writer's fencing token). */
  readonly stamp: string;
  /** An upper bound of the session's encoded size, when known (SessionStore skips measuring under the cap). */
  readonly size: number | undefined;
}

/**
 * The copies one SessionStore keeps, at most `max` users, least recently committed out first.
 * Why a copy validated by version and stamp is the stored session: docs/redis.md, "Session copies".
 */
export class SessionCopies {
  readonly #entries = new Map<string, SessionCopy>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): SessionCopy | undefined {
    return this.#entries.get(key);
  }

  /** Keeps `copy` as the user's newest (a commit just wrote or confirmed it). */
  keep(key: string, copy: SessionCopy): void {
    // Deleted first so the Map's insertion order stays the order of use.
    this.#entries.delete(key);
    this.#entries.set(key, copy);
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  drop(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
