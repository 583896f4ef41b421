import { type Now, unrefTimer } from './time.js';

/** What one HTTP attempt produced, classified so each client's retry policy stays a small switch. */
export type HttpOutcome =
  | { kind: 'response'; status: number; headers: Headers; json: unknown; text: string }
  | { kind: 'network'; error: unknown }
  | { kind: 'timeout' };

interface InFlight {
  deadline: number;
  controller: AbortController;
  timedOut: boolean;
}

const TIMED_OUT = 'chatstate: request timed out';

/**
 * POSTs JSON with a per-request timeout. Timeouts are enforced by one sweeper shared by all
 * in-flight requests (it runs only while something is in flight) instead of a timer per request,
 * so a client doing thousands of sends a second does not create thousands of timers.
 */
export class JsonTransport {
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #now: Now;
  readonly #inFlight = new Set<InFlight>();
  readonly #resolutionMs: number;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(fetchFn: typeof fetch, timeoutMs: number, now: Now) {
    this.#fetch = fetchFn;
    this.#timeoutMs = timeoutMs;
    this.#now = now;
    // A deadline fires at most one resolution late: 10% of the timeout, between 10 ms and 1 s.
    this.#resolutionMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10)));
  }

  /** Posts `body` (already serialized, so retries reuse it). Rethrows the caller's abort reason. */
  async post(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal?: AbortSignal,
  ): Promise<HttpOutcome> {
    if (signal?.aborted) throw signal.reason;
    const entry: InFlight = {
      deadline: this.#now() + this.#timeoutMs,
      controller: new AbortController(),
      timedOut: false,
    };
    const onAbort = () => entry.controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#track(entry);
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: entry.controller.signal,
      });
      // The deadline covers the body too: a server can send headers and then stall.
      const text = await response.text();
      return {
        kind: 'response',
        status: response.status,
        headers: response.headers,
        json: parseJson(text),
        text,
      };
    } catch (error) {
      if (entry.timedOut) return { kind: 'timeout' };
      if (signal?.aborted) throw signal.reason;
      return { kind: 'network', error };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#untrack(entry);
    }
  }

  #track(entry: InFlight): void {
    this.#inFlight.add(entry);
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.#sweep(), this.#resolutionMs);
      unrefTimer(this.#sweeper);
    }
  }

  #untrack(entry: InFlight): void {
    this.#inFlight.delete(entry);
  }

  #sweep(): void {
    // The sweeper stops itself on an idle tick rather than when the last request ends: with a fast
    // server every send would otherwise go 0 -> 1 -> 0 in flight and start a fresh interval.
    if (this.#inFlight.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      return;
    }
    const now = this.#now();
    for (const entry of this.#inFlight) {
      if (!entry.timedOut && now >= entry.deadline) {
        entry.timedOut = true;
        entry.controller.abort(new Error(TIMED_OUT));
      }
    }
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
