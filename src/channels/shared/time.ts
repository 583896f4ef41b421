/** Monotonic milliseconds. Injectable so tests can drive rate limits and backoff deterministically. */
export type Now = () => number;

/** Resolves after `ms`; rejects with the signal's reason when the caller aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

// performance.now() is monotonic (a wall-clock jump must not shorten a backoff) and exists on every
// runtime this code targets (Node, Deno, Bun, workers).
export const realNow: Now = () => performance.now();

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Node keeps the event loop alive for a pending timer; background sweepers must not. */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer) {
    const unref = (timer as { unref?: () => void }).unref;
    if (typeof unref === 'function') unref.call(timer);
  }
}
