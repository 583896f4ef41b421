/**
 * WASenderApi webhook body -> events. `messages.received` (and its personal/group variants) carries
 * one message as an object; `messages.upsert` carries an array that also holds the bot's own replies
 * (`fromMe`), which are dropped. `messages.update` / `message-receipt.update` / `message.sent`
 * become `status` events. The dedupe key is `key.id`.
 */
import { z } from 'zod';
import { extend } from '../extend.js';
import { requireObject } from './body.js';
import type { MessageEventBase, MessageStatus, ParseResult, StatusEvent } from './events.js';
import { Collector, describeIssue, isRecord, numberish, optionalString } from './shared.js';
import { buildWasenderMessage } from './wasender-content.js';

const MESSAGE_EVENTS = new Set([
  'messages.received',
  'messages-personal.received',
  'messages-group.received',
  'messages-newsletter.received',
  'messages.upsert',
]);

/** `messages.update` status codes (documented 0-5) and their WhatsApp Web names. */
const STATUS_BY_CODE: Record<string, MessageStatus | 'pending'> = {
  0: 'failed',
  1: 'pending',
  2: 'sent',
  3: 'delivered',
  4: 'read',
  5: 'played',
  ERROR: 'failed',
  PENDING: 'pending',
  SERVER_ACK: 'sent',
  DELIVERY_ACK: 'delivered',
  READ: 'read',
  PLAYED: 'played',
};

const idish = z.union([z.string(), z.number()]).transform(String).optional().catch(undefined);
/** Seconds or milliseconds, as a number, numeric string or protobuf Long `{low, high}`. */
const timeish = z
  .union([
    numberish,
    z.object({ low: z.number(), high: z.number() }).transform((l) => (l.low >>> 0) + l.high * 2 ** 32),
  ])
  .optional()
  .catch(undefined);

const keySchema = z.object({
  id: z.string().min(1),
  fromMe: z.boolean().optional().catch(undefined),
  remoteJid: optionalString,
  participant: optionalString,
  senderPn: optionalString,
  cleanedSenderPn: idish,
  senderLid: optionalString,
  participantPn: optionalString,
  cleanedParticipantPn: idish,
});
type Key = z.infer<typeof keySchema>;

const messageItemSchema = z.object({
  key: keySchema,
  message: z.record(z.string(), z.unknown()).nullish().catch(undefined),
  messageBody: z.string().nullish().catch(undefined),
  pushName: z.string().nullish().catch(undefined),
  messageTimestamp: timeish,
});

const envelopeSchema = z.object({
  event: z.string(),
  timestamp: timeish,
  sessionId: optionalString.catch(undefined),
  data: z.unknown(),
});

const updateSchema = z.object({
  key: keySchema,
  update: z.object({ status: z.union([z.number(), z.string()]).optional() }),
});
const receiptSchema = z.object({
  key: keySchema,
  receipt: z.object({
    userJid: optionalString,
    receiptTimestamp: timeish,
    readTimestamp: timeish,
    playedTimestamp: timeish,
  }),
});

/** Seconds and milliseconds both occur (even within one provider); anything below 1e12 is seconds. */
function toMs(value: number): number {
  return value < 1e12 ? value * 1000 : value;
}

/**
 * `1202…@s.whatsapp.net` / `…@c.us` -> the phone number; other jids (`…@lid`, `…@g.us`) keep their
 * domain so a linked id can never be mistaken for a phone number. Device suffixes (`:12`) go.
 */
export function jidToUserId(jid: string): string {
  const at = jid.indexOf('@');
  const user = (at < 0 ? jid : jid.slice(0, at)).split(':')[0] ?? '';
  const domain = at < 0 ? '' : jid.slice(at + 1);
  if (domain === '' || domain === 's.whatsapp.net' || domain === 'c.us') return user.replace(/^\+/, '');
  return `${user}@${domain}`;
}

function isPhoneJid(jid: string | undefined): jid is string {
  return jid !== undefined && (jid.endsWith('@s.whatsapp.net') || jid.endsWith('@c.us'));
}

/** The sender's phone number when any field gives it, else its linked id; groups look at the participant. */
function senderOf(key: Key): { userId?: string; phone?: string } {
  const group = key.remoteJid?.endsWith('@g.us') === true;
  const cleaned = group ? key.cleanedParticipantPn : key.cleanedSenderPn;
  const pnJid = group ? key.participantPn : key.senderPn;
  const chatJid = group ? key.participant : key.remoteJid;
  const phone =
    (cleaned || undefined) ??
    (pnJid ? jidToUserId(pnJid) : undefined) ??
    (isPhoneJid(chatJid) ? jidToUserId(chatJid) : undefined);
  if (phone !== undefined) return { userId: phone, phone };
  const linked = chatJid ?? key.senderLid;
  return linked === undefined ? {} : { userId: jidToUserId(linked) };
}

/** Message items live in `data.messages` (object or array), in `data` itself, or in a `data` array. */
function messageItems(data: unknown): Array<[unknown, string]> {
  if (Array.isArray(data)) return data.map((item, i) => [item, `data[${i}]`]);
  if (!isRecord(data)) return [];
  const { messages } = data;
  if (Array.isArray(messages)) return messages.map((item, i) => [item, `data.messages[${i}]`]);
  if (isRecord(messages)) return [[messages, 'data.messages']];
  return isRecord(data.key) ? [[data, 'data']] : [];
}

/**
 * @throws ChatstateError `WEBHOOK_BODY_MALFORMED` only when `json` is not an object at all.
 */
