/**
 * WASender `message` object (WhatsApp Web protobuf as JSON) -> event. The content sits under one
 * key (`conversation`, `imageMessage`, ...), sometimes wrapped (`ephemeralMessage.message`), next to
 * housekeeping keys that carry no user content.
 */
import { z } from 'zod';
import { extend } from '../extend.js';
import type {
  MediaType,
  MessageContext,
  MessageEvent,
  MessageEventBase,
  Referral,
  SharedContact,
  WebhookError,
} from './events.js';
import { isRecord, numberish, optionalString } from './shared.js';

const WRAPPERS = [
  'ephemeralMessage',
  'viewOnceMessage',
  'viewOnceMessageV2',
  'viewOnceMessageV2Extension',
  'documentWithCaptionMessage',
  'editedMessage',
];
const HOUSEKEEPING = new Set(['messageContextInfo', 'senderKeyDistributionMessage']);
const MEDIA: Record<string, MediaType> = {
  imageMessage: 'image',
  videoMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
};

const contextInfoSchema = z.object({
  stanzaId: optionalString,
  participant: optionalString,
  isForwarded: z.boolean().optional(),
  externalAdReply: z
    .object({
      title: optionalString,
      body: optionalString,
      sourceUrl: optionalString,
      sourceId: optionalString,
      sourceType: optionalString,
      thumbnailUrl: optionalString,
      ctwaClid: optionalString,
    })
    .optional()
    .catch(undefined),
});

const mediaSchema = z.object({
  url: optionalString,
  mimetype: optionalString,
  caption: optionalString,
  fileName: optionalString,
  fileSha256: optionalString,
  ptt: z.boolean().optional(),
  isAnimated: z.boolean().optional(),
});
const textSchema = z.object({ text: z.string() });
const locationSchema = z.object({
  degreesLatitude: numberish,
  degreesLongitude: numberish,
  name: optionalString,
  address: optionalString,
  url: optionalString,
});
const contactSchema = z.object({ displayName: optionalString, vcard: optionalString });
const reactionSchema = z.object({ key: z.object({ id: z.string().min(1) }), text: optionalString });
const buttonsResponseSchema = z.object({ selectedButtonId: z.string(), selectedDisplayText: optionalString });
const listResponseSchema = z.object({
  title: optionalString,
  description: optionalString,
  singleSelectReply: z.object({ selectedRowId: z.string() }),
});
const templateReplySchema = z.object({ selectedId: z.string(), selectedDisplayText: optionalString });

/** The innermost message object and the key its content sits under. */
function locateContent(message: Record<string, unknown>): { type: string; content: unknown } | undefined {
  let current = message;
  for (let depth = 0; depth < 4; depth++) {
    const wrapper = WRAPPERS.find(
      (w) => isRecord(current[w]) && isRecord((current[w] as { message?: unknown }).message),
    );
    if (wrapper === undefined) break;
    current = (current[wrapper] as { message: Record<string, unknown> }).message;
  }
  for (const type of Object.keys(current)) {
    if (!HOUSEKEEPING.has(type) && current[type] !== null && current[type] !== undefined) {
      return { type, content: current[type] };
    }
  }
  return undefined;
}

function contactFromVcard(displayName: string | undefined, vcard: string | undefined): SharedContact {
  const phones: SharedContact['phones'] = [];
  // TEL;type=CELL;waid=15551234567:+1 555-123-4567 — the waid parameter is the WhatsApp id.
  for (const match of (vcard ?? '').matchAll(/^TEL([^:\n]*):(.+)$/gim)) {
    const waId = /waid=(\d+)/i.exec(match[1] ?? '')?.[1];
    phones.push(waId === undefined ? { phone: match[2]?.trim() } : { phone: match[2]?.trim(), waId });
  }
  const fn = /^FN:(.+)$/im.exec(vcard ?? '')?.[1]?.trim();
  const contact: SharedContact = { formattedName: displayName ?? fn ?? '', phones, emails: [] };
  if (vcard !== undefined) contact.vcard = vcard;
  return contact;
}

export function contextOf(content: unknown): { context?: MessageContext; referral?: Referral } {
  if (!isRecord(content)) return {};
  const parsed = contextInfoSchema.safeParse(content.contextInfo);
  if (!parsed.success) return {};
  const info = parsed.data;
  const out: { context?: MessageContext; referral?: Referral } = {};
  if (info.stanzaId !== undefined || info.isForwarded !== undefined) {
    const context: MessageContext = {};
    if (info.stanzaId !== undefined) context.messageId = info.stanzaId;
    if (info.participant !== undefined) context.from = info.participant;
    if (info.isForwarded !== undefined) context.forwarded = info.isForwarded;
    out.context = context;
  }
  const ad = info.externalAdReply;
  if (ad?.ctwaClid !== undefined || ad?.sourceId !== undefined) {
    out.referral = {
      headline: ad.title,
      body: ad.body,
      sourceUrl: ad.sourceUrl,
      sourceId: ad.sourceId,
      sourceType: ad.sourceType,
      thumbnailUrl: ad.thumbnailUrl,
      ctwaClid: ad.ctwaClid,
    };
  }
  return out;
}

