import type { ChatstateError } from '../../errors.js';
import type { Now, Sleep } from '../shared/time.js';
import type { ReplyMetrics } from '../whatsapp-cloud/types.js';

/** What WASenderApi's send-message endpoint sends (its `to` + one of these payloads). */
export type WasenderMessage =
  | { type: 'text'; text: string }
  | { type: 'image'; url: string; caption?: string }
  | { type: 'video'; url: string; caption?: string }
  | { type: 'document'; url: string; caption?: string }
  /** Sent as a voice note. */
  | { type: 'audio'; url: string }
  /** A .webp sticker. */
  | { type: 'sticker'; url: string };

export type WasenderMessageKind = WasenderMessage['type'];

export interface WasenderSendRequest {
  /** E.164 phone number, a group JID or a channel JID. */
  to: string;
  message: WasenderMessage;
  /** The caller's id for this send (outbox entry id); copied into events and errors, never sent. */
  entryId?: string;
  signal?: AbortSignal;
}

export interface WasenderSendResult {
  /** `data.msgId` as a string (WASender returns a number). */
  messageId: string;
  /** `data.status`, e.g. `in_progress`. */
  status: string | undefined;
  attempts: number;
}

interface EventBase {
  kind: string;
  to: string;
  entryId: string | undefined;
}
/** `to` is the raw recipient: mask it before logging. */
export type WasenderEvent =
  | (EventBase & { type: 'sent'; messageId: string; attempts: number })
  | (EventBase & { type: 'retry'; reason: string; attempt: number; delayMs: number })
  | (EventBase & { type: 'throttled'; queued: number })
  | (EventBase & { type: 'error'; error: ChatstateError });

export type WasenderEventType = WasenderEvent['type'];

export interface WasenderClientOptions {
  /** The session's API key (Bearer token). */
  apiKey: string;
  /** Default `https://www.wasenderapi.com/api`. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Per HTTP attempt. Default 15 000 ms. */
  timeoutMs?: number;
  /** Retries of 429, 5xx, network errors and timeouts. Default 4. */
  maxRetries?: number;
  /** Backoff base when the server gives no Retry-After. Default 500 ms. */
  retryBaseMs?: number;
  /** Ceiling of one jittered backoff wait. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Longest server-requested wait (Retry-After / X-RateLimit-Reset) honoured. Default 120 000 ms. */
  maxRetryAfterMs?: number;
  /**
   * Client-side pacing so the plan's limit is not hit in the first place, e.g.
   * `{ limit: 256, windowMs: 60_000 }` (paid plans) or `{ limit: 1, windowMs: 5_000 }` (account
   * protection). Default: none; a 429 is still honoured by waiting.
   */
  rate?: { limit: number; windowMs: number };
  metrics?: ReplyMetrics;
  onEvent?: (event: WasenderEvent) => void;
  now?: Now;
  sleep?: Sleep;
  random?: () => number;
}

export interface WasenderClient {
  send(request: WasenderSendRequest): Promise<WasenderSendResult>;
  on<T extends WasenderEventType>(
    type: T,
    listener: (event: Extract<WasenderEvent, { type: T }>) => void,
  ): () => void;
  readonly baseUrl: string;
}
