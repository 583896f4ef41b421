import type { WasenderMessage } from '../channels/wasender/types.js';
import { validateWasender } from '../channels/wasender/validate.js';
import type { CloudMessage } from '../channels/whatsapp-cloud/types.js';
import { validateMessage } from '../channels/whatsapp-cloud/validate.js';
import { ChatstateError } from '../errors.js';
import type { HistoryEntry, JsonValue } from '../session/types.js';
import type { MessageEvent } from '../webhook/events.js';

/** One option of a buttons or list message: [id, title]. Kept in the session to read typed answers. */
export type Option = [id: string, title: string];

export function optionsOf(message: CloudMessage): Option[] | null {
  if (message.type === 'buttons') return message.buttons.map((b) => [b.id, b.title]);
  if (message.type === 'list')
    return message.sections.flatMap((s) => s.rows.map((r): Option => [r.id, r.title]));
  return null;
}

/** Reads session-stored options back, ignoring anything that is not [string, string][]. */
export function readOptions(value: JsonValue | undefined): Option[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (o): o is Option => Array.isArray(o) && typeof o[0] === 'string' && typeof o[1] === 'string',
  );
}

/**
 * The option a typed answer means: its number ("2"), its title or its id, ignoring case. People
 * type "laptop" at a list as often as they tap it, and WASender has no buttons to tap at all.
 */
export function matchOption(text: string, options: readonly Option[]): string | undefined {
  const answer = text.trim().toLowerCase();
  if (/^\d{1,2}$/.test(answer)) return options[Number(answer) - 1]?.[0];
  return options.find(([id, title]) => title.toLowerCase() === answer || id.toLowerCase() === answer)?.[0];
}

function unsupported(kind: string): never {
  throw new ChatstateError(
    'REPLY_INVALID',
    `${kind} messages cannot be sent through WASender; send text or a media URL instead. The message was not sent.`,
    { component: 'flow', details: { field: 'message.type' } },
  );
}

/** Buttons and lists as numbered text, for a provider without interactive messages. */
function numbered(body: string, options: readonly Option[], footer?: string): string {
  const lines = options.map(([, title], i) => `${i + 1}. ${title}`);
  return [body, '', ...lines, ...(footer ? ['', footer] : [])].join('\n');
}

function toWasender(message: CloudMessage): WasenderMessage {
  switch (message.type) {
    case 'text':
      return { type: 'text', text: message.text };
    case 'buttons':
    case 'list':
      return { type: 'text', text: numbered(message.body, optionsOf(message) ?? [], message.footer) };
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker': {
      if (message.media.link === undefined) unsupported(`${message.type} by media id`);
      const caption = 'caption' in message ? message.caption : undefined;
      return {
        type: message.type,
        url: message.media.link,
        ...(caption ? { caption } : {}),
      } as WasenderMessage;
    }
    default:
      return unsupported(message.type);
  }
}

/**
 * Checks a reply against the documented limits (Cloud API limits always, so a flow fails the same
 * way on either provider) and turns it into the shape of the provider the user wrote from.
 */
export function forProvider(event: MessageEvent, message: CloudMessage): CloudMessage | WasenderMessage {
  validateMessage(message);
  if (event.provider !== 'wasender') return message;
  const converted = toWasender(message);
  validateWasender(event.waId ?? event.userId, converted);
  return converted;
}

/** How an outbound message appears in the recent-messages history. */
export function outboundEntry(message: CloudMessage): Omit<HistoryEntry, 'at'> {
  switch (message.type) {
    case 'text':
      return { dir: 'out', text: message.text };
    case 'buttons':
    case 'list':
      return { dir: 'out', text: message.body };
    case 'template':
      return { dir: 'out', text: `[template ${message.name}]` };
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker': {
      const caption = 'caption' in message ? message.caption : undefined;
      return {
        dir: 'out',
        media: {
          kind: message.type,
          ...(message.media.id !== undefined ? { id: message.media.id } : { url: message.media.link }),
          ...(caption ? { caption } : {}),
        },
      };
    }
    default:
      return { dir: 'out', text: `[${message.type}]` };
  }
}
