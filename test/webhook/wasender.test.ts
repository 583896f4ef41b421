import { describe, expect, it } from 'vitest';
import { isMessageEvent, jidToUserId, parseWasenderPayload } from '../../src/webhook/index.js';
import { as, fixture } from './helpers.js';

function upsert(messages: unknown[]) {
  return parseWasenderPayload({ event: 'messages.upsert', timestamp: 1633456789, data: { messages } });
}

function received(message: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseWasenderPayload({
    event: 'messages.received',
    timestamp: 1633456789,
    data: {
      messages: {
        key: { id: 'K1', fromMe: false, remoteJid: '12025550123@s.whatsapp.net' },
        message,
        ...extra,
      },
    },
  });
}

describe('jidToUserId', () => {
  it('maps phone jids to the number and keeps other domains whole', () => {
    expect(jidToUserId('12025550123@s.whatsapp.net')).toBe('12025550123');
    expect(jidToUserId('12025550123:17@s.whatsapp.net')).toBe('12025550123');
    expect(jidToUserId('12025550123@c.us')).toBe('12025550123');
    expect(jidToUserId('+12025550123')).toBe('12025550123');
    expect(jidToUserId('987654321098765@lid')).toBe('987654321098765@lid');
    expect(jidToUserId('120363271212442249@g.us')).toBe('120363271212442249@g.us');
  });
});

describe('parseWasenderPayload: messages.received (data.messages is an object)', () => {
  it('produces one text event keyed by key.id with the cleaned sender number', () => {
    const { events, ignored } = parseWasenderPayload(fixture('wasender-received.json'));
    expect(ignored).toEqual([]);
    expect(events).toHaveLength(1);
    expect(as(events[0], 'text')).toMatchObject({
      provider: 'wasender',
      businessPhoneNumberId: 'sess_8f2c1a',
      messageId: '3EB0X123456789',
      userId: '12025550123',
      waId: '12025550123',
      text: 'Hello, I have a question',
      contactName: 'John Doe',
      timestamp: 1633456780000,
    });
  });

  it('falls back to messageBody and to the envelope timestamp', () => {
    const { events } = parseWasenderPayload({
      event: 'messages.received',
      timestamp: 1633456789,
      data: {
        messages: {
          key: { id: 'K2', fromMe: false, remoteJid: '1555@s.whatsapp.net' },
          messageBody: 'flattened',
        },
      },
    });
    expect(as(events[0], 'text')).toMatchObject({
      text: 'flattened',
      timestamp: 1633456789000,
      userId: '1555',
    });
  });

  it('uses the phone number even when remoteJid is a linked id', () => {
    const { events } = parseWasenderPayload({
      event: 'messages-personal.received',
      timestamp: 1633456789,
      data: {
        messages: {
          key: { id: 'K3', fromMe: false, remoteJid: '123456789@lid', cleanedSenderPn: '5551234567' },
          messageBody: 'hi',
          message: { conversation: 'hi' },
        },
      },
    });
    expect(as(events[0], 'text').userId).toBe('5551234567');
  });
});

