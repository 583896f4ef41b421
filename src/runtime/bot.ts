import type { WasenderMessage } from '../channels/wasender/types.js';
import type { CloudMessage } from '../channels/whatsapp-cloud/types.js';
import type { SessionDraft } from '../session/draft.js';
import type { Vars } from '../session/types.js';
import type { MessageEvent } from '../webhook/events.js';
import type { OutboundEnvelope } from './outbound.js';

/** What a bot sees for one inbound message, inside the user's transition. */
export interface BotContext<V extends Vars = Vars> {
  event: MessageEvent;
  session: SessionDraft<V>;
  /**
   * Replies to the sender on the channel the message came from. The reply goes to the outbox of
   * this transition: sent after the commit, never if the transition fails.
   */
  reply(message: CloudMessage | WasenderMessage, options?: { quote?: boolean }): void;
}

/** The reply envelope for a message event: same provider, same business number, back to the sender. */
export function replyEnvelope(
  event: MessageEvent,
  message: CloudMessage | WasenderMessage,
  options: { quote?: boolean } = {},
): OutboundEnvelope {
  const to = event.waId ?? event.userId;
  if (event.provider === 'wasender') {
    return {
      channel: 'wasender',
      from: event.businessPhoneNumberId,
      to,
      message: message as WasenderMessage,
    };
  }
  return {
    channel: 'cloud',
    from: event.businessPhoneNumberId,
    to,
    message: message as CloudMessage,
    ...(options.quote ? { replyTo: event.messageId } : {}),
  };
}

export function botContext<V extends Vars>(event: MessageEvent, session: SessionDraft<V>): BotContext<V> {
  return {
    event,
    session,
    reply: (message, options) => void session.send(replyEnvelope(event, message, options)),
  };
}

/**
 * A bot handles one message of one user at a time, inside a transition: every change it makes to
 * `session` is committed atomically, once, after it returns. Throwing commits nothing.
 */
export type Bot<V extends Vars = Vars> = (context: BotContext<V>) => void | Promise<void>;

/** A short text form of any inbound message, for the recent-messages history. */
export function describeEvent(event: MessageEvent): string {
  switch (event.kind) {
    case 'text':
      return event.text;
    case 'button_reply':
    case 'list_reply':
      return event.title;
    case 'template_button':
      return event.text;
    case 'media':
      return event.caption ?? `[${event.mediaType}]`;
    case 'location':
      return event.name ?? `[location ${event.lat},${event.lng}]`;
    case 'reaction':
      return event.emoji ?? '[reaction removed]';
    default:
      return `[${event.kind}]`;
  }
}

/**
 * The bot `chatstate serve` runs when no bot module is given: it remembers every message in the
 * user's history and counts them, which makes the store's behaviour visible in /admin and tests.
 */
export const rememberBot: Bot = ({ event, session }) => {
  if (event.kind === 'media') {
    session.remember({
      dir: 'in',
      at: event.timestamp,
      media: { kind: event.mediaType, id: event.mediaId, mime: event.mimeType },
    });
  } else {
    session.remember({ dir: 'in', at: event.timestamp, text: describeEvent(event) });
  }
  session.incr('messages');
};
