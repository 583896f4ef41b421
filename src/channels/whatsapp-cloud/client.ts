import { ChatstateError } from '../../errors.js';
import { maskUser } from '../../runtime/log.js';
import { abortable } from '../shared/abort.js';
import { fullJitter, serverRetryAfterMs } from '../shared/backoff.js';
import { Emitter } from '../shared/emitter.js';
import { type HttpOutcome, JsonTransport } from '../shared/http.js';
import { markReadBody, messageBody, readSendResult } from './body.js';
import { CloudApiError, classifyOutcome } from './errors.js';
import { createPairQueues, type PairState, pairBackoffMs, pairKey, SenderLimiters } from './rate-limit.js';
import { resolveSettings } from './settings.js';
import type {
  CloudApiClient,
  CloudApiClientOptions,
  CloudApiEvent,
  MarkReadRequest,
  SendRequest,
  SendResult,
} from './types.js';
import { validateMessage, validateRecipient } from './validate.js';

interface Job {
  from: string;
  to: string | undefined;
  kind: string;
  entryId: string | undefined;
  signal: AbortSignal | undefined;
  url: string;
  body: string;
  /** Present for messages to a user (pair-limited); absent for mark-as-read. */
  pair: PairState | undefined;
}

/** Creates a WhatsApp Cloud API (Graph API) reply client. Uses only `fetch`: runs on edge runtimes. */
export function createCloudApiClient(options: CloudApiClientOptions): CloudApiClient {
  const {
    baseUrl,
    fetch: fetchFn,
    now,
    sleep,
    random,
    metrics,
    maxRetries,
    retryBaseMs,
    maxBackoffMs,
    pairInterval,
    pairUnitMs,
    maxPairRetries,
    timeoutMs,
    rate,
  } = resolveSettings(options);
  const transport = new JsonTransport(fetchFn, timeoutMs, now);
  const headers = { authorization: `Bearer ${options.accessToken}`, 'content-type': 'application/json' };
  const pairs = createPairQueues(now);
  const senders = new SenderLimiters(rate, now, sleep);
  const emitter = new Emitter<CloudApiEvent>(options.onEvent, () => {});

  function sender(from: string | undefined): string {
    const id = from ?? options.phoneNumberId;
    if (typeof id !== 'string' || id.length === 0) {
      throw new ChatstateError('INVALID_ARGUMENT', 'no sender: pass `from` or set options.phoneNumberId.', {
        component: 'whatsapp-cloud',
      });
    }
    return id;
  }

  async function deliver(job: Job): Promise<{ json: unknown; attempts: number }> {
    const limiter = senders.get(job.from);
    let attempts = 0;
    let retries = 0;
    for (;;) {
      if (job.pair !== undefined && job.pair.notBefore > now())
        await sleep(job.pair.notBefore - now(), job.signal);
      let slot = limiter.take();
      if (typeof slot !== 'number') {
        metrics.throttled();
        if (emitter.wants('throttled')) {
          const { from, to = '', kind, entryId } = job;
          emitter.emit({ type: 'throttled', from, to, kind, entryId, queued: limiter.queued });
        }
        slot = await slot;
      }
      attempts++;
      let outcome: HttpOutcome;
      try {
        outcome = await transport.post(job.url, headers, job.body, job.signal);
      } finally {
        limiter.settle(slot);
      }
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        if (job.pair !== undefined) {
          job.pair.strikes = 0;
          job.pair.notBefore = pairInterval > 0 ? now() + pairInterval : 0;
        }
        return { json: outcome.json, attempts };
      }
      const { c, graph, status } = classifyOutcome(outcome);
      if (c.policy === 'pair' && job.pair !== undefined) {
        // 131056 does not spend maxRetries: the message waits its turn, it is not failing.
        if (job.pair.strikes < maxPairRetries) {
          const delayMs = pairBackoffMs(job.pair.strikes, pairUnitMs);
          job.pair.strikes++;
          job.pair.notBefore = now() + delayMs;
          metrics.retried(c.reason);
          if (emitter.wants('pair-backoff')) {
            const { from, to = '', kind, entryId } = job;
            emitter.emit({
              type: 'pair-backoff',
              from,
              to,
              kind,
              entryId,
              strikes: job.pair.strikes,
              delayMs,
            });
          }
          continue;
        }
        job.pair.strikes = 0;
      } else if (c.policy !== 'none' && retries < maxRetries) {
        const hinted = outcome.kind === 'response' ? serverRetryAfterMs(outcome.headers) : undefined;
        const delayMs = hinted ?? fullJitter(retries, retryBaseMs, maxBackoffMs, random);
        retries++;
        // Throughput errors concern the whole number: hold its other sends back too.
        if (c.reason === '130429' || status === 429) limiter.pause(now() + delayMs);
        metrics.retried(c.reason);
        if (emitter.wants('retry')) {
          const { from, to = '', kind, entryId } = job;
          emitter.emit({
            type: 'retry',
            from,
            to,
            kind,
            entryId,
            reason: c.reason,
            attempt: attempts,
            delayMs,
          });
        }
        await sleep(delayMs, job.signal);
        continue;
      }
      const retryable =
        c.code === 'REPLY_RATE_LIMITED' || c.code === 'REPLY_UNAVAILABLE' || c.code === 'REPLY_TIMEOUT';
      const maskedTo = job.to === undefined ? undefined : maskUser(job.to);
      const facts = { kind: job.kind, maskedTo, entryId: job.entryId, attempts, retryable, reason: c.reason };
      const cause = outcome.kind === 'network' ? outcome.error : undefined;
      throw new CloudApiError(c.code, { ...facts, httpStatus: status, graph }, cause);
    }
  }

  function report(job: Job, error: unknown): never {
    if (error instanceof ChatstateError) {
      const reason =
        error instanceof CloudApiError
          ? error.reason
          : error.code === 'REPLY_INVALID'
            ? 'invalid'
            : error.code;
      metrics.failed(reason);
      if (emitter.wants('error')) {
        const { from, to = '', kind, entryId } = job;
        emitter.emit({ type: 'error', from, to, kind, entryId, error });
      }
    }
    throw error;
  }

  async function send(request: SendRequest): Promise<SendResult> {
    const from = sender(request.from);
    const kind = typeof request.message?.type === 'string' ? request.message.type : 'unknown';
    const job: Job = {
      from,
      to: request.to,
      kind,
      entryId: request.entryId,
      signal: request.signal,
      url: `${baseUrl}/${encodeURIComponent(from)}/messages`,
      body: '',
      pair: undefined,
    };
    try {
      validateRecipient(request.to);
      validateMessage(request.message);
    } catch (error) {
      report(job, error);
    }
    // Serialized once: retries resend the same bytes.
    job.body = JSON.stringify(messageBody(request.to, request.message, request.replyTo));
    const queued = pairs.run(pairKey(from, request.to), async (pair) => {
      job.pair = pair;
      if (request.signal?.aborted) throw request.signal.reason;
      try {
        const { json, attempts } = await deliver(job);
        const result = readSendResult(json, attempts);
        if (result === undefined) {
          throw new CloudApiError('REPLY_REJECTED', {
            kind,
            maskedTo: maskUser(request.to),
            entryId: request.entryId,
            attempts,
            retryable: false,
            reason: 'bad_response',
          });
        }
        metrics.sent(kind);
        if (emitter.wants('sent')) {
          const { messageId } = result;
          emitter.emit({
            type: 'sent',
            from,
            to: request.to,
            kind,
            entryId: request.entryId,
            messageId,
            attempts,
          });
        }
        return result;
      } catch (error) {
        return report(job, error);
      }
    });
    return abortable(queued, request.signal);
  }

  async function markRead(request: MarkReadRequest): Promise<void> {
    const from = sender(request.from);
    const job: Job = {
      from,
      to: undefined,
      kind: request.typing ? 'typing' : 'read',
      entryId: request.entryId,
      signal: request.signal,
      url: `${baseUrl}/${encodeURIComponent(from)}/messages`,
      body: '',
      pair: undefined,
    };
    if (typeof request.messageId !== 'string' || request.messageId.length === 0) {
      report(
        job,
        new ChatstateError('REPLY_INVALID', 'messageId is empty.', { component: 'whatsapp-cloud' }),
      );
    }
    job.body = JSON.stringify(markReadBody(request.messageId, request.typing === true));
    try {
      await deliver(job);
    } catch (error) {
      report(job, error);
    }
  }

  return {
    send,
    markRead,
    on: (type, listener) => emitter.on(type, listener),
    baseUrl,
  };
}
