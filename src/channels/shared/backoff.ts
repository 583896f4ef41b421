/**
 * Exponential backoff with "full jitter": a uniformly random wait in [0, min(cap, base * 2^attempt)).
 * Full jitter spreads the retries of many senders that failed at the same moment (a provider blip
 * hits every in-flight send at once), so they do not come back as one synchronized wave.
 */
export function fullJitter(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * How long the server asked us to wait, from `Retry-After` (seconds or an HTTP date) or a
 * `X-RateLimit-Reset` epoch-seconds header. Undefined when neither says anything usable.
 */
export function serverRetryAfterMs(headers: Headers, epochNowMs: number = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - epochNowMs);
  }
  const reset = headers.get('x-ratelimit-reset');
  if (reset !== null) {
    const epochSeconds = Number(reset);
    if (Number.isFinite(epochSeconds) && epochSeconds > 0)
      return Math.max(0, epochSeconds * 1000 - epochNowMs);
  }
  return undefined;
}
