/**
 * Cloud API message type -> event. One handler per `type`, looked up in a map, so a message costs one
 * schema parse for its common part and one for its payload whatever the batch size.
 */

import { extend } from '../extend.js';
import {
  buttonSchema,
  type CloudMessage,
  contactsSchema,
  interactiveSchema,
  locationSchema,
  mediaSchema,
  orderSchema,
  reactionSchema,
  systemSchema,
  textSchema,
} from './cloud-schemas.js';
import type {
  MediaType,
  MessageContext,
  MessageEvent,
  MessageEventBase,
  Referral,
  SharedContact,
} from './events.js';
import { describeIssue, parseErrors } from './shared.js';

/** A handler returns the event, or a string saying why the payload was unusable. */
type Handler = (
  payload: unknown,
  base: MessageEventBase,
  raw: Record<string, unknown>,
) => MessageEvent | string;

function media(mediaType: MediaType): Handler {
  return (payload, base) => {
    const parsed = mediaSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    const m = parsed.data;
    const event: MessageEvent = extend(base, {
      kind: 'media',
      mediaType,
      mediaId: m.id,
      mimeType: m.mime_type,
    });
    if (m.caption !== undefined) event.caption = m.caption;
    if (m.filename !== undefined) event.filename = m.filename;
    if (m.sha256 !== undefined) event.sha256 = m.sha256;
    if (m.url !== undefined) event.url = m.url;
    if (mediaType === 'audio') event.voice = m.voice ?? false;
    if (mediaType === 'sticker') event.animated = m.animated ?? false;
    return event;
  };
}

function toSharedContact(c: ReturnType<typeof contactsSchema.parse>[number]): SharedContact {
  const contact: SharedContact = {
    formattedName:
      c.name?.formatted_name ?? [c.name?.first_name, c.name?.last_name].filter(Boolean).join(' '),
    phones: (c.phones ?? []).map((p) => ({ phone: p.phone, waId: p.wa_id, type: p.type })),
    emails: (c.emails ?? []).map((e) => ({ email: e.email, type: e.type })),
  };
  if (c.name?.first_name !== undefined) contact.firstName = c.name.first_name;
  if (c.name?.last_name !== undefined) contact.lastName = c.name.last_name;
  if (c.org?.company !== undefined) contact.organization = c.org.company;
  return contact;
}

const handlers: Record<string, Handler> = {
  text(payload, base) {
    const parsed = textSchema.safeParse(payload);
    return parsed.success
      ? extend(base, { kind: 'text', text: parsed.data.body })
      : describeIssue(parsed.error);
  },
  image: media('image'),
  audio: media('audio'),
  video: media('video'),
  document: media('document'),
  sticker: media('sticker'),
  location(payload, base) {
    const parsed = locationSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    const l = parsed.data;
    return {
      ...base,
      kind: 'location',
      lat: l.latitude,
      lng: l.longitude,
      name: l.name,
      address: l.address,
      url: l.url,
    };
  },
  contacts(payload, base) {
    const parsed = contactsSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    return extend(base, { kind: 'contacts', contacts: parsed.data.map(toSharedContact) });
  },
  interactive(payload, base, raw) {
    const parsed = interactiveSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    const { type, button_reply, list_reply, nfm_reply } = parsed.data;
    if (type === 'button_reply' && button_reply !== undefined) {
      return extend(base, { kind: 'button_reply', id: button_reply.id, title: button_reply.title });
    }
    if (type === 'list_reply' && list_reply !== undefined) {
      const { id, title, description } = list_reply;
      return extend(base, { kind: 'list_reply', id, title, description });
    }
    if (type === 'nfm_reply' && nfm_reply !== undefined) {
      const { response_json, name, body } = nfm_reply;
      return extend(base, { kind: 'flow_reply', responseJson: response_json, name, body });
    }
    if (type === 'button_reply' || type === 'list_reply' || type === 'nfm_reply')
      return `interactive.${type}: missing`;
    return {
      ...base,
      kind: 'unsupported',
      messageType: `interactive.${type}`,
      errors: parseErrors(raw.errors),
    };
  },
  button(payload, base) {
    const parsed = buttonSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    return extend(base, { kind: 'template_button', payload: parsed.data.payload, text: parsed.data.text });
  },
  reaction(payload, base) {
    const parsed = reactionSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    const { emoji, message_id } = parsed.data;
    // Meta omits `emoji` when the user takes a reaction back.
    return extend(base, { kind: 'reaction', emoji: emoji ? emoji : null, targetMessageId: message_id });
  },
  order(payload, base) {
    const parsed = orderSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    const o = parsed.data;
    const items = o.product_items.map((i) => ({
      productRetailerId: i.product_retailer_id,
      quantity: i.quantity,
      itemPrice: i.item_price,
      currency: i.currency,
    }));
    return extend(base, { kind: 'order', catalogId: o.catalog_id, items, text: o.text });
  },
  system(payload, base) {
    const parsed = systemSchema.safeParse(payload);
    if (!parsed.success) return describeIssue(parsed.error);
    const s = parsed.data;
    const newWaId = s.wa_id ?? (s.new_wa_id === undefined ? undefined : String(s.new_wa_id));
    return {
      ...base,
      kind: 'system',
      systemType: s.type ?? 'unknown',
      body: s.body,
      newWaId,
      newUserId: s.user_id,
    };
  },
};

/** Payload-less types (and `unsupported`/`unknown`) fall through to an `unsupported` event. */
export function buildCloudMessage(
  msg: CloudMessage,
  raw: Record<string, unknown>,
  base: MessageEventBase,
): MessageEvent | string {
  const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : undefined;
  if (handler !== undefined) {
    const payload = raw[msg.type];
    if (payload === undefined) return `${msg.type}: missing`;
    return handler(payload, base, raw);
  }
  const inner = raw.unsupported;
  const innerType =
    typeof inner === 'object' && inner !== null && typeof (inner as { type?: unknown }).type === 'string'
      ? (inner as { type: string }).type
      : undefined;
  // Meta sends `type: "unsupported"` with the real kind (poll, edit, ...) in `unsupported.type`.
  const messageType = msg.type === 'unsupported' && innerType !== undefined ? innerType : msg.type;
  return extend(base, { kind: 'unsupported', messageType, errors: parseErrors(raw.errors) });
}

export function toContext(c: CloudMessage['context']): MessageContext | undefined {
  if (c === undefined) return undefined;
  const context: MessageContext = {};
  if (c.id !== undefined) context.messageId = c.id;
  if (c.from !== undefined) context.from = c.from;
  if (c.forwarded !== undefined) context.forwarded = c.forwarded;
  if (c.frequently_forwarded !== undefined) context.frequentlyForwarded = c.frequently_forwarded;
  if (c.referred_product !== undefined) {
    const { catalog_id, product_retailer_id } = c.referred_product;
    context.referredProduct = { catalogId: catalog_id, productRetailerId: product_retailer_id };
  }
  return context;
}

export function toReferral(r: CloudMessage['referral']): Referral | undefined {
  if (r === undefined) return undefined;
  return {
    sourceUrl: r.source_url,
    sourceId: r.source_id,
    sourceType: r.source_type,
    headline: r.headline,
    body: r.body,
    mediaType: r.media_type,
    imageUrl: r.image_url,
    videoUrl: r.video_url,
    thumbnailUrl: r.thumbnail_url,
    ctwaClid: r.ctwa_clid,
    welcomeMessageText: r.welcome_message?.text,
  };
}
