import { type ChatstateError, isChatstateError } from '../errors.js';
import { KeyedQueue } from '../store/keyed-queue.js';
import type { CommittedReply, SessionStore } from '../store/session-store.js';
import type { StatusEvent } from '../webhook/events.js';
import { type Logger, maskUser, silentLogger } from './log.js';
import type { Channels, OutboundEnvelope } from './outbound.js';

/** A delivery the bot may want to react to (window closed: send a template; token expired...). */
export interface DeliveryEvent {
  type: 'sent' | 'failed';
  entryId: string;
  userId: string;
  providerId?: string;
  error?: ChatstateError;
}

export interface DelivererOptions {
  store: SessionStore;
  channels: Channels;
  log?: Logger;
  /** Pending replies older than this are re-sent by recovery (a crash between commit and delivery). Default 5 min. */
  retryAfterMs?: number;
  /** How often recovery looks. Default 10 s; 0 disables. */
  recoveryIntervalMs?: number;
  /** Sends per reply (across recoveries) before it is marked failed. Default 5. */
  maxAttempts?: number;
  onEvent?: (event: DeliveryEvent) => void;
  /** Counts deliveries (`sent`, `failed`) by outcome. */
  count?: (outcome: 'sent' | 'failed' | 'retry') => void;
}

// The client retried these already; the failure is about this message and will not change.
const FINAL = new Set(['REPLY_INVALID', 'REPLY_REJECTED', 'REPLY_WINDOW_CLOSED', 'REPLY_UNDELIVERABLE']);

/**
 * Delivers replies after their transition committed: in order per user, each outbox entry marked
 * sent (with the provider's message id) or failed, and updated later by status webhooks. A reply
 * left pending by a crash is re-sent by recovery; in the normal path a reply is sent once.
 */
export class Deliverer {
  readonly #o: Required<Omit<DelivererOptions, 'onEvent' | 'count' | 'log'>> &
    DelivererOptions & { log: Logger };
  readonly #queue = new KeyedQueue();
  readonly #inFlight = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: DelivererOptions) {
    this.#o = {
      retryAfterMs: 300_000,
      recoveryIntervalMs: 10_000,
      maxAttempts: 5,
      ...options,
      log: options.log ?? silentLogger,
    };
    if (this.#o.store.outbox && this.#o.recoveryIntervalMs > 0) {
      this.#timer = setInterval(() => void this.recover(), this.#o.recoveryIntervalMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Schedules committed replies; returns when they are delivered (callers need not wait). */
  deliver(replies: readonly CommittedReply[]): Promise<void> {
    return Promise.all(
      replies.map((r) => this.#schedule(r.id, r.userId, r.envelope as OutboundEnvelope, 0, r.durable)),
    ).then(() => {});
  }

  /** Re-sends replies left pending (crash between commit and delivery, provider outage). */
  async recover(): Promise<number> {
    const outbox = this.#o.store.outbox;
    if (!outbox) return 0;
    try {
      const pending = await outbox.pending(this.#o.retryAfterMs);
      const fresh = pending.filter((e) => !this.#inFlight.has(e.id));
      await Promise.all(
        fresh.map((e) => this.#schedule(e.id, e.userId, JSON.parse(e.payload), e.attempts, true)),
      );
      return fresh.length;
    } catch (error) {
      this.#o.log.warn({ err: (error as Error).message }, 'outbox recovery failed; will retry');
      return 0;
    }
  }

  /** Applies a status webhook (delivered, read, failed) to the outbox entry it belongs to. */
  async status(event: StatusEvent): Promise<void> {
    const outbox = this.#o.store.outbox;
    if (!outbox || !['delivered', 'read', 'failed'].includes(event.status)) return;
    const entry = await outbox.byProviderId(event.messageId);
    if (!entry) return;
    const error = event.errors[0];
    await outbox.update(entry.id, {
      state: event.status as 'delivered' | 'read' | 'failed',
      ...(error ? { error: `${error.code}: ${error.title}` } : {}),
    });
  }

  async idle(): Promise<void> {
    await this.#queue.drain();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.idle();
  }

  #schedule(
    id: string,
    userId: string,
    envelope: OutboundEnvelope,
    attempts: number,
    durable: boolean,
  ): Promise<void> {
    this.#inFlight.add(id);
    return this.#queue
      .run(userId, () => this.#send(id, userId, envelope, attempts, durable))
      .finally(() => this.#inFlight.delete(id));
  }

  async #send(
    id: string,
    userId: string,
    envelope: OutboundEnvelope,
    attempts: number,
    durable: boolean,
  ): Promise<void> {
    const { store, log } = this.#o;
    const outbox = durable ? store.outbox : null;
    const channel = this.#o.channels[envelope.channel];
    const attempt = attempts + 1;
    try {
      if (!channel) throw new Error(`no ${envelope.channel} channel is configured`);
      const { providerId } = await channel.send(envelope, id);
      await outbox?.update(id, { state: 'sent', attempts: attempt, providerId });
      this.#o.count?.('sent');
      this.#o.onEvent?.({ type: 'sent', entryId: id, userId, providerId });
    } catch (error) {
      const code = isChatstateError(error) ? error.code : 'ERROR';
      const final = FINAL.has(code) || attempt >= this.#o.maxAttempts || !outbox;
      log.warn({ user: maskUser(userId), entryId: id, code, attempt, final }, 'reply delivery failed');
      await outbox
        ?.update(id, {
          state: final ? 'failed' : 'pending',
          attempts: attempt,
          error: `${code}: ${(error as Error).message}`,
        })
        .catch(() => {});
      this.#o.count?.(final ? 'failed' : 'retry');
      if (final && isChatstateError(error)) this.#o.onEvent?.({ type: 'failed', entryId: id, userId, error });
    }
  }
}
