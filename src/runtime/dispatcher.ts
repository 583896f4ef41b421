import { ChatstateError, isChatstateError } from '../errors.js';
import type { CommitEffects, CommittedReply, SessionStore, UserLease } from '../store/session-store.js';
import type { InboxMessage } from '../store/store-inbox.js';
import type { MessageEvent } from '../webhook/events.js';
import { type Bot, botContext, describeEvent } from './bot.js';
import { type Logger, maskUser, silentLogger } from './log.js';
import { noMetrics, type RuntimeMetrics } from './metrics.js';

export interface DispatcherOptions {
  store: SessionStore;
  bot: Bot;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  /** How often to look for inbox entries nobody is processing (crash, outage). Default 2 s; 0 disables. */
  recoveryIntervalMs?: number;
  /** Entries waiting longer than this are picked up by recovery. Default 2 s. */
  recoverAfterMs?: number;
  /** Runs of a failing handler before the message is dead-lettered (logged, counted, dropped). Default 3. */
  maxAttempts?: number;
  /** Receives the replies of every committed transition (the Deliverer). */
  deliver?: (replies: readonly CommittedReply[]) => unknown;
  /**
   * Per-user inbound rate limit, counted atomically in the session: messages over `max` in a
   * fixed window are recorded in history, answered once per window with `notice`, and not
   * given to the bot. Default 30 per minute; null disables.
   */
  rateLimit?: { max: number; windowMs: number; notice: string } | null;
  /**
   * False: `accept` only records into the inbox and nothing is processed here (the `ingest` role:
   * other processes drain the inbox). Needs a store with an inbox. Default true.
   */
  process?: boolean;
}

/** Inbox entries a drain reads at a time. */
const DRAIN_BATCH = 32;

/** Session var holding the rate-limit window: [window start (ms), messages in it, notice sent (0/1)]. */
export const RATE_VAR = '_rate';

// Failures of the store itself: the message stays in the inbox and is retried, never dropped.
const STORE_TROUBLE = new Set([
  'STORE_UNAVAILABLE',
  'STORE_TIMEOUT',
  'STORE_CLOSED',
  'LEASE_BUSY',
  'LEASE_LOST',
]);

/**
 * Moves inbound messages from the webhook into transitions, exactly once and in order per user.
 *
 * With an inbox (SQLite, memory, Redis): `accept` records the messages durably and returns, so the
 * webhook is acknowledged only after that; a drain per user then processes its messages oldest
 * first, each in a transition claimed by the message id (a redelivery is a duplicate), and removes
 * them. Without an inbox (Memcached), `accept` processes before returning. Either way a store
 * failure before the acknowledgement becomes a 503 and the provider redelivers.
 */
