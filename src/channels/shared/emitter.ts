/** A minimal typed event emitter (no `node:events`: this code must run on edge runtimes). */
export class Emitter<E extends { type: string }> {
  readonly #listeners = new Map<string, Set<(event: E) => void>>();
  readonly #catchAll: ((event: E) => void) | undefined;
  readonly #onListenerError: (error: unknown) => void;

  constructor(catchAll: ((event: E) => void) | undefined, onListenerError: (error: unknown) => void) {
    this.#catchAll = catchAll;
    this.#onListenerError = onListenerError;
  }

  /** True when someone listens, so callers skip building event objects on the hot path otherwise. */
  wants(type: E['type']): boolean {
    return this.#catchAll !== undefined || (this.#listeners.get(type)?.size ?? 0) > 0;
  }

  on<T extends E['type']>(type: T, listener: (event: Extract<E, { type: T }>) => void): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    const entry = listener as (event: E) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit(event: E): void {
    // A throwing listener must never turn a delivered message into a failed send.
    if (this.#catchAll !== undefined) this.#call(this.#catchAll, event);
    const set = this.#listeners.get(event.type);
    if (set !== undefined) for (const listener of set) this.#call(listener, event);
  }

  #call(listener: (event: E) => void, event: E): void {
    try {
      listener(event);
    } catch (error) {
      this.#onListenerError(error);
    }
  }
}
