import type { MessageEvent } from '../webhook/events.js';
import { replyEnvelope } from './bot.js';
import { type Logger, maskUser, silentLogger } from './log.js';
import type { Channels } from './outbound.js';

export interface FallbackOptions {
  channels: Channels;
  /** What the user hears while the store is down. */
  text: string;
  /** At most one fallback per user per window. Default 5 minutes. */
  windowMs?: number;
  log?: Logger;
  count?: () => void;
}

/**
 * The reply a user gets when the store is down: sent straight through the channel, without a
 * session, at most once per user per outage window. The message itself is not lost: the delivery
 * was refused with 503 and the provider redelivers it.
 */
export function createFallback(options: FallbackOptions): (messages: readonly MessageEvent[]) => void {
  const windowMs = options.windowMs ?? 300_000;
  const log = options.log ?? silentLogger;
  const lastSent = new Map<string, number>();
  return (messages) => {
    const now = Date.now();
    for (const [userId, at] of lastSent) if (now - at >= windowMs) lastSent.delete(userId);
    for (const event of messages) {
      if (lastSent.has(event.userId)) continue;
      lastSent.set(event.userId, now);
      const envelope = replyEnvelope(event, { type: 'text', text: options.text });
      const channel = options.channels[envelope.channel];
      if (!channel) continue;
      options.count?.();
      channel
        .send(envelope, `fallback:${event.messageId}`)
        .catch((error) =>
          log.warn({ user: maskUser(event.userId), err: String(error) }, 'fallback reply failed'),
        );
    }
  };
}
