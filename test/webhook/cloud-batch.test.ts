import { describe, expect, it } from 'vitest';
import { isChatstateError } from '../../src/errors.js';
import { type InboundEvent, isMessageEvent, parseCloudApiPayload } from '../../src/webhook/index.js';
import {
  as,
  cloudBody,
  cloudContact,
  cloudText,
  cloudValue,
  fixture,
  messagesChange,
  PHONE_NUMBER_ID,
} from './helpers.js';

const summary = (e: InboundEvent) =>
  isMessageEvent(e) ? `${e.businessPhoneNumberId}/${e.userId}/${e.messageId}` : `${e.kind}`;

describe('parseCloudApiPayload: batches', () => {
  it('parses every entry, change and message from several users, in body order', () => {
    const body = cloudBody([
      {
        id: 'WABA_A',
        changes: [
          messagesChange(
            cloudValue(
              {
                // Contacts listed in a different order than the messages: matching is by id, not position.
                contacts: [cloudContact('222', 'Bea'), cloudContact('111', 'Al')],
                messages: [
                  cloudText('m1', '111', 'a1'),
                  cloudText('m2', '222', 'b1'),
                  cloudText('m3', '111', 'a2'),
                ],
              },
              'PN_1',
            ),
          ),
          messagesChange(
            cloudValue(
              { contacts: [cloudContact('333', 'Cy')], messages: [cloudText('m4', '333', 'c1')] },
              'PN_2',
            ),
          ),
        ],
      },
      {
        id: 'WABA_B',
        changes: [
          messagesChange(
            cloudValue(
              {
                contacts: [cloudContact('444', 'Di'), cloudContact('111', 'Al')],
                messages: [cloudText('m5', '444', 'd1'), cloudText('m6', '111', 'a3')],
              },
              'PN_3',
            ),
          ),
          messagesChange(cloudValue({ messages: [cloudText('m7', '555', 'e1')] }, 'PN_3')),
        ],
      },
    ]);
    const { events, ignored } = parseCloudApiPayload(body);
    expect(ignored).toEqual([]);
    expect(events.map(summary)).toEqual([
      'PN_1/111/m1',
      'PN_1/222/m2',
      'PN_1/111/m3',
      'PN_2/333/m4',
      'PN_3/444/m5',
      'PN_3/111/m6',
      'PN_3/555/m7',
    ]);
    const names = events.map((e) => (isMessageEvent(e) ? e.contactName : undefined));
    expect(names).toEqual(['Al', 'Bea', 'Al', 'Cy', 'Di', 'Al', undefined]);
    expect(events.map((e) => e.wabaId)).toEqual([
      'WABA_A',
      'WABA_A',
      'WABA_A',
      'WABA_A',
      'WABA_B',
      'WABA_B',
      'WABA_B',
    ]);
    expect(events.map((e) => (e.kind === 'text' ? e.text : ''))).toEqual([
      'a1',
      'b1',
      'a2',
      'c1',
      'd1',
      'a3',
      'e1',
    ]);
  });

  it('drops a second copy of a message id inside one body', () => {
    const value = cloudValue({ messages: [cloudText('dup', '111', 'x'), cloudText('dup', '111', 'x')] });
    const { events, ignored } = parseCloudApiPayload(
      cloudBody([{ id: 'W', changes: [messagesChange(value)] }]),
    );
    expect(events).toHaveLength(1);
    expect(ignored).toEqual([
      { reason: 'duplicate_in_body', path: 'entry[0].changes[0].value.messages[1]', detail: 'dup' },
    ]);
  });

  it('a broken message is ignored with a reason while the rest of the batch parses', () => {
    const value = cloudValue({
      messages: [
        cloudText('ok1', '111', 'first'),
        { from: '111', timestamp: '1749416383', type: 'text', text: { body: 'no id' } },
        { from: '111', id: 'bad-ts', timestamp: 'yesterday', type: 'text', text: { body: 'x' } },
        { from: '111', id: 'no-body', timestamp: '1749416383', type: 'text', text: {} },
        { id: 'no-sender', timestamp: '1749416383', type: 'text', text: { body: 'x' } },
        cloudText('ok2', '111', 'last'),
      ],
    });
    const { events, ignored } = parseCloudApiPayload(
      cloudBody([{ id: 'W', changes: [messagesChange(value)] }]),
    );
    expect(events.map((e) => (isMessageEvent(e) ? e.messageId : e.kind))).toEqual(['ok1', 'ok2']);
    expect(ignored.map((i) => [i.reason, i.path])).toEqual([
      ['malformed_message', 'entry[0].changes[0].value.messages[1]'],
      ['malformed_message', 'entry[0].changes[0].value.messages[2]'],
      ['malformed_message', 'entry[0].changes[0].value.messages[3]'],
      ['missing_sender', 'entry[0].changes[0].value.messages[4]'],
    ]);
    expect(ignored[0]?.detail).toMatch(/^id:/);
    expect(ignored[2]?.detail).toMatch(/^body:/);
  });

  it('unknown object and unknown field are listed in ignored, never thrown', () => {
    const page = parseCloudApiPayload({ object: 'page', entry: [{ id: '1', changes: [] }] });
    expect(page).toEqual({
      events: [],
      ignored: [{ reason: 'unknown_object', path: 'object', detail: 'page' }],
    });

    const body = cloudBody([
      {
        id: 'W',
        changes: [
          { field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1 } },
          messagesChange(cloudValue({ messages: [cloudText('m1', '111', 'hi')] })),
        ],
      },
    ]);
    const { events, ignored } = parseCloudApiPayload(body);
    expect(events).toHaveLength(1);
    expect(ignored).toEqual([
      {
        reason: 'unsupported_field',
        path: 'entry[0].changes[0].field',
        detail: 'message_template_status_update',
      },
    ]);
  });

  it('an unknown message type becomes an unsupported event, not an error', () => {
    const value = cloudValue({
      messages: [
        { from: '111', id: 'new1', timestamp: '1749416383', type: 'hologram', hologram: { x: 1 } },
        {
          from: '111',
          id: 'new2',
          timestamp: '1749416383',
          type: 'interactive',
          interactive: { type: 'call_permission_reply', call_permission_reply: { response: 'accept' } },
        },
        { from: '111', id: 'new3', timestamp: '1749416383', type: 'request_welcome' },
      ],
    });
    const { events, ignored } = parseCloudApiPayload(
      cloudBody([{ id: 'W', changes: [messagesChange(value)] }]),
    );
    expect(ignored).toEqual([]);
    const u = as(events[0], 'unsupported');
    expect(u.messageType).toBe('hologram');
    expect(u.errors).toEqual([]);
    expect(u.userId).toBe('111');
    expect(as(events[1], 'unsupported').messageType).toBe('interactive.call_permission_reply');
    expect(as(events[2], 'unsupported').messageType).toBe('request_welcome');
  });

  it('throws WEBHOOK_BODY_MALFORMED only when the body is not an object', () => {
    for (const body of [null, [], 'x', 42]) {
      expect(() => parseCloudApiPayload(body)).toThrowError(/webhook body must be a JSON object/);
      try {
        parseCloudApiPayload(body);
      } catch (error) {
        expect(isChatstateError(error, 'WEBHOOK_BODY_MALFORMED')).toBe(true);
      }
    }
    expect(parseCloudApiPayload({ object: 'whatsapp_business_account', entry: 'x' }).ignored).toEqual([
      { reason: 'malformed', path: 'entry', detail: 'entry is not an array' },
    ]);
  });
});