export function parseWasenderPayload(json: unknown): ParseResult {
  const body = requireObject(json);
  const out = new Collector();
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    out.ignore('unknown_event', 'event', describeIssue(envelope.error));
    return { events: out.events, ignored: out.ignored };
  }
  const { event, data, sessionId } = envelope.data;
  const receivedAt = envelope.data.timestamp === undefined ? Date.now() : toMs(envelope.data.timestamp);
  const base: Scope = { provider: 'wasender', businessPhoneNumberId: sessionId ?? '' };

  if (MESSAGE_EVENTS.has(event)) {
    const items = messageItems(data);
    if (items.length === 0) out.ignore('malformed', 'data', `${event} without messages`);
    for (const [item, path] of items) parseMessageItem(item, path, base, receivedAt, out);
  } else if (event === 'messages.update') {
    forEachItem(data, 'data', (item, path) => parseUpdate(item, path, base, receivedAt, out));
  } else if (event === 'message-receipt.update') {
    const nested = isRecord(data) && isRecord(data.message);
    forEachItem(nested ? data.message : data, nested ? 'data.message' : 'data', (item, path) =>
      parseReceipt(item, path, base, out),
    );
  } else if (event === 'message.sent') {
    const key = keySchema.safeParse(isRecord(data) ? data.key : undefined);
    if (!key.success) out.ignore('malformed_status', 'data.key', describeIssue(key.error));
    else pushStatus(out, base, key.data, 'sent', key.data.remoteJid, receivedAt, data);
  } else {
    // Session, QR, chat, contact and group events are not conversation input.
    out.ignore('unsupported_event', 'event', event);
  }
  return { events: out.events, ignored: out.ignored };
}

function forEachItem(data: unknown, path: string, fn: (item: unknown, path: string) => void): void {
  if (Array.isArray(data)) {
    for (const [i, item] of data.entries()) fn(item, `${path}[${i}]`);
  } else fn(data, path);
}

type Scope = { provider: 'wasender'; businessPhoneNumberId: string };

function parseUpdate(item: unknown, path: string, scope: Scope, receivedAt: number, out: Collector): void {
  const parsed = updateSchema.safeParse(item);
  if (!parsed.success) {
    out.ignore('malformed_status', path, describeIssue(parsed.error));
    return;
  }
  // Edits and other non-delivery updates arrive on the same event without a status.
  const code = parsed.data.update.status;
  const status = code === undefined ? undefined : STATUS_BY_CODE[String(code)];
  if (status === undefined || status === 'pending') {
    out.ignore('no_delivery_state', path, String(code));
    return;
  }
  pushStatus(out, scope, parsed.data.key, status, parsed.data.key.remoteJid, receivedAt, item);
}

/** Group receipts are per participant; the furthest state reached wins (played > read > delivered). */
function parseReceipt(item: unknown, path: string, scope: Scope, out: Collector): void {
  const parsed = receiptSchema.safeParse(item);
  if (!parsed.success) {
    out.ignore('malformed_status', path, describeIssue(parsed.error));
    return;
  }
  const { key, receipt } = parsed.data;
  const [status, at] =
    receipt.playedTimestamp !== undefined
      ? (['played', receipt.playedTimestamp] as const)
      : receipt.readTimestamp !== undefined
        ? (['read', receipt.readTimestamp] as const)
        : (['delivered', receipt.receiptTimestamp] as const);
  if (at === undefined) {
    out.ignore('no_delivery_state', path, 'receipt has no timestamp');
    return;
  }
  pushStatus(out, scope, key, status, receipt.userJid ?? key.remoteJid, toMs(at), item);
}

function pushStatus(
  out: Collector,
  base: Scope,
  key: Key,
  status: MessageStatus,
  recipientJid: string | undefined,
  timestamp: number,
  raw: unknown,
): void {
  const event: StatusEvent = {
    ...base,
    kind: 'status',
    messageId: key.id,
    status,
    recipientId: recipientJid === undefined ? '' : jidToUserId(recipientJid),
    timestamp,
    errors: [],
    raw,
  };
  out.events.push(event);
}

function parseMessageItem(
  item: unknown,
  path: string,
  scope: Scope,
  receivedAt: number,
  out: Collector,
): void {
  const parsed = messageItemSchema.safeParse(item);
  if (!parsed.success) {
    out.ignore('malformed_message', path, describeIssue(parsed.error));
    return;
  }
  const { key, message, messageBody, pushName, messageTimestamp } = parsed.data;
  // Echoes of what the bot itself sent: acting on them would make the bot answer itself.
  if (key.fromMe === true) {
    out.ignore('from_me', path, key.id);
    return;
  }
  const remote = key.remoteJid ?? '';
  if (remote.endsWith('@newsletter')) {
    out.ignore('newsletter', path, key.id);
    return;
  }
  if (remote.endsWith('@broadcast')) {
    out.ignore('broadcast', path, key.id);
    return;
  }
  const { userId, phone } = senderOf(key);
  if (userId === undefined) {
    out.ignore('missing_sender', path, key.id);
    return;
  }
  if (!out.firstSighting(key.id, path)) return;

  const timestamp = messageTimestamp === undefined ? receivedAt : toMs(messageTimestamp);
  const base: MessageEventBase = extend(scope, { messageId: key.id, userId, timestamp, raw: item });
  if (phone !== undefined) base.waId = phone;
  if (pushName) base.contactName = pushName;
  if (remote.endsWith('@g.us')) base.groupId = remote;

  const event = buildWasenderMessage(message ?? undefined, messageBody ?? undefined, base);
  if (event === null) out.ignore('protocol_message', path, key.id);
  else if (typeof event === 'string') out.ignore('malformed_message', path, event);
  else out.events.push(event);
}
