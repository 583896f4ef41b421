import { describe, expect, it } from 'vitest';
import { isMessageEvent, parseCloudApiPayload } from '../../src/webhook/index.js';
import { as, fixture } from './helpers.js';

const body = fixture('cloud-message-types.json');
const { events, ignored } = parseCloudApiPayload(body);
const byId = new Map(events.map((e) => [isMessageEvent(e) ? e.messageId : '', e]));
const event = (id: string) => byId.get(id);

describe('parseCloudApiPayload: every documented message type', () => {
  it('turns all 17 messages into events in body order and ignores nothing', () => {
    expect(ignored).toEqual([]);
    expect(events.map((e) => (isMessageEvent(e) ? e.messageId : e.kind))).toEqual([
      'wamid.TEXT001',
      'wamid.BUTTONREPLY001',
      'wamid.LISTREPLY001',
      'wamid.BUTTON001',
      'wamid.IMAGE001',
      'wamid.AUDIO001',
      'wamid.VIDEO001',
      'wamid.DOC001',
      'wamid.STICKER001',
      'wamid.LOCATION001',
      'wamid.CONTACTS001',
      'wamid.REACTION001',
      'wamid.REACTION002',
      'wamid.ORDER001',
      'wamid.UNSUPPORTED001',
      'wamid.FLOW001',
      'wamid.CONTEXT001',
    ]);
  });

  it('text: common fields, contact name matched by wa_id, timestamp in ms, raw by reference', () => {
    const text = as(event('wamid.TEXT001'), 'text');
    expect(text).toMatchObject({
      provider: 'cloud',
      kind: 'text',
      text: 'Does it come in another color?',
      userId: '16505551234',
      waId: '16505551234',
      bsuid: 'US.13491208655302741918',
      contactName: 'Sheena Nelson',
      businessPhoneNumberId: '106540352242922',
      displayPhoneNumber: '15550783881',
      wabaId: '102290129340398',
      timestamp: 1749416383000,
    });
    type Shape = { entry: Array<{ changes: Array<{ value: { messages: unknown[] } }> }> };
    const rawMessage = (body as unknown as Shape).entry[0]?.changes[0]?.value.messages[0];
    expect(rawMessage).toBeDefined();
    expect(text.raw).toBe(rawMessage);
  });

  it('button_reply and list_reply carry id/title (and description) plus the replied-to context', () => {
    const button = as(event('wamid.BUTTONREPLY001'), 'button_reply');
    expect(button).toMatchObject({ id: 'change-button', title: 'Change', contactName: 'Pablo Morales' });
    expect(button.context).toEqual({ messageId: 'wamid.BIZ_BUTTONS', from: '15550783881' });
    const list = as(event('wamid.LISTREPLY001'), 'list_reply');
    expect(list).toMatchObject({
      id: 'priority_express',
      title: 'Express Shipping',
      description: 'Next Day to 2 Days',
    });
  });

  it('template quick-reply button becomes template_button', () => {
    const tb = as(event('wamid.BUTTON001'), 'template_button');
    expect(tb.payload).toBe('Unsubscribe from Promos');
    expect(tb.text).toBe('Unsubscribe from Promos');
    expect(tb.context?.messageId).toBe('wamid.BIZ_TEMPLATE');
  });

  it('media: image/audio/video/document/sticker with ids and metadata, never bytes', () => {
    expect(as(event('wamid.IMAGE001'), 'media')).toMatchObject({
      mediaType: 'image',
      mediaId: '1003383421387256',
      mimeType: 'image/jpeg',
      caption: 'Black jacket',
      sha256: '1ee9b3f7e1b9d2c2b6b0c1b1b7a9e0a6f5b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9',
      url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256',
    });
    expect(as(event('wamid.AUDIO001'), 'media')).toMatchObject({
      mediaType: 'audio',
      mediaId: '1003383421387257',
      mimeType: 'audio/ogg; codecs=opus',
      voice: true,
    });
    expect(as(event('wamid.VIDEO001'), 'media')).toMatchObject({ mediaType: 'video', caption: 'Unboxing' });
    expect(as(event('wamid.DOC001'), 'media')).toMatchObject({
      mediaType: 'document',
      filename: 'lucky-shrub-invoice.pdf',
      mimeType: 'application/pdf',
      caption: 'Lucky Shrub Invoice',
    });
    expect(as(event('wamid.STICKER001'), 'media')).toMatchObject({ mediaType: 'sticker', animated: true });
  });

  it('location: lat/lng as numbers with name, address and url', () => {
    expect(as(event('wamid.LOCATION001'), 'location')).toMatchObject({
      lat: 37.483307,
      lng: -122.148981,
      name: 'Philz Coffee',
      address: '1 Hacker Way, Menlo Park, CA 94025',
      url: 'https://philzcoffee.com',
    });
  });

  it('contacts: names, phones (with wa_id), emails and company', () => {
    const { contacts } = as(event('wamid.CONTACTS001'), 'contacts');
    expect(contacts).toEqual([
      {
        formattedName: 'Barbara J. Johnson',
        firstName: 'Barbara',
        lastName: 'Johnson',
        phones: [{ phone: '+1 (415) 555-0123', waId: '14155550123', type: 'MOBILE' }],
        emails: [{ email: 'bjohnson@luckyshrub.com', type: 'WORK' }],
        organization: 'Lucky Shrub',
      },
    ]);
  });

  it('reaction: emoji, and null when the user removed it', () => {
    expect(as(event('wamid.REACTION001'), 'reaction')).toMatchObject({
      emoji: '👍',
      targetMessageId: 'wamid.BIZ_HELLO',
    });
    expect(as(event('wamid.REACTION002'), 'reaction')).toMatchObject({
      emoji: null,
      targetMessageId: 'wamid.BIZ_HELLO',
    });
  });

  it('order: catalog, note and items with numeric quantity/price (strings converted)', () => {
    const order = as(event('wamid.ORDER001'), 'order');
    expect(order.catalogId).toBe('194836987003835');
    expect(order.text).toBe('Please deliver before noon');
    expect(order.items).toEqual([
      { productRetailerId: 'di9ozbzfi4', quantity: 2, itemPrice: 30, currency: 'USD' },
      { productRetailerId: 'nqryix03ez', quantity: 1, itemPrice: 25.5, currency: 'USD' },
    ]);
  });

  it('unsupported: keeps the inner type and Meta errors', () => {
    const u = as(event('wamid.UNSUPPORTED001'), 'unsupported');
    expect(u.messageType).toBe('poll_creation');
    expect(u.errors).toEqual([
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        details: 'Message type is currently not supported.',
      },
    ]);
  });

  it('flow reply (nfm_reply) keeps the response JSON string', () => {
    const flow = as(event('wamid.FLOW001'), 'flow_reply');
    expect(JSON.parse(flow.responseJson)).toEqual({ flow_token: 'lead-42', email: 'a@b.co' });
    expect(flow.name).toBe('flow');
  });

  it('context flags and referred product; unknown extra fields are tolerated', () => {
    const text = as(event('wamid.CONTEXT001'), 'text');
    expect(text.context).toEqual({
      messageId: 'wamid.BIZ_PRODUCT',
      from: '15550783881',
      forwarded: true,
      frequentlyForwarded: true,
      referredProduct: { catalogId: '194836987003835', productRetailerId: 'di9ozbzfi4' },
    });
  });
});

describe('parseCloudApiPayload: click-to-WhatsApp referral', () => {
  it('keeps the message and attaches the ad fields as `referral`', () => {
    const result = parseCloudApiPayload(fixture('cloud-referral.json'));
    expect(result.events).toHaveLength(1);
    const text = as(result.events[0], 'text');
    expect(text.text).toBe('Can I get more info about this?');
    expect(text.referral).toMatchObject({
      sourceUrl: 'https://fb.me/3cr4Wqqkv',
      sourceId: '120226305854810726',
      sourceType: 'ad',
      headline: 'Chat with us',
      body: 'Summer succulents are here!',
      mediaType: 'image',
      imageUrl: 'https://scontent.xx.fbcdn.net/v/t45.1/ad.jpg',
      welcomeMessageText: 'Hi there! Let us know how we can help.',
    });
    expect(text.referral?.ctwaClid).toMatch(/^Aff-n8ZTODiE79d22/);
  });
});
