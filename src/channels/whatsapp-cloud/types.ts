import type { ChatstateError } from '../../errors.js';
import type { Now, Sleep } from '../shared/time.js';

/** An uploaded media asset (`id`, recommended by Meta) or a public URL (`link`); exactly one. */
export type MediaSource = { id: string; link?: undefined } | { link: string; id?: undefined };

export interface TextMessage {
  type: 'text';
  text: string;
  /** Ask WhatsApp to render a preview box for the first URL in the text. */
  previewUrl?: boolean;
}
export interface ImageMessage {
  type: 'image';
  media: MediaSource;
  caption?: string;
}
export interface VideoMessage {
  type: 'video';
  media: MediaSource;
  caption?: string;
}
/** Audio carries no caption (WhatsApp does not show one). */
export interface AudioMessage {
  type: 'audio';
  media: MediaSource;
}
export interface DocumentMessage {
  type: 'document';
  media: MediaSource;
  caption?: string;
  /** Shown to the user; the extension picks the file icon. */
  filename?: string;
}
/** Stickers carry no caption. */
export interface StickerMessage {
  type: 'sticker';
  media: MediaSource;
}
export interface LocationMessage {
  type: 'location';
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}
/** An emoji on an earlier message; `emoji: ''` removes the reaction. */
export interface ReactionMessage {
  type: 'reaction';
  messageId: string;
  emoji: string;
}

export interface ReplyButton {
  id: string;
  title: string;
}
export type InteractiveHeader =
  | { type: 'text'; text: string }
  | { type: 'image' | 'video' | 'document'; media: MediaSource };

/** Interactive reply buttons (1-3 buttons). */
export interface ButtonsMessage {
  type: 'buttons';
  body: string;
  buttons: ReplyButton[];
  header?: InteractiveHeader;
  footer?: string;
}

export interface ListRow {
  id: string;
  title: string;
  description?: string;
}
export interface ListSection {
  /** Required by Meta when the list has more than one section. */
  title?: string;
  rows: ListRow[];
}
/** Interactive list: one button that opens up to 10 rows in up to 10 sections. */
export interface ListMessage {
  type: 'list';
  body: string;
  /** The label of the button that opens the list. */
  button: string;
  sections: ListSection[];
  /** Lists support a text header only. */
  header?: string;
  footer?: string;
}

/** Media inside template parameters, in Meta's wire shape. */
export type WireMedia = { id: string } | { link: string };

/** A template parameter in Meta's wire shape (forwarded as is). */
export type TemplateParameter =
  | { type: 'text'; text: string; parameter_name?: string }
  | {
      type: 'currency';
      currency: { fallback_value: string; code: string; amount_1000: number };
      parameter_name?: string;
    }
  | { type: 'date_time'; date_time: { fallback_value: string }; parameter_name?: string }
  | { type: 'image'; image: WireMedia }
  | { type: 'video'; video: WireMedia }
  | { type: 'document'; document: WireMedia & { filename?: string } }
  | {
      type: 'location';
      location: { latitude: number | string; longitude: number | string; name?: string; address?: string };
    }
  | { type: 'payload'; payload: string }
  | { type: 'coupon_code'; coupon_code: string }
  | { type: 'action'; action: Record<string, unknown> };

/** A template component in Meta's wire shape: fills the variables of an approved template. */
export interface TemplateComponent {
  type: 'header' | 'body' | 'button' | 'carousel' | 'limited_time_offer';
  /** Buttons only: `quick_reply`, `url`, `copy_code`, `flow`, … */
  sub_type?: string;
  /** Buttons only: the button's position in the template (0-based). */
  index?: number | string;
  parameters?: TemplateParameter[];
  [extra: string]: unknown;
}

/** An approved message template (the only kind allowed outside the 24-hour service window). */
export interface TemplateMessage {
  type: 'template';
  name: string;
  /** The template's language/locale code, e.g. `en_US`. */
  language: string;
  components?: TemplateComponent[];
}

export type CloudMessage =
  | TextMessage
  | ImageMessage
  | VideoMessage
  | AudioMessage
  | DocumentMessage
  | StickerMessage
  | LocationMessage
  | ReactionMessage
  | ButtonsMessage
  | ListMessage
  | TemplateMessage;

export type CloudMessageKind = CloudMessage['type'];