describe('parseCloudApiPayload: statuses and errors', () => {
  const { events, ignored } = parseCloudApiPayload(fixture('cloud-statuses.json'));

  it('turns each status and each value-level error into an event, in order', () => {
    expect(ignored).toEqual([]);
    expect(events.map((e) => (e.kind === 'status' ? `${e.messageId}:${e.status}` : e.kind))).toEqual([
      'wamid.OUT001:sent',
      'wamid.OUT001:delivered',
      'wamid.OUT001:read',
      'wamid.OUT002:failed',
      'wamid.OUT003:failed',
      'wamid.OUT004:played',
      'error',
    ]);
  });

  it('sent status keeps recipient, conversation, pricing and opaque callback data', () => {
    expect(as(events[0], 'status')).toMatchObject({
      provider: 'cloud',
      businessPhoneNumberId: PHONE_NUMBER_ID,
      recipientId: '16505551234',
      recipientUserId: 'US.13491208655302741918',
      timestamp: 1750263773000,
      bizOpaqueCallbackData: 'lead-42',
      conversation: {
        id: '6ceb9d929c1a2a3b4c5d6e7f8a9b0c1d',
        expiresAt: 1750350180000,
        originType: 'service',
      },
      pricing: { billable: true, pricingModel: 'PMP', category: 'service', type: 'free_customer_service' },
      errors: [],
    });
  });

  it('failed statuses carry code, title, message and details', () => {
    expect(as(events[3], 'status').errors).toEqual([
      {
        code: 131047,
        title: 'Re-engagement message',
        message: 'Re-engagement message',
        details:
          'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
      },
    ]);
    expect(as(events[4], 'status').errors.map((e) => e.code)).toEqual([131056]);
  });

  it('value-level errors become error events', () => {
    const error = as(events[6], 'error');
    expect(error.error).toMatchObject({ code: 130429, title: 'Rate limit hit' });
    expect(error.businessPhoneNumberId).toBe(PHONE_NUMBER_ID);
  });

  it('an unknown status value is ignored with its path', () => {
    const value = cloudValue({
      statuses: [{ id: 'w1', status: 'teleported', timestamp: '1750263773', recipient_id: '1' }],
    });
    const result = parseCloudApiPayload(cloudBody([{ id: 'W', changes: [messagesChange(value)] }]));
    expect(result.events).toEqual([]);
    expect(result.ignored[0]).toMatchObject({
      reason: 'malformed_status',
      path: 'entry[0].changes[0].value.statuses[0]',
    });
  });
});
