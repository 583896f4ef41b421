/**
 * WhatsApp Cloud API webhook body -> events. Walks every entry, every change and every message,
 * status and error in body order. Nothing here throws for content: an unknown object, field or
 * message type, or one broken message, is reported in `ignored` (or as an `unsupported` event) and
 * the rest of the batch still parses.
 */

import { extend } from '../extend.js';
import { requireObject } from './body.js';
import { buildCloudMessage, toContext, toReferral } from './cloud-messages.js';
import {
  type CloudContact,
  contactSchema,
  messageSchema,
  statusSchema,
  valueSchema,
} from './cloud-schemas.js';
import type { EventBase, MessageEventBase, ParseResult, StatusEvent } from './events.js';
import { Collector, describeIssue, errorSchema, isRecord, parseErrors, toWebhookError } from './shared.js';

/** The event fields every update in one `value` shares, built once per value and spread. */
type ValueScope = Pick<EventBase, 'provider' | 'businessPhoneNumberId' | 'displayPhoneNumber' | 'wabaId'>;

/**
 * @throws ChatstateError `WEBHOOK_BODY_MALFORMED` only when `json` is not an object at all.
 */
export function parseCloudApiPayload(json: unknown): ParseResult {
  const body = requireObject(json);
  const out = new Collector();
  if (body.object !== 'whatsapp_business_account') {
    out.ignore('unknown_object', 'object', String(body.object));
    return { events: out.events, ignored: out.ignored };
  }
  if (!Array.isArray(body.entry)) {
    out.ignore('malformed', 'entry', 'entry is not an array');
    return { events: out.events, ignored: out.ignored };
  }
  body.entry.forEach((entry: unknown, i) => {
    const entryPath = `entry[${i}]`;
    if (!isRecord(entry) || !Array.isArray(entry.changes)) {
      out.ignore('malformed', entryPath, 'entry has no changes array');
      return;
    }
    const wabaId = typeof entry.id === 'string' ? entry.id : undefined;
    entry.changes.forEach((change: unknown, j) => {
      const changePath = `${entryPath}.changes[${j}]`;
      if (!isRecord(change)) {
        out.ignore('malformed', changePath, 'change is not an object');
      } else if (change.field !== 'messages') {
        // Template, account and quality updates are valid webhooks this runtime does not act on.
        out.ignore('unsupported_field', `${changePath}.field`, String(change.field));
      } else {
        parseValue(change.value, `${changePath}.value`, wabaId, out);
      }
    });
  });
  return { events: out.events, ignored: out.ignored };
}

function parseValue(value: unknown, path: string, wabaId: string | undefined, out: Collector): void {
  const parsed = valueSchema.safeParse(value);
  if (!parsed.success) {
    out.ignore('malformed', path, describeIssue(parsed.error));
    return;
  }
  const v = parsed.data;
  const scope: ValueScope = { provider: 'cloud', businessPhoneNumberId: v.metadata.phone_number_id };
  if (v.metadata.display_phone_number !== undefined)
    scope.displayPhoneNumber = v.metadata.display_phone_number;
  if (wabaId !== undefined) scope.wabaId = wabaId;
  const contacts = indexContacts(v.contacts);
  v.messages?.forEach((m, k) => {
    parseMessage(m, `${path}.messages[${k}]`, scope, contacts, out);
  });
  v.statuses?.forEach((s, k) => {
    parseStatus(s, `${path}.statuses[${k}]`, scope, out);
  });
  v.errors?.forEach((e, k) => {
    const error = errorSchema.safeParse(e);
    if (error.success)
      out.events.push(extend(scope, { kind: 'error', error: toWebhookError(error.data), raw: e }));
    else out.ignore('malformed_error', `${path}.errors[${k}]`, describeIssue(error.error));
  });
}

/** Contacts are matched to messages by phone (`wa_id`) or BSUID (`user_id`), never by position. */
function indexContacts(list: unknown[] | undefined): Map<string, CloudContact> {
  const byId = new Map<string, CloudContact>();
  if (list === undefined) return byId;
  for (const item of list) {
    const parsed = contactSchema.safeParse(item);
    if (!parsed.success) continue;
    if (parsed.data.wa_id !== undefined) byId.set(parsed.data.wa_id, parsed.data);
    if (parsed.data.user_id !== undefined) byId.set(parsed.data.user_id, parsed.data);
  }
  return byId;
}

function parseMessage(
  value: unknown,
  path: string,
  scope: ValueScope,
  contacts: Map<string, CloudContact>,
  out: Collector,
): void {
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) {
    out.ignore('malformed_message', path, describeIssue(parsed.error));
    return;
  }
  const m = parsed.data;
  const contact =
    (m.from !== undefined ? contacts.get(m.from) : undefined) ??
    (m.from_user_id !== undefined ? contacts.get(m.from_user_id) : undefined);
  const waId = m.from ?? contact?.wa_id;
  const bsuid = m.from_user_id ?? contact?.user_id;
  // Phone first keeps existing sessions keyed as before; users who hide their number only have a BSUID.
  const userId = waId ?? bsuid;
  if (userId === undefined) {
    out.ignore('missing_sender', path, m.id);
    return;
  }
  if (!out.firstSighting(m.id, path)) return;
  const base: MessageEventBase = extend(scope, {
    messageId: m.id,
    userId,
    timestamp: m.timestamp,
    raw: value,
  });
  if (waId !== undefined) base.waId = waId;
  if (bsuid !== undefined) base.bsuid = bsuid;
  const parentBsuid = m.from_parent_user_id ?? contact?.parent_user_id;
  if (parentBsuid !== undefined) base.parentBsuid = parentBsuid;
  if (contact?.profile?.username !== undefined) base.username = contact.profile.username;
  if (contact?.profile?.name !== undefined) base.contactName = contact.profile.name;
  const context = toContext(m.context);
  if (context !== undefined) base.context = context;
  const referral = toReferral(m.referral);
  if (referral !== undefined) base.referral = referral;
  if (m.group_id !== undefined) base.groupId = m.group_id;

  const event = buildCloudMessage(m, value as Record<string, unknown>, base);
  if (typeof event === 'string') out.ignore('malformed_message', path, event);
  else out.events.push(event);
}

function parseStatus(value: unknown, path: string, scope: ValueScope, out: Collector): void {
  const parsed = statusSchema.safeParse(value);
  if (!parsed.success) {
    out.ignore('malformed_status', path, describeIssue(parsed.error));
    return;
  }
  const s = parsed.data;
  const recipientId = s.recipient_id ?? s.recipient_user_id;
  if (recipientId === undefined) {
    out.ignore('malformed_status', path, 'no recipient_id or recipient_user_id');
    return;
  }
  const event: StatusEvent = {
    ...scope,
    kind: 'status',
    messageId: s.id,
    status: s.status,
    recipientId,
    timestamp: s.timestamp,
    errors: parseErrors(s.errors),
    raw: value,
  };
  if (s.recipient_user_id !== undefined) event.recipientUserId = s.recipient_user_id;
  if (s.biz_opaque_callback_data !== undefined) event.bizOpaqueCallbackData = s.biz_opaque_callback_data;
  if (s.conversation !== undefined) {
    const { id, expiration_timestamp, origin } = s.conversation;
    event.conversation = { id, expiresAt: expiration_timestamp, originType: origin?.type };
  }
  if (s.pricing !== undefined) {
    const { billable, pricing_model, category, type } = s.pricing;
    event.pricing = { billable, pricingModel: pricing_model, category, type };
  }
  out.events.push(event);
}
