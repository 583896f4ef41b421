import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../src/channels/node/node-fetch.js';
import { type CloudMessage, createCloudApiClient } from '../../src/channels/whatsapp-cloud/index.js';
import { fakeGraphForFile } from '../support/fake-graph-for-file.js';

// Every message kind must reach Meta in the shape its Messages API documents. The fake records
// the bodies; these expectations are written from Meta's request syntax, not from our builder.
const graph = fakeGraphForFile();

const PHONE_ID = '106540352242922';
const USER = '16505551234';
const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: USER };

// Both transports: the global fetch (the default) and the node:http one `chatstate serve` uses.
let transport: typeof fetch | undefined;

function client() {
  return createCloudApiClient({
    baseUrl: graph.baseUrl,
    accessToken: graph.token,
    phoneNumberId: PHONE_ID,
    ...(transport ? { fetch: transport } : {}),
  });
}

async function sent(message: CloudMessage, replyTo?: string): Promise<unknown> {
  const result = await client().send({ to: USER, message, replyTo });
  expect(result.messageId).toMatch(/^wamid\./);
  const request = graph.requests.at(-1);
  expect(request?.path).toBe(`/v26.0/${PHONE_ID}/messages`);
  expect(request?.authorization).toBe(`Bearer ${graph.token}`);
  return request?.body;
}

