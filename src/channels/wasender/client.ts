import { ChatstateError } from '../../errors.js';
import { maskUser } from '../../runtime/log.js';
import { abortable } from '../shared/abort.js';
import { fullJitter, serverRetryAfterMs } from '../shared/backoff.js';
import { Emitter } from '../shared/emitter.js';
import { type HttpOutcome, JsonTransport } from '../shared/http.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import { realNow, realSleep } from '../shared/time.js';
import { WindowLimiter } from '../shared/window-limiter.js';
import type { ReplyMetrics } from '../whatsapp-cloud/types.js';
import { classifyStatus, readErrorBody, WasenderApiError, type WasenderClassification } from './errors.js';
import type {
  WasenderClient,
  WasenderClientOptions,
  WasenderEvent,
  WasenderSendRequest,
  WasenderSendResult,
} from './types.js';
import { validateWasender, wasenderBody } from './validate.js';

export const DEFAULT_WASENDER_BASE_URL = 'https://www.wasenderapi.com/api';

const noMetrics: ReplyMetrics = { sent() {}, failed() {}, retried() {}, throttled() {} };

function option(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new ChatstateError('CONFIG_INVALID', `options.${name} must be a number >= 0.`, {
      component: 'wasender',
    });
  }
  return value;
}

function classify(outcome: HttpOutcome): WasenderClassification {
  if (outcome.kind === 'timeout') return { code: 'REPLY_TIMEOUT', retry: true, reason: 'timeout' };
  if (outcome.kind === 'network') return { code: 'REPLY_UNAVAILABLE', retry: true, reason: 'network' };
  return classifyStatus(outcome.status);
}

/** `{ success: true, data: { msgId, jid, status } }` */
function readResult(json: unknown, attempts: number): WasenderSendResult | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { success, data } = json as { success?: unknown; data?: { msgId?: unknown; status?: unknown } };
  if (success !== true || typeof data !== 'object' || data === null) return undefined;
  const id = data.msgId;
  if (typeof id !== 'number' && typeof id !== 'string') return undefined;
  return {
    messageId: String(id),
    status: typeof data.status === 'string' ? data.status : undefined,
    attempts,
  };
}

/**
 * Creates a WASenderApi send-message client (fetch only: runs on edge runtimes). Messages to one
 * recipient go out in call order; a 429 pauses every send of this API key for as long as the
 * server asks (Retry-After / X-RateLimit-Reset), so the plan limit is waited out, not failed.
 */
export function createWasenderClient(options: WasenderClientOptions): WasenderClient {
  if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
    throw new ChatstateError('CONFIG_INVALID', 'options.apiKey is empty: pass the session’s API key.', {
      component: 'wasender',
    });
  }
  const baseUrl = (options.baseUrl ?? DEFAULT_WASENDER_BASE_URL).replace(/\/+$/, '');
  const url = `${baseUrl}/send-message`;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? realNow;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const metrics = options.metrics ?? noMetrics;
  const maxRetries = option('maxRetries', options.maxRetries, 4);
  const retryBaseMs = option('retryBaseMs', options.retryBaseMs, 500);
  const maxBackoffMs = option('maxBackoffMs', options.maxBackoffMs, 30_000);
  const maxRetryAfterMs = option('maxRetryAfterMs', options.maxRetryAfterMs, 120_000);
  const transport = new JsonTransport(fetchFn, option('timeoutMs', options.timeoutMs, 15_000), now);
  const headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };
  const limiter = new WindowLimiter(options.rate?.limit ?? 0, options.rate?.windowMs ?? 1000, now, sleep);
  const chats = new KeyedQueue<undefined>(() => undefined);
  const emitter = new Emitter<WasenderEvent>(options.onEvent, () => {});

  async function deliver(
    request: WasenderSendRequest,
    kind: string,
    body: string,
  ): Promise<WasenderSendResult> {
    const { to, entryId, signal } = request;
    let attempts = 0;
    for (;;) {
      let slot = limiter.take();
      if (typeof slot !== 'number') {
        metrics.throttled();
        if (emitter.wants('throttled'))
          emitter.emit({ type: 'throttled', kind, to, entryId, queued: limiter.queued });
        slot = await slot;
      }
      attempts++;
      let outcome: HttpOutcome;
      try {
        outcome = await transport.post(url, headers, body, signal);
      } finally {
        limiter.settle(slot);
      }
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        const result = readResult(outcome.json, attempts);
        if (result !== undefined) return result;
      }
      const c: WasenderClassification =
        outcome.kind === 'response' && outcome.status < 300
          ? { code: 'REPLY_REJECTED', retry: false, reason: 'bad_response' }
          : classify(outcome);
      if (c.retry && attempts <= maxRetries) {
        const hinted = outcome.kind === 'response' ? serverRetryAfterMs(outcome.headers) : undefined;
        const delayMs =
          hinted !== undefined
            ? Math.min(hinted, maxRetryAfterMs)
            : fullJitter(attempts - 1, retryBaseMs, maxBackoffMs, random);
        // A 429 is about the API key, not this message: hold every send back, not just this one.
        if (outcome.kind === 'response' && outcome.status === 429) limiter.pause(now() + delayMs);
        metrics.retried(c.reason);
        if (emitter.wants('retry')) {
          emitter.emit({ type: 'retry', kind, to, entryId, reason: c.reason, attempt: attempts, delayMs });
        }
        await sleep(delayMs, signal);
        continue;
      }
      const responseBody = outcome.kind === 'response' ? readErrorBody(outcome.json) : undefined;
      throw new WasenderApiError(
        c.code,
        {
          kind,
          maskedTo: maskUser(to),
          entryId,
          attempts,
          httpStatus: outcome.kind === 'response' ? outcome.status : undefined,
          body: responseBody,
          reason: c.reason,
          retryable: c.retry,
        },
        outcome.kind === 'network' ? outcome.error : undefined,
      );
    }
  }

  function report(request: WasenderSendRequest, kind: string, error: unknown): never {
    if (error instanceof ChatstateError) {
      metrics.failed(
        error instanceof WasenderApiError
          ? error.reason
          : error.code === 'REPLY_INVALID'
            ? 'invalid'
            : error.code,
      );
      if (emitter.wants('error'))
        emitter.emit({ type: 'error', kind, to: request.to, entryId: request.entryId, error });
    }
    throw error;
  }

  async function send(request: WasenderSendRequest): Promise<WasenderSendResult> {
    const kind = typeof request.message?.type === 'string' ? request.message.type : 'unknown';
    try {
      validateWasender(request.to, request.message);
    } catch (error) {
      report(request, kind, error);
    }
    const body = JSON.stringify(wasenderBody(request.to, request.message));
    const queued = chats.run(request.to.replace(/^\+/, ''), async () => {
      if (request.signal?.aborted) throw request.signal.reason;
      try {
        const result = await deliver(request, kind, body);
        metrics.sent(kind);
        if (emitter.wants('sent')) {
          const { to, entryId } = request;
          emitter.emit({
            type: 'sent',
            kind,
            to,
            entryId,
            messageId: result.messageId,
            attempts: result.attempts,
          });
        }
        return result;
      } catch (error) {
        return report(request, kind, error);
      }
    });
    return abortable(queued, request.signal);
  }

  return { send, on: (type, listener) => emitter.on(type, listener), baseUrl };
}
