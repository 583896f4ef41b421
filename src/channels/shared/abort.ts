/**
 * Settles with `promise`, or rejects with the signal's reason as soon as the caller aborts. Used for
 * sends queued behind another message (a pair backoff can last minutes): the caller gets its
 * answer at once, and the queued task sees the aborted signal and ends without sending.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  // The raced promise still settles later; its outcome is no longer anyone's concern.
  const silence = () => {
    promise.catch(() => {});
  };
  if (signal.aborted) {
    silence();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      silence();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
