/**
 * The typed events a webhook body turns into, normalized across providers (WhatsApp Cloud API and
 * WASenderApi). Everything downstream (claim, order, transition) reads these, never provider JSON.
 */

export type Provider = 'cloud' | 'wasender';

/** An error object as Meta reports it on statuses, unsupported messages and value-level `errors`. */
export interface WebhookError {
  code: number;
  title: string;
  message?: string;
  /** `error_data.details`: the most specific explanation Meta gives. */
  details?: string;
  href?: string;
}

export interface MessageContext {
  /** The message being replied to. Absent on a plain forward, which carries only the flags. */
  messageId?: string;
  from?: string;
  forwarded?: boolean;
  frequentlyForwarded?: boolean;
  /** Set when the user asked about a catalog product ("Message business" on a product). */
  referredProduct?: { catalogId: string; productRetailerId: string };
}

/**
 * Click-to-WhatsApp ad (or post) the conversation started from. It rides on an ordinary message,
 * so it is a property of that message rather than an event of its own.
 */
export interface Referral {
  sourceUrl?: string;
  sourceId?: string;
  sourceType?: string;
  headline?: string;
  body?: string;
  mediaType?: string;
  imageUrl?: string;
  videoUrl?: string;
  thumbnailUrl?: string;
  /** Click id Meta uses for conversion attribution (Conversions API). */
  ctwaClid?: string;
  welcomeMessageText?: string;
}

export interface EventBase {
  provider: Provider;
  /**
   * The business side the event arrived on, the key to route by. Cloud API: `metadata.phone_number_id`.
   * WASender: the envelope's `sessionId` when present, otherwise `''`.
   */
  businessPhoneNumberId: string;
  /** Cloud API only: `metadata.display_phone_number`. */
  displayPhoneNumber?: string;
  /** Cloud API only: the WhatsApp Business Account id (`entry[].id`). */
  wabaId?: string;
  /**
   * The provider's own JSON object for this message/status/error, by reference (never copied), for
   * logging and for provider features this union does not model. Treat as read-only.
   */
  raw: unknown;
}

export interface MessageEventBase extends EventBase {
  /** Cloud: the wamid. WASender: `key.id`. The dedupe key. */
  messageId: string;
  /**
   * Who sent it: the phone number (`from` / wa_id) when the payload has one, otherwise the
   * business-scoped user id (BSUID). WASender: the sender's phone number, or the `…@lid` jid as-is
   * when no phone number is known (kept whole so it can never collide with a phone number).
   */
  userId: string;
  /** The sender's phone number / WhatsApp id when present. */
  waId?: string;
  /** Business-scoped user id (`from_user_id` / `contacts[].user_id`) when present. */
  bsuid?: string;
  parentBsuid?: string;
  username?: string;
  /** Unix time in milliseconds. */
  timestamp: number;
  contactName?: string;
  context?: MessageContext;
  referral?: Referral;
  /** Set for messages sent in a group chat (Cloud `group_id`, WASender `…@g.us` jid). */
  groupId?: string;
}

export interface TextMessageEvent extends MessageEventBase {
  kind: 'text';
  text: string;
}

export interface ButtonReplyEvent extends MessageEventBase {
  kind: 'button_reply';
  id: string;
  title: string;
}

export interface ListReplyEvent extends MessageEventBase {
  kind: 'list_reply';
  id: string;
  title: string;
  description?: string;
}

/** A quick-reply button of a template message was tapped. */
export interface TemplateButtonEvent extends MessageEventBase {
  kind: 'template_button';
  payload: string;
  text: string;
}

/** A WhatsApp Flow (or address message) was submitted (`interactive.nfm_reply`). */
export interface FlowReplyEvent extends MessageEventBase {
  kind: 'flow_reply';
  /** The form answers as the JSON string Meta sends; parsing is the flow's job. */
  responseJson: string;
  name?: string;
  body?: string;
}

export type MediaType = 'image' | 'audio' | 'video' | 'document' | 'sticker';

