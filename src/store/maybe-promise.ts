/**
 * A value now, or later. The transition path uses it to skip `await` on values that are already
 * there: every `await` costs a microtask turn even on a plain value, and a transition on the
 * synchronous SQLite driver would otherwise take about ten of them for no I/O at all.
 */
export type MaybePromise<T> = T | PromiseLike<T>;

export function isPromise<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * `fn(value)` at once when `value` is there, else when it resolves. Any thenable is adopted as
 * `await` would adopt it (a handler may return one that is not a native promise).
 */
export function andThen<T, U>(value: MaybePromise<T>, fn: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? Promise.resolve(value).then(fn) : fn(value);
}