export class Dispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'logger' | 'metrics' | 'deliver'>> & {
    log: Logger;
    metrics: RuntimeMetrics;
    deliver: DispatcherOptions['deliver'];
  };
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #lastStoreError: string | null = null;

  constructor(options: DispatcherOptions) {
    this.#o = {
      store: options.store,
      bot: options.bot,
      log: options.logger ?? silentLogger,
      metrics: options.metrics ?? noMetrics,
      recoveryIntervalMs: options.recoveryIntervalMs ?? 2000,
      recoverAfterMs: options.recoverAfterMs ?? 2000,
      maxAttempts: options.maxAttempts ?? 3,
      deliver: options.deliver,
      process: options.process ?? true,
      rateLimit:
        options.rateLimit === undefined
          ? { max: 30, windowMs: 60_000, notice: 'You are sending messages very fast. Please wait a moment.' }
          : options.rateLimit,
    };
    if (!this.#o.process && !this.#o.store.inbox) {
      throw new ChatstateError(
        'CONFIG_INVALID',
        `the ${this.#o.store.driver.name} store has no inbox, so a process that only records messages has nowhere to put them: use the all role, or a sqlite: or redis: store.`,
        { component: 'runtime' },
      );
    }
    if (this.#o.process && this.#o.store.inbox && this.#o.recoveryIntervalMs > 0) {
      this.#timer = setInterval(() => void this.recover(), this.#o.recoveryIntervalMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** True when the store answered the last operation (for /readyz). */
  get storeError(): string | null {
    return this.#lastStoreError;
  }

  /**
   * Records (or, without an inbox, processes) messages. Resolves once they are durable; rejects
   * when the store cannot take them, so the caller answers 503 and the provider redelivers.
   */
  async accept(events: MessageEvent[]): Promise<void> {
    if (events.length === 0) return;
    const inbox = this.#o.store.inbox;
    if (!inbox) return this.#processInline(events);
    const messages: InboxMessage[] = events.map((event) => ({
      id: event.messageId,
      userId: event.userId,
      at: event.timestamp,
      payload: eventJson(event),
    }));
    // A process that only records appends: the processes that drain pick the entries up.
    await this.#storeCall(() => (this.#o.process ? inbox.add(messages) : inbox.append(messages)));
    if (this.#closed || !this.#o.process) return;
    for (const userId of new Set(events.map((e) => e.userId))) this.#schedule(userId);
  }

  /** Looks for users whose messages are waiting with nobody processing them. */
  async recover(): Promise<number> {
    const inbox = this.#o.store.inbox;
    if (!inbox || this.#closed || !this.#o.process) return 0;
    try {
      const users = await this.#storeCall(() => inbox.users(this.#o.recoverAfterMs));
      for (const userId of users) this.#schedule(userId);
      return users.length;
    } catch (error) {
      this.#o.log.warn({ err: (error as Error).message }, 'inbox recovery failed; will retry');
      return 0;
    }
  }

  /** Resolves when no drain is running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  /** Stops recovery and waits for running drains; what is left in the inbox is picked up after restart. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.idle();
  }

  #schedule(userId: string): void {
    if (this.#closed) return;
    if (this.#running.has(userId)) {
      this.#again.add(userId);
      return;
    }
    const run = this.#drain(userId)
      .catch((error) => this.#o.log.error({ user: maskUser(userId), err: String(error) }, 'drain failed'))
      .finally(() => {
        this.#running.delete(userId);
        if (this.#again.delete(userId)) this.#schedule(userId);
      });
    this.#running.set(userId, run);
  }

  /**
   * Processes a user's inbox oldest first under one lease: taking the lease before looking at the
   * inbox is what keeps messages that arrived together (while another worker held the user) in
   * timestamp order.
   */
  async #drain(userId: string): Promise<void> {
    const inbox = this.#o.store.inbox;
    if (!inbox) return;
    try {
      // The common case is one waiting message: its transition takes (Redis) or checks (SQLite)
      // the lease itself, so the drain needs no lease of its own (two writes or round trips less).
      // Several waiting messages are processed under one lease, taken before looking again, which
      // keeps them in timestamp order even if another process starts on this user meanwhile.
      this.#again.delete(userId);
      const waiting = await this.#storeCall(() => inbox.peek(userId, 2));
      if (waiting.length === 0 || this.#closed) return;
      const only = waiting.length === 1 ? waiting[0] : undefined;
      if (only) {
        // Without waiting: if another worker holds the user, more messages may be on their way, and
        // they must be taken together under the lease (below) to keep timestamp order.
        const event = JSON.parse(only.payload) as MessageEvent;
        const done = await this.#process(event, undefined, only.id, false, false);
        if (done !== 'busy') {
          if (done && !done.consumed) await this.#storeCall(() => inbox.remove(userId, [only.id]));
          return;
        }
      }
      await this.#o.store.withLease(userId, async (lease) => {
        for (;;) {
          this.#again.delete(userId);
          const batch = await this.#storeCall(() => inbox.peek(userId, DRAIN_BATCH));
          if (batch.length === 0 || this.#closed) return;
          // A short batch is everything waiting: its last commit may release the lease and remove
          // its entry in the same write. Anything added meanwhile set `#again`, and #schedule
          // starts a new drain (with a new lease) after this one.
          const short = batch.length < DRAIN_BATCH;
          for (const [i, entry] of batch.entries()) {
            const event = JSON.parse(entry.payload) as MessageEvent;
            const last = short && i === batch.length - 1 && !this.#again.has(userId);
            const done = await this.#process(event, lease, entry.id, last);
            if (!done || done === 'busy') return;
            if (!done.consumed) await this.#storeCall(() => inbox.remove(userId, [entry.id]));
            if (done.released) return;
          }
          if (short && !this.#again.has(userId)) return;
        }
      });
    } catch (error) {
      if (!(isChatstateError(error) && STORE_TROUBLE.has(error.code))) throw error;
      this.#lastStoreError = error.message;
      this.#o.log.warn({ user: maskUser(userId), code: error.code }, 'inbox left for recovery');
    }
  }

  async #processInline(events: MessageEvent[]): Promise<void> {
    const byUser = new Map<string, MessageEvent[]>();
    for (const event of events) byUser.set(event.userId, [...(byUser.get(event.userId) ?? []), event]);
    await Promise.all(
      [...byUser.values()].map(async (list) => {
        list.sort((a, b) => a.timestamp - b.timestamp);
        for (const event of list) {
          if (!(await this.#process(event))) throw new Error(this.#lastStoreError ?? 'store unavailable');
        }
      }),
    );
  }

  /**
   * Runs one message's transition. Null when the store failed and the message must stay queued;
   * 'busy' when asked not to wait for another worker's lease; otherwise whether the commit also
   * removed the inbox entry (`consume`) and released the lease.
   */
  async #process(
    event: MessageEvent,
    lease?: UserLease,
    consume?: string,
    release = false,
    waitForLease = true,
  ): Promise<CommitEffects | null | 'busy'> {
    const { store, bot, log, metrics } = this.#o;
    const handled: CommitEffects = { consumed: false, released: false };
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await store.transition(
          event.userId,
          (session) => {
            const ctx = botContext(event, session);
            if (this.#overLimit(ctx)) return;
            return bot(ctx);
          },
          {
            claim: event.messageId,
            ...(lease ? { lease, release } : {}),
            ...(consume === undefined ? {} : { consume }),
            ...(waitForLease ? {} : { waitForLease }),
          },
        );
        this.#lastStoreError = null;
        if (result.status === 'duplicate') metrics.dedupeHit();
        else {
          metrics.activeUser(event.userId);
          if (result.replies.length) this.#o.deliver?.(result.replies);
        }
        metrics.transitionLatency(Math.max(0, Date.now() - event.timestamp) / 1000, result.status);
        return result.status === 'duplicate'
          ? handled
          : { consumed: result.consumed, released: result.released };
      } catch (error) {
        if (!waitForLease && isChatstateError(error) && error.code === 'LEASE_BUSY') return 'busy';
        if (isChatstateError(error) && STORE_TROUBLE.has(error.code)) {
          this.#lastStoreError = error.message;
          log.warn(
            { user: maskUser(event.userId), code: error.code },
            'store unavailable; message stays in the inbox',
          );
          return null;
        }
        metrics.handlerError();
        const fields = {
          user: maskUser(event.userId),
          messageId: event.messageId,
          attempt,
          err: String(error),
        };
        if (attempt >= this.#o.maxAttempts) {
          log.error(fields, 'message dead-lettered after repeated handler failures');
          return handled;
        }
        log.warn(fields, 'handler failed; retrying');
      }
    }
  }

  /**
   * Counts the message in the user's window (inside the transition, so the count is atomic with
   * everything else). Over the limit: record it, answer once per window, skip the bot.
   */
  #overLimit(ctx: ReturnType<typeof botContext>): boolean {
    const limit = this.#o.rateLimit;
    if (!limit) return false;
    const { session, event } = ctx;
    const now = Date.now();
    const raw = session.vars[RATE_VAR];
    const [start = 0, count = 0, noticed = 0] = Array.isArray(raw) ? (raw as number[]) : [];
    const fresh = now - start >= limit.windowMs;
    const next = fresh ? [now, 1, 0] : [start, count + 1, noticed];
    const over = (next[1] as number) > limit.max;
    if (over) {
      session.remember({ dir: 'in', at: event.timestamp, text: describeEvent(event) });
      if (!next[2]) {
        ctx.reply({ type: 'text', text: limit.notice });
        next[2] = 1;
      }
      this.#o.log.info(
        { user: maskUser(event.userId) },
        'inbound rate limit: message recorded, not processed',
      );
    }
    session.set(RATE_VAR, next);
    return over;
  }

  async #storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const value = await fn();
      this.#lastStoreError = null;
      return value;
    } catch (error) {
      this.#lastStoreError = (error as Error).message;
      throw error;
    }
  }
}

/**
 * The event as the inbox stores it: without `raw` (the provider's original item, kept on the event
 * for the bot but not worth storing twice). `raw` is unset for the synchronous stringify and put
 * back, instead of copying the event's dozen fields into a new object per message.
 */
function eventJson(event: MessageEvent): string {
  const raw = event.raw;
  event.raw = undefined;
  try {
    return JSON.stringify(event);
  } finally {
    event.raw = raw;
  }
}