/** A media message. Never carries bytes: download by `mediaId` (Cloud) or via the provider's API. */
export interface MediaMessageEvent extends MessageEventBase {
  kind: 'media';
  mediaType: MediaType;
  /** Cloud: the media id for `GET /{media-id}`. WASender: the message `key.id` its decrypt API takes. */
  mediaId: string;
  mimeType: string;
  caption?: string;
  filename?: string;
  /** Audio recorded as a voice note (Cloud `audio.voice`, WASender `audioMessage.ptt`). */
  voice?: boolean;
  /** Hash of the file as the provider gives it (Cloud: hex; WASender: base64 `fileSha256`). */
  sha256?: string;
  animated?: boolean;
  /** Provider URL when given (WASender: the encrypted file URL). */
  url?: string;
}

export interface LocationMessageEvent extends MessageEventBase {
  kind: 'location';
  lat: number;
  lng: number;
  name?: string;
  address?: string;
  url?: string;
}

export interface SharedContact {
  formattedName: string;
  firstName?: string;
  lastName?: string;
  phones: Array<{ phone?: string; waId?: string; type?: string }>;
  emails: Array<{ email: string; type?: string }>;
  organization?: string;
  /** WASender shares contacts as vCards; kept so nothing in them is lost. */
  vcard?: string;
}

export interface ContactsMessageEvent extends MessageEventBase {
  kind: 'contacts';
  contacts: SharedContact[];
}

export interface ReactionEvent extends MessageEventBase {
  kind: 'reaction';
  /** `null` when the user removed their reaction. */
  emoji: string | null;
  targetMessageId: string;
}

export interface OrderItem {
  productRetailerId: string;
  quantity: number;
  itemPrice: number;
  currency: string;
}

export interface OrderEvent extends MessageEventBase {
  kind: 'order';
  catalogId: string;
  items: OrderItem[];
  text?: string;
}

/** A system notice about the user, e.g. `user_changed_number`. `userId` is the old identity. */
export interface SystemMessageEvent extends MessageEventBase {
  kind: 'system';
  systemType: string;
  body?: string;
  /** The user's new WhatsApp id after a number change. */
  newWaId?: string;
  /** The user's new business-scoped user id, when the system message carries one. */
  newUserId?: string;
}

/** A message type this library does not model. Kept, never dropped, so a bot can say "can't read that". */
export interface UnsupportedMessageEvent extends MessageEventBase {
  kind: 'unsupported';
  /** The provider's type, e.g. `unsupported`, `poll_creation`, `interactive.call_permission_reply`. */
  messageType: string;
  errors: WebhookError[];
}

export type MessageEvent =
  | TextMessageEvent
  | ButtonReplyEvent
  | ListReplyEvent
  | TemplateButtonEvent
  | FlowReplyEvent
  | MediaMessageEvent
  | LocationMessageEvent
  | ContactsMessageEvent
  | ReactionEvent
  | OrderEvent
  | SystemMessageEvent
  | UnsupportedMessageEvent;

export type MessageStatus = 'sent' | 'delivered' | 'read' | 'played' | 'failed' | 'deleted';

/** Delivery state of a message the business sent. */
export interface StatusEvent extends EventBase {
  kind: 'status';
  messageId: string;
  status: MessageStatus;
  /** Phone number, BSUID, group id (Cloud) or user/lid of the jid (WASender). */
  recipientId: string;
  recipientUserId?: string;
  /** Unix time in milliseconds. */
  timestamp: number;
  conversation?: { id: string; expiresAt?: number; originType?: string };
  pricing?: { billable?: boolean; pricingModel?: string; category?: string; type?: string };
  bizOpaqueCallbackData?: string;
  errors: WebhookError[];
}

/** A value-level error Meta reports without any message attached (e.g. 130429 rate limit). */
export interface ErrorEvent extends EventBase {
  kind: 'error';
  error: WebhookError;
}

export type InboundEvent = MessageEvent | StatusEvent | ErrorEvent;

/** Why part of a body produced no event. `path` points into the body, e.g. `entry[0].changes[1]`. */
export interface IgnoredItem {
  reason: string;
  path: string;
  detail?: string;
}

export interface ParseResult {
  /** In body order: entry by entry, change by change; messages, then statuses, then errors. */
  events: InboundEvent[];
  ignored: IgnoredItem[];
}

export function isMessageEvent(event: InboundEvent): event is MessageEvent {
  return event.kind !== 'status' && event.kind !== 'error';
}