export interface SendRequest {
  /** The business phone number id to send from; defaults to the client's `phoneNumberId`. */
  from?: string;
  /** The user's WhatsApp number (with or without `+`). */
  to: string;
  message: CloudMessage;
  /** Reply to (quote) this earlier message id (`context.message_id`). */
  replyTo?: string;
  /**
   * The caller's id for this send (an outbox entry id, say). Never sent to Meta; it is copied into
   * every event and error so logs can tie a delivery attempt to the entry that asked for it.
   */
  entryId?: string;
  /** Aborts a queued or in-flight send (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface SendResult {
  /** The `wamid.` id Meta assigned; status webhooks refer to it. */
  messageId: string;
  /** The user's WhatsApp id as Meta resolved it (`contacts[0].wa_id`). */
  waId: string | undefined;
  /** `messages[0].message_status` when Meta includes it (for example `accepted`). */
  messageStatus: string | undefined;
  /** HTTP attempts this send took (1 when nothing was retried). */
  attempts: number;
}

export interface MarkReadRequest {
  from?: string;
  /** The id of the received message (every earlier message in the chat is marked read too). */
  messageId: string;
  /** Also show the typing indicator (dismissed by the next reply or after 25 seconds). */
  typing?: boolean;
  entryId?: string;
  signal?: AbortSignal;
}

/** Counters the client reports; a Prometheus adapter maps them to metrics. */
export interface ReplyMetrics {
  /** A message was accepted by the provider. `kind` is the message type. */
  sent(kind: string): void;
  /** A send failed for good. `code` is the provider code (`131047`), `http_<status>`, `network`, `timeout` or `invalid`. */
  failed(code: string): void;
  /** An attempt failed and will be retried; same `code` values as `failed`. */
  retried(code: string): void;
  /** A send had to wait for the per-number rate limit. */
  throttled(): void;
}

interface EventBase {
  /** The business phone number id. */
  from: string;
  entryId: string | undefined;
}
/** What the client reports as it works. `to` is the raw recipient: mask it before logging. */
export type CloudApiEvent =
  | (EventBase & { type: 'sent'; kind: string; to: string; messageId: string; attempts: number })
  | (EventBase & {
      type: 'retry';
      kind: string;
      to: string;
      reason: string;
      attempt: number;
      delayMs: number;
    })
  | (EventBase & { type: 'pair-backoff'; kind: string; to: string; strikes: number; delayMs: number })
  | (EventBase & { type: 'throttled'; kind: string; to: string; queued: number })
  | (EventBase & { type: 'error'; kind: string; to: string; error: ChatstateError });

export type CloudApiEventType = CloudApiEvent['type'];

export interface CloudApiClientOptions {
  /** A System User access token (or any token with `whatsapp_business_messaging`). */
  accessToken: string;
  /** Graph API base URL with the pinned version. Default `https://graph.facebook.com/v26.0`. */
  baseUrl?: string;
  /** The default sender (business phone number id) for calls that do not pass `from`. */
  phoneNumberId?: string;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Per HTTP attempt, headers and body included. Default 15 000 ms. */
  timeoutMs?: number;
  /** Retries of transient failures (5xx, network, timeout, 131000, 131016, 130429). Default 4. */
  maxRetries?: number;
  /** Backoff base: attempt n waits a random time in [0, retryBaseMs * 2^n). Default 500 ms. */
  retryBaseMs?: number;
  /** Backoff ceiling per wait. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Messages per second per business number; `false` disables. Default 80 (Meta's default throughput). */
  perNumberRate?: number | false;
  /**
   * Minimum spacing between two messages to the same user from the same number. Default 0: send
   * at once and back off only when Meta answers 131056 (see docs/replies.md). Set 6000 to never
   * exceed the documented 1 message / 6 s pair rate.
   */
  pairInterval?: number;
  /** Unit of the 131056 backoff: wait `unit * 4^X` with X the consecutive 131056 count. Default 1000 ms. */
  pairBackoffUnitMs?: number;
  /** Consecutive 131056 answers for one message before it fails with REPLY_RATE_LIMITED. Default 5. */
  maxPairRetries?: number;
  metrics?: ReplyMetrics;
  /** Receives every event (same as subscribing to each type with `on`). */
  onEvent?: (event: CloudApiEvent) => void;
  /** Test hooks: clock, sleep and the jitter source. */
  now?: Now;
  sleep?: Sleep;
  random?: () => number;
}

export interface CloudApiClient {
  /** Validates, then sends; resolves with the wamid once Meta accepted the message. */
  send(request: SendRequest): Promise<SendResult>;
  /** Marks a received message read, optionally showing the typing indicator. */
  markRead(request: MarkReadRequest): Promise<void>;
  on<T extends CloudApiEventType>(
    type: T,
    listener: (event: Extract<CloudApiEvent, { type: T }>) => void,
  ): () => void;
  readonly baseUrl: string;
}