describe('parseWasenderPayload: messages.upsert (array with echoes and repeats)', () => {
  const { events, ignored } = parseWasenderPayload(fixture('wasender-upsert.json'));

  it('keeps user messages in order and drops fromMe echoes, repeats, newsletters and revokes', () => {
    expect(events.map((e) => (isMessageEvent(e) ? `${e.kind}:${e.messageId}` : e.kind))).toEqual([
      'text:BAE5A93B52084A3B',
      'media:3A1B2C3D4E5F6789',
      'media:GRP0000000000001',
      'unsupported:POLL000000000001',
    ]);
    expect(ignored.map((i) => [i.reason, i.path])).toEqual([
      ['from_me', 'data.messages[1]'],
      ['duplicate_in_body', 'data.messages[2]'],
      ['newsletter', 'data.messages[5]'],
      ['protocol_message', 'data.messages[6]'],
      ['malformed_message', 'data.messages[8]'],
    ]);
    expect(ignored[0]?.detail).toBe('BAE5BOTREPLY0001');
  });

  it('extendedTextMessage gives the text and the quoted message as context', () => {
    const text = as(events[0], 'text');
    expect(text.text).toBe('Reply with a link https://example.com');
    expect(text.context).toEqual({ messageId: 'BAE5BOTMSG000001', from: '15550001111@s.whatsapp.net' });
    expect(text.timestamp).toBe(1678886400000);
  });

  it('a sender known only by linked id keeps the @lid jid as userId', () => {
    const image = as(events[1], 'media');
    expect(image).toMatchObject({
      userId: '987654321098765@lid',
      mediaType: 'image',
      mediaId: '3A1B2C3D4E5F6789',
      mimeType: 'image/jpeg',
      caption: 'my receipt',
      sha256: '+9syKedGWLOHb+37S/cNIVxlUd9YAhPuRbJhULHMuvw=',
      url: 'https://mmg.whatsapp.net/o1/v/t62.7118-24/f1/m231/enc-image',
      timestamp: 1678886402000,
    });
    expect(image.waId).toBeUndefined();
  });

  it('group voice note inside an ephemeral wrapper: participant number, group id, Long timestamp', () => {
    expect(as(events[2], 'media')).toMatchObject({
      mediaType: 'audio',
      voice: true,
      userId: '44123456789',
      groupId: '120363271212442249@g.us',
      timestamp: 1678886403000,
    });
  });

  it('an unknown content key becomes unsupported with that key as type', () => {
    expect(as(events[3], 'unsupported')).toMatchObject({ messageType: 'pollCreationMessage', errors: [] });
  });
});

describe('parseWasenderPayload: repeats across bodies', () => {
  it('a message repeated in a later upsert body parses again (cross-body dedupe is the inbox claim)', () => {
    const item = {
      key: { id: 'SAME1', fromMe: false, remoteJid: '1555@s.whatsapp.net' },
      message: { conversation: 'x' },
    };
    const first = upsert([item]);
    const second = upsert([item, { ...item, key: { ...item.key, fromMe: true, id: 'ECHO1' } }]);
    expect(first.events.map((e) => (isMessageEvent(e) ? e.messageId : ''))).toEqual(['SAME1']);
    expect(second.events.map((e) => (isMessageEvent(e) ? e.messageId : ''))).toEqual(['SAME1']);
    expect(second.ignored).toEqual([{ reason: 'from_me', path: 'data.messages[1]', detail: 'ECHO1' }]);
  });
});

describe('parseWasenderPayload: content types', () => {
  it('location, reaction (and its removal), button and list replies, template button', () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [
        {
          locationMessage: {
            degreesLatitude: -23.55,
            degreesLongitude: -46.63,
            name: 'Sé',
            address: 'Praça da Sé',
          },
        },
        { kind: 'location', lat: -23.55, lng: -46.63, name: 'Sé', address: 'Praça da Sé' },
      ],
      [
        { reactionMessage: { key: { id: 'BOTMSG1', fromMe: true }, text: '❤️' } },
        { kind: 'reaction', emoji: '❤️', targetMessageId: 'BOTMSG1' },
      ],
      [
        { reactionMessage: { key: { id: 'BOTMSG1', fromMe: true }, text: '' } },
        { kind: 'reaction', emoji: null, targetMessageId: 'BOTMSG1' },
      ],
      [
        { buttonsResponseMessage: { selectedButtonId: 'yes', selectedDisplayText: 'Yes please' } },
        { kind: 'button_reply', id: 'yes', title: 'Yes please' },
      ],
      [
        {
          listResponseMessage: {
            title: 'Gold',
            description: '12 months',
            singleSelectReply: { selectedRowId: 'plan_gold' },
          },
        },
        { kind: 'list_reply', id: 'plan_gold', title: 'Gold', description: '12 months' },
      ],
      [
        { templateButtonReplyMessage: { selectedId: 'stop_promos', selectedDisplayText: 'Stop' } },
        { kind: 'template_button', payload: 'stop_promos', text: 'Stop' },
      ],
      [
        {
          documentWithCaptionMessage: {
            message: {
              documentMessage: { mimetype: 'application/pdf', fileName: 'cv.pdf', caption: 'my CV' },
            },
          },
        },
        {
          kind: 'media',
          mediaType: 'document',
          filename: 'cv.pdf',
          caption: 'my CV',
          mimeType: 'application/pdf',
        },
      ],
      [
        { stickerMessage: { mimetype: 'image/webp', isAnimated: true } },
        { kind: 'media', mediaType: 'sticker', animated: true },
      ],
    ];
    for (const [message, expected] of cases) {
      const { events, ignored } = received(message);
      expect(ignored).toEqual([]);
      expect(events[0]).toMatchObject({ ...expected, messageId: 'K1', userId: '12025550123' });
    }
  });

  it('shared contact: name and waid from the vCard', () => {
    const vcard =
      'BEGIN:VCARD\nVERSION:3.0\nFN:Barbara Johnson\nTEL;type=CELL;waid=14155550123:+1 415-555-0123\nEND:VCARD';
    const { events } = received({ contactMessage: { displayName: 'Barbara', vcard } });
    expect(as(events[0], 'contacts').contacts).toEqual([
      {
        formattedName: 'Barbara',
        phones: [{ phone: '+1 415-555-0123', waId: '14155550123' }],
        emails: [],
        vcard,
      },
    ]);
  });
});