/**
 * Returns the event, `null` for protocol messages (revoke/edit notices, not user input), or a
 * string saying why the content could not be read.
 */
export function buildWasenderMessage(
  message: Record<string, unknown> | undefined,
  messageBody: string | undefined,
  base: MessageEventBase,
): MessageEvent | null | string {
  const located = message === undefined ? undefined : locateContent(message);
  if (located === undefined) {
    return messageBody !== undefined
      ? extend(base, { kind: 'text', text: messageBody })
      : 'message has no content';
  }
  const { type, content } = located;
  const { context, referral } = contextOf(content);
  if (context !== undefined) base.context = context;
  if (referral !== undefined) base.referral = referral;

  const mediaType = MEDIA[type];
  if (mediaType !== undefined) {
    const m = mediaSchema.safeParse(content);
    if (!m.success) return `${type} is not an object`;
    const event: MessageEvent = {
      ...base,
      kind: 'media',
      mediaType,
      // WASender's decrypt-media endpoint takes the message (key.id + media fields), not a media id.
      mediaId: base.messageId,
      mimeType: m.data.mimetype ?? 'application/octet-stream',
    };
    if (m.data.caption !== undefined) event.caption = m.data.caption;
    if (m.data.fileName !== undefined) event.filename = m.data.fileName;
    if (m.data.fileSha256 !== undefined) event.sha256 = m.data.fileSha256;
    if (m.data.url !== undefined) event.url = m.data.url;
    if (mediaType === 'audio') event.voice = m.data.ptt ?? false;
    if (mediaType === 'sticker') event.animated = m.data.isAnimated ?? false;
    return event;
  }
  switch (type) {
    case 'conversation':
      return typeof content === 'string'
        ? extend(base, { kind: 'text', text: content })
        : 'conversation is not a string';
    case 'extendedTextMessage': {
      const t = textSchema.safeParse(content);
      return t.success
        ? extend(base, { kind: 'text', text: t.data.text })
        : 'extendedTextMessage.text missing';
    }
    case 'locationMessage':
    case 'liveLocationMessage': {
      const l = locationSchema.safeParse(content);
      if (!l.success) return `${type}: coordinates missing`;
      const { degreesLatitude: lat, degreesLongitude: lng, name, address, url } = l.data;
      return extend(base, { kind: 'location', lat, lng, name, address, url });
    }
    case 'contactMessage': {
      const c = contactSchema.safeParse(content);
      if (!c.success) return 'contactMessage is not an object';
      const contacts: SharedContact[] = [contactFromVcard(c.data.displayName, c.data.vcard)];
      return extend(base, {
        kind: 'contacts',
        contacts,
      });
    }
    case 'contactsArrayMessage': {
      const list = isRecord(content) && Array.isArray(content.contacts) ? content.contacts : [];
      const contacts = list.flatMap((item) => {
        const c = contactSchema.safeParse(item);
        return c.success ? [contactFromVcard(c.data.displayName, c.data.vcard)] : [];
      });
      return extend(base, { kind: 'contacts', contacts });
    }
    case 'reactionMessage': {
      const r = reactionSchema.safeParse(content);
      if (!r.success) return 'reactionMessage.key.id missing';
      // An empty reaction text is WhatsApp's way of removing a reaction.
      return {
        ...base,
        kind: 'reaction',
        emoji: r.data.text ? r.data.text : null,
        targetMessageId: r.data.key.id,
      };
    }
    case 'buttonsResponseMessage': {
      const b = buttonsResponseSchema.safeParse(content);
      if (!b.success) return 'buttonsResponseMessage.selectedButtonId missing';
      const { selectedButtonId: id, selectedDisplayText: title } = b.data;
      return extend(base, { kind: 'button_reply', id, title: title ?? '' });
    }
    case 'listResponseMessage': {
      const l = listResponseSchema.safeParse(content);
      if (!l.success) return 'listResponseMessage.singleSelectReply missing';
      const { singleSelectReply, title, description } = l.data;
      return {
        ...base,
        kind: 'list_reply',
        id: singleSelectReply.selectedRowId,
        title: title ?? '',
        description,
      };
    }
    case 'templateButtonReplyMessage': {
      const t = templateReplySchema.safeParse(content);
      if (!t.success) return 'templateButtonReplyMessage.selectedId missing';
      return {
        ...base,
        kind: 'template_button',
        payload: t.data.selectedId,
        text: t.data.selectedDisplayText ?? '',
      };
    }
    case 'protocolMessage':
      return null;
    default:
      const errors: WebhookError[] = [];
      return extend(base, { kind: 'unsupported', messageType: type, errors });
  }
}
