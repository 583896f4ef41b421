import { describe, expect, it } from 'vitest';
import { isMessageEvent, parseCloudApiPayload } from '../../src/webhook/index.js';
import { as, cloudBody, cloudContact, cloudText, cloudValue, messagesChange } from './helpers.js';

describe('parseCloudApiPayload: identities', () => {
  it('a user with no phone number (username adopter) is identified by the BSUID', () => {
    const value = cloudValue({
      contacts: [{ profile: { name: 'Bob', username: '@bob' }, user_id: 'US.13491208655302741918' }],
      messages: [
        {
          from_user_id: 'US.13491208655302741918',
          id: 'wamid.BSUID001',
          timestamp: '1776944344',
          type: 'text',
          text: { body: 'hello from a username' },
        },
      ],
    });
    const { events } = parseCloudApiPayload(cloudBody([{ id: 'W', changes: [messagesChange(value)] }]));
    const text = as(events[0], 'text');
    expect(text.userId).toBe('US.13491208655302741918');
    expect(text.bsuid).toBe('US.13491208655302741918');
    expect(text.waId).toBeUndefined();
    expect(text.contactName).toBe('Bob');
    expect(text.username).toBe('@bob');
  });

  it('system message: number change (no contacts array), new wa_id exposed', () => {
    const value = cloudValue({
      messages: [
        {
          from: '16505551234',
          id: 'wamid.SYSTEM001',
          timestamp: '1739321024',
          type: 'system',
          system: {
            body: 'User Sheena Nelson changed from 16505551234 to 12195555358',
            wa_id: '12195555358',
            type: 'user_changed_number',
          },
        },
      ],
    });
    const { events } = parseCloudApiPayload(cloudBody([{ id: 'W', changes: [messagesChange(value)] }]));
    expect(as(events[0], 'system')).toMatchObject({
      userId: '16505551234',
      systemType: 'user_changed_number',
      newWaId: '12195555358',
      body: 'User Sheena Nelson changed from 16505551234 to 12195555358',
    });
  });
});

describe('parseCloudApiPayload: volume', () => {
  it('parses a 1000-message body from 50 users completely and in order', () => {
    const messages = Array.from({ length: 1000 }, (_, i) =>
      cloudText(
        `wamid.${i}`,
        `1555000${String(i % 50).padStart(4, '0')}`,
        `msg ${i}`,
        String(1749416383 + i),
      ),
    );
    const contacts = Array.from({ length: 50 }, (_, u) =>
      cloudContact(`1555000${String(u).padStart(4, '0')}`, `User ${u}`),
    );
    const body = cloudBody([{ id: 'W', changes: [messagesChange(cloudValue({ contacts, messages }))] }]);
    const { events, ignored } = parseCloudApiPayload(body);
    expect(ignored).toEqual([]);
    expect(events).toHaveLength(1000);
    expect(events.map((e) => (isMessageEvent(e) ? e.messageId : ''))).toEqual(messages.map((m) => m.id));
    const last = as(events[999], 'text');
    expect(last).toMatchObject({ text: 'msg 999', userId: '15550000049', contactName: 'User 49' });
    expect(last.timestamp).toBe((1749416383 + 999) * 1000);
  });
});