describe('parseWasenderPayload: statuses', () => {
  it('messages.update status codes map to delivery states', () => {
    const { events } = parseWasenderPayload(fixture('wasender-update.json'));
    expect(as(events[0], 'status')).toMatchObject({
      provider: 'wasender',
      businessPhoneNumberId: 'sess_8f2c1a',
      messageId: 'BAE5BOTREPLY0001',
      status: 'delivered',
      recipientId: '12025550123',
      timestamp: 1747775431467,
      errors: [],
    });
    const codes = [0, 1, 2, 3, 4, 5].map((status) => {
      const result = parseWasenderPayload({
        event: 'messages.update',
        timestamp: 1747775431467,
        data: [
          { key: { id: `M${status}`, fromMe: true, remoteJid: '1@s.whatsapp.net' }, update: { status } },
        ],
      });
      return result.events[0]?.kind === 'status' ? result.events[0].status : result.ignored[0]?.reason;
    });
    expect(codes).toEqual(['failed', 'no_delivery_state', 'sent', 'delivered', 'read', 'played']);
    const edit = parseWasenderPayload({
      event: 'messages.update',
      data: {
        key: { id: 'E1', remoteJid: '1@s.whatsapp.net' },
        update: { message: { conversation: 'edited' } },
      },
    });
    expect(edit).toMatchObject({ events: [], ignored: [{ reason: 'no_delivery_state', path: 'data' }] });
  });

  it('group receipt with a read timestamp becomes a read status for that participant', () => {
    const { events } = parseWasenderPayload(fixture('wasender-receipt.json'));
    expect(as(events[0], 'status')).toMatchObject({
      messageId: 'BAE5BOTGROUP0001',
      status: 'read',
      recipientId: '44123456789',
      timestamp: 1747775499000,
    });
  });

  it('message.sent with a key becomes a sent status', () => {
    const { events } = parseWasenderPayload({
      event: 'message.sent',
      timestamp: 1747775431,
      data: { key: { id: 'OUT1', fromMe: true, remoteJid: '12025550123@s.whatsapp.net' } },
    });
    expect(as(events[0], 'status')).toMatchObject({
      messageId: 'OUT1',
      status: 'sent',
      timestamp: 1747775431000,
    });
  });
});

describe('parseWasenderPayload: envelopes it does not act on', () => {
  it('lists session/chat events and bodies without an event name in ignored', () => {
    expect(parseWasenderPayload({ event: 'session.status', data: { status: 'connected' } }).ignored).toEqual([
      { reason: 'unsupported_event', path: 'event', detail: 'session.status' },
    ]);
    expect(parseWasenderPayload({ hello: 'world' }).ignored[0]?.reason).toBe('unknown_event');
    expect(() => parseWasenderPayload('nope')).toThrowError(/JSON object/);
  });
});
