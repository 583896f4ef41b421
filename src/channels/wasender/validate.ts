import { ChatstateError } from '../../errors.js';
import type { WasenderMessage } from './types.js';

function invalid(field: string, problem: string): never {
  throw new ChatstateError('REPLY_INVALID', `${field} ${problem}. The message was not sent.`, {
    component: 'wasender',
    details: { field },
  });
}

function nonEmpty(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim().length === 0) invalid(field, 'is empty');
}

/** Checks what WASender documents as required; it refuses the rest with a 422 we surface as is. */
export function validateWasender(to: unknown, message: WasenderMessage): void {
  if (typeof to !== 'string' || !/^\+?[0-9A-Za-z@._:-]{3,128}$/.test(to)) {
    invalid('to', 'must be an E.164 number, a group JID or a channel JID');
  }
  if (typeof message !== 'object' || message === null) invalid('message', 'must be an object');
  switch (message.type) {
    case 'text':
      return nonEmpty('message.text', message.text);
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker':
      if (typeof message.url !== 'string' || !/^https?:\/\/\S+$/i.test(message.url)) {
        invalid('message.url', 'must be a public http(s) URL');
      }
      if ('caption' in message && message.caption !== undefined) nonEmpty('message.caption', message.caption);
      return;
    default:
      invalid(
        'message.type',
        `"${String((message as { type?: unknown }).type)}" is not a message type this client sends`,
      );
  }
}

/** `{ to, text }` or `{ to, imageUrl|videoUrl|documentUrl|audioUrl|stickerUrl, text? }`. */
export function wasenderBody(to: string, message: WasenderMessage): Record<string, unknown> {
  switch (message.type) {
    case 'text':
      return { to, text: message.text };
    case 'audio':
      return { to, audioUrl: message.url };
    case 'sticker':
      return { to, stickerUrl: message.url };
    default: {
      const body: Record<string, unknown> = { to, [`${message.type}Url`]: message.url };
      if (message.caption !== undefined) body.text = message.caption;
      return body;
    }
  }
}
