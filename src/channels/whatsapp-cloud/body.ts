import type { CloudMessage, InteractiveHeader, MediaSource, SendResult } from './types.js';

type Json = Record<string, unknown>;

function media(source: MediaSource, extra?: Json): Json {
  const wire: Json = source.id !== undefined ? { id: source.id } : { link: source.link };
  if (extra !== undefined) {
    for (const [key, value] of Object.entries(extra)) if (value !== undefined) wire[key] = value;
  }
  return wire;
}

function header(value: InteractiveHeader): Json {
  if (value.type === 'text') return { type: 'text', text: value.text };
  return { type: value.type, [value.type]: media(value.media) };
}

/** The message object for `type`, in the shape Meta's Messages API documents. */
function content(message: CloudMessage): [type: string, payload: Json] {
  switch (message.type) {
    case 'text': {
      const text: Json = { body: message.text };
      if (message.previewUrl !== undefined) text.preview_url = message.previewUrl;
      return ['text', text];
    }
    case 'image':
    case 'video':
      return [message.type, media(message.media, { caption: message.caption })];
    case 'document':
      return ['document', media(message.media, { caption: message.caption, filename: message.filename })];
    case 'audio':
    case 'sticker':
      return [message.type, media(message.media)];
    case 'location': {
      const location: Json = { latitude: message.latitude, longitude: message.longitude };
      if (message.name !== undefined) location.name = message.name;
      if (message.address !== undefined) location.address = message.address;
      return ['location', location];
    }
    case 'reaction':
      return ['reaction', { message_id: message.messageId, emoji: message.emoji }];
    case 'buttons': {
      const interactive: Json = { type: 'button' };
      if (message.header !== undefined) interactive.header = header(message.header);
      interactive.body = { text: message.body };
      if (message.footer !== undefined) interactive.footer = { text: message.footer };
      interactive.action = {
        buttons: message.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })),
      };
      return ['interactive', interactive];
    }
    case 'list': {
      const interactive: Json = { type: 'list' };
      if (message.header !== undefined) interactive.header = { type: 'text', text: message.header };
      interactive.body = { text: message.body };
      if (message.footer !== undefined) interactive.footer = { text: message.footer };
      interactive.action = {
        button: message.button,
        sections: message.sections.map((section) => {
          const rows = section.rows.map((row) =>
            row.description === undefined
              ? { id: row.id, title: row.title }
              : { id: row.id, title: row.title, description: row.description },
          );
          return section.title === undefined ? { rows } : { title: section.title, rows };
        }),
      };
      return ['interactive', interactive];
    }
    case 'template': {
      const template: Json = { name: message.name, language: { code: message.language } };
      if (message.components !== undefined) template.components = message.components;
      return ['template', template];
    }
  }
}

/** The full POST /{phone-number-id}/messages body for one message to one user. */
export function messageBody(to: string, message: CloudMessage, replyTo?: string): Json {
  const [type, payload] = content(message);
  const body: Json = { messaging_product: 'whatsapp', recipient_type: 'individual', to };
  if (replyTo !== undefined) body.context = { message_id: replyTo };
  body.type = type;
  body[type] = payload;
  return body;
}

/** Marks a received message read; with `typing`, also shows the typing indicator. */
export function markReadBody(messageId: string, typing: boolean): Json {
  const body: Json = { messaging_product: 'whatsapp', status: 'read', message_id: messageId };
  if (typing) body.typing_indicator = { type: 'text' };
  return body;
}

/** `{ messaging_product, contacts: [{ input, wa_id }], messages: [{ id, message_status? }] }` */
export function readSendResult(json: unknown, attempts: number): SendResult | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { messages, contacts } = json as { messages?: unknown; contacts?: unknown };
  const first = Array.isArray(messages)
    ? (messages[0] as { id?: unknown; message_status?: unknown })
    : undefined;
  if (typeof first?.id !== 'string') return undefined;
  const contact = Array.isArray(contacts) ? (contacts[0] as { wa_id?: unknown } | undefined) : undefined;
  return {
    messageId: first.id,
    waId: typeof contact?.wa_id === 'string' ? contact.wa_id : undefined,
    messageStatus: typeof first.message_status === 'string' ? first.message_status : undefined,
    attempts,
  };
}
