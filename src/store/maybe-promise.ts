/**
 * A value now, or later. The transition path uses it to skip `await` on values that are already
 * there: every `await` costs a microtask turn even on a plain value, and a transition on the
 * synchronous SQLite driver would otherwise take about ten of them for no I/O at all.
 */
export type MaybePromise<T> = T | Promise<T>;

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