describe.each([
  ['global fetch', () => undefined],
  ['node:http transport', () => createNodeFetch()],
])('Cloud API request bodies over %s', (_name, makeTransport) => {
  beforeAll(() => {
    transport = makeTransport();
  });

  it('text, with and without preview_url, and as a reply (context.message_id)', async () => {
    expect(await sent({ type: 'text', text: 'Hello' })).toEqual({
      ...envelope,
      type: 'text',
      text: { body: 'Hello' },
    });
    expect(await sent({ type: 'text', text: 'See https://example.com', previewUrl: true })).toEqual({
      ...envelope,
      type: 'text',
      text: { body: 'See https://example.com', preview_url: true },
    });
    expect(await sent({ type: 'text', text: 'Yes' }, 'wamid.ABC')).toEqual({
      ...envelope,
      context: { message_id: 'wamid.ABC' },
      type: 'text',
      text: { body: 'Yes' },
    });
  });

  it('media by id and by link, with caption and filename where Meta allows them', async () => {
    expect(await sent({ type: 'image', media: { id: '1479537139650973' }, caption: 'Aloe' })).toEqual({
      ...envelope,
      type: 'image',
      image: { id: '1479537139650973', caption: 'Aloe' },
    });
    expect(await sent({ type: 'video', media: { link: 'https://cdn.example.com/v.mp4' } })).toEqual({
      ...envelope,
      type: 'video',
      video: { link: 'https://cdn.example.com/v.mp4' },
    });
    expect(await sent({ type: 'audio', media: { id: '42' } })).toEqual({
      ...envelope,
      type: 'audio',
      audio: { id: '42' },
    });
    expect(
      await sent({
        type: 'document',
        media: { link: 'https://cdn.example.com/invoice.pdf' },
        caption: 'Your invoice',
        filename: 'invoice.pdf',
      }),
    ).toEqual({
      ...envelope,
      type: 'document',
      document: {
        link: 'https://cdn.example.com/invoice.pdf',
        caption: 'Your invoice',
        filename: 'invoice.pdf',
      },
    });
    expect(await sent({ type: 'sticker', media: { id: '7' } })).toEqual({
      ...envelope,
      type: 'sticker',
      sticker: { id: '7' },
    });
  });

  it('location and reactions (add and remove)', async () => {
    expect(
      await sent({
        type: 'location',
        latitude: 37.4421,
        longitude: -122.1615,
        name: 'Philz',
        address: '101 Forest Ave',
      }),
    ).toEqual({
      ...envelope,
      type: 'location',
      location: { latitude: 37.4421, longitude: -122.1615, name: 'Philz', address: '101 Forest Ave' },
    });
    expect(await sent({ type: 'reaction', messageId: 'wamid.X', emoji: '👍' })).toEqual({
      ...envelope,
      type: 'reaction',
      reaction: { message_id: 'wamid.X', emoji: '👍' },
    });
    expect(await sent({ type: 'reaction', messageId: 'wamid.X', emoji: '' })).toEqual({
      ...envelope,
      type: 'reaction',
      reaction: { message_id: 'wamid.X', emoji: '' },
    });
  });

  it('interactive reply buttons with text and media headers', async () => {
    expect(
      await sent({
        type: 'buttons',
        header: { type: 'text', text: 'Workshop' },
        body: 'Tomorrow 9am. Change it?',
        footer: 'Lucky Shrub',
        buttons: [
          { id: 'change', title: 'Change' },
          { id: 'cancel', title: 'Cancel' },
        ],
      }),
    ).toEqual({
      ...envelope,
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'Workshop' },
        body: { text: 'Tomorrow 9am. Change it?' },
        footer: { text: 'Lucky Shrub' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'change', title: 'Change' } },
            { type: 'reply', reply: { id: 'cancel', title: 'Cancel' } },
          ],
        },
      },
    });
    const body = await sent({
      type: 'buttons',
      header: { type: 'image', media: { id: '2762702990552401' } },
      body: 'Pick one',
      buttons: [{ id: 'a', title: 'A' }],
    });
    expect((body as { interactive: { header: unknown } }).interactive.header).toEqual({
      type: 'image',
      image: { id: '2762702990552401' },
    });
  });

  it('interactive lists with sections, rows and descriptions', async () => {
    expect(
      await sent({
        type: 'list',
        header: 'Shipping',
        body: 'Which option do you prefer?',
        footer: 'Lucky Shrub',
        button: 'Options',
        sections: [
          {
            title: 'Fast',
            rows: [
              { id: 'priority_express', title: 'Priority Mail Express', description: 'Next Day to 2 Days' },
              { id: 'priority', title: 'Priority Mail' },
            ],
          },
          { title: 'Cheap', rows: [{ id: 'ground', title: 'Ground Advantage' }] },
        ],
      }),
    ).toEqual({
      ...envelope,
      type: 'interactive',
      interactive: {
        type: 'list',
        header: { type: 'text', text: 'Shipping' },
        body: { text: 'Which option do you prefer?' },
        footer: { text: 'Lucky Shrub' },
        action: {
          button: 'Options',
          sections: [
            {
              title: 'Fast',
              rows: [
                { id: 'priority_express', title: 'Priority Mail Express', description: 'Next Day to 2 Days' },
                { id: 'priority', title: 'Priority Mail' },
              ],
            },
            { title: 'Cheap', rows: [{ id: 'ground', title: 'Ground Advantage' }] },
          ],
        },
      },
    });
  });

  it('templates with components and parameters; the result carries message_status', async () => {
    const components = [
      {
        type: 'header' as const,
        parameters: [{ type: 'image' as const, image: { link: 'https://cdn.example.com/h.png' } }],
      },
      {
        type: 'body' as const,
        parameters: [
          { type: 'text' as const, text: 'Pablo' },
          {
            type: 'currency' as const,
            currency: { fallback_value: '$100.99', code: 'USD', amount_1000: 100990 },
          },
        ],
      },
      {
        type: 'button' as const,
        sub_type: 'quick_reply',
        index: 0,
        parameters: [{ type: 'payload' as const, payload: 'STOP' }],
      },
    ];
    const result = await client().send({
      to: `+${USER}`,
      message: { type: 'template', name: 'order_update', language: 'en_US', components },
    });
    expect(result.messageStatus).toBe('accepted');
    expect(result.waId).toBe(USER);
    expect(graph.requests.at(-1)?.body).toEqual({
      ...envelope,
      to: `+${USER}`,
      type: 'template',
      template: { name: 'order_update', language: { code: 'en_US' }, components },
    });
  });

  it('mark as read, with the typing indicator when asked', async () => {
    await client().markRead({ messageId: 'wamid.IN1' });
    expect(graph.requests.at(-1)?.body).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN1',
    });
    await client().markRead({ messageId: 'wamid.IN2', typing: true });
    expect(graph.requests.at(-1)?.body).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN2',
      typing_indicator: { type: 'text' },
    });
  });

  it('the fake itself refuses what Meta refuses: a wrong token (190) and a missing messaging_product (100)', async () => {
    const wrong = await fetch(`${graph.baseUrl}/${PHONE_ID}/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: number; type: string } }).error).toMatchObject({
      code: 190,
      type: 'OAuthException',
    });
    const noProduct = await fetch(`${graph.baseUrl}/${PHONE_ID}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${graph.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: USER, type: 'text', text: { body: 'x' } }),
    });
    expect(noProduct.status).toBe(400);
    expect(((await noProduct.json()) as { error: { code: number } }).error.code).toBe(100);
  });
});
