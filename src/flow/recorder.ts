import { extend } from '../extend.js';
import { SessionDraft } from '../session/draft.js';
import type { HistoryEntry, JsonValue, Vars } from '../session/types.js';
import { FlowError } from './errors.js';

type Op = (draft: SessionDraft) => unknown;

/** Engine variables a "clear session" keeps: the dispatcher's inbound rate window (else `reset` would dodge it). */
const KEPT_ON_CLEAR = ['_rate'];

/**
 * A scratch copy of the session that a step's handlers read and write. Each write is applied to
 * the scratch copy at once (so handlers read their own writes) and recorded; `applyTo` replays the
 * records on the transition's real draft only when the whole step succeeded. A failed or
 * timed-out step is discarded as a whole: the real draft never saw any of it.
 *
 * Replaying the same calls (rather than copying a computed state) keeps their meaning: `incr`
 * stays an atomic increment in the committed patch, `clear` stays a reset.
 */
export class Recorder {
  readonly #real: SessionDraft;
  readonly #scratch: SessionDraft;
  readonly #ops: Op[] = [];
  #closed = false;
  /** Messages this step recorded to send, and the options of the last interactive one. */
  sent = 0;

  constructor(real: SessionDraft) {
    this.#real = real;
    // A deep copy: a handler mutating what it read (ctx.vars.cart.push) must not reach the
    // loaded session, which the store may still encode.
    const view = structuredClone(real.preview());
    this.#scratch = new SessionDraft(extend(view, { version: real.version }), {
      now: Date.now(),
      ttlMs: null,
      historyLimit: real.toPatch()?.historyLimit ?? Number.POSITIVE_INFINITY,
      expired: null,
    });
  }

  get flow(): string | null {
    return this.#scratch.flow;
  }
  get node(): string | null {
    return this.#scratch.node;
  }
  get prevNode(): string | null {
    return this.#scratch.prevNode;
  }
  get retries(): number {
    return this.#scratch.retries;
  }
  get vars(): Readonly<Vars> {
    return this.#scratch.vars as Vars;
  }
  get history(): readonly HistoryEntry[] {
    return this.#scratch.history;
  }

  set(key: string, value: JsonValue | undefined): void {
    // Copied once, so later changes to the caller's object change neither the step nor the commit.
    const copy = value === undefined ? undefined : structuredClone(value);
    this.#do((d) => (copy === undefined ? d.unset(key) : d.set(key, copy)));
  }
  unset(key: string): void {
    this.#do((d) => d.unset(key));
  }
  incr(key: string, by = 1): number {
    return this.#do((d) => d.incr(key, by));
  }
  setFlow(flow: string | null): void {
    this.#do((d) => d.setFlow(flow));
  }
  goto(node: string | null): void {
    this.#do((d) => d.goto(node));
  }
  resetRetries(): void {
    this.#do((d) => d.resetRetries());
  }
  remember(entry: Omit<HistoryEntry, 'at'>): void {
    const at = Date.now();
    this.#do((d) => d.remember(extend(entry, { at })));
  }
  send(envelope: object): void {
    this.sent++;
    this.#do((d) => d.send(envelope));
  }
  clear(): void {
    const kept = KEPT_ON_CLEAR.flatMap((key) => {
      const value = this.#scratch.vars[key];
      return value === undefined ? [] : [[key, value] as const];
    });
    this.#do((d) => d.clear());
    for (const [key, value] of kept) this.set(key, value);
  }

  /** Replays the step on the real draft. After this (or `close`) the recorder refuses writes. */
  applyTo(): void {
    this.close();
    for (const op of this.#ops) op(this.#real);
  }

  /** Ends the step without applying it: late writes from a runaway handler fail loudly. */
  close(): void {
    this.#closed = true;
  }

  #do<R>(op: (draft: SessionDraft) => R): R {
    if (this.#closed) {
      throw new FlowError(
        'FLOW_STEP_CLOSED',
        'the step this context belongs to has ended (it timed out, failed, or its handler returned before an un-awaited promise wrote): await everything a handler does.',
      );
    }
    const result = op(this.#scratch);
    this.#ops.push(op);
    return result;
  }
}
