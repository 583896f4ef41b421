import { describe, expect, it } from 'vitest';
import {
  type CloudMessage,
  createCloudApiClient,
  validateMessage,
} from '../../src/channels/whatsapp-cloud/index.js';
import { ChatstateError } from '../../src/errors.js';
import { fakeGraphForFile } from '../support/fake-graph-for-file.js';

// Invalid messages must fail at the call site, naming the field and the limit, before any request.
const graph = fakeGraphForFile();

const rows = (n: number, prefix = 'r') =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, title: `Row ${i}` }));
const buttons = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `b${i}`, title: `Button ${i}` }));
const list = (
  sections: Array<{ title?: string; rows: Array<{ id: string; title: string; description?: string }> }>,
): CloudMessage => ({
  type: 'list',
  body: 'Pick',
  button: 'Open',
  sections,
});

function rejection(message: CloudMessage): ChatstateError {
  try {
    validateMessage(message);
  } catch (error) {
    expect(error).toBeInstanceOf(ChatstateError);
    return error as ChatstateError;
  }
  throw new Error('expected the message to be rejected');
}

describe('validation against the documented limits', () => {
  it.each<[string, CloudMessage, string, RegExp]>([
    [
      '4 reply buttons',
      { type: 'buttons', body: 'Pick', buttons: buttons(4) },
      'message.buttons',
      /4 buttons; the limit is 3/,
    ],
    [
      'a 21-character button title',
      { type: 'buttons', body: 'Pick', buttons: [{ id: 'a', title: 'x'.repeat(21) }] },
      'message.buttons[0].title',
      /21 characters; the limit is 20/,
    ],
    [
      'a 257-character button id',
      { type: 'buttons', body: 'Pick', buttons: [{ id: 'i'.repeat(257), title: 'A' }] },
      'message.buttons[0].id',
      /the limit is 256/,
    ],
    [
      'duplicate button titles',
      {
        type: 'buttons',
        body: 'Pick',
        buttons: [
          { id: 'a', title: 'Same' },
          { id: 'b', title: 'Same' },
        ],
      },
      'message.buttons[1]',
      /must be unique/,
    ],
    [
      'a button body over 1024',
      { type: 'buttons', body: 'b'.repeat(1025), buttons: buttons(1) },
      'message.body',
      /the limit is 1024/,
    ],
    [
      'a 61-character button footer',
      { type: 'buttons', body: 'Pick', footer: 'f'.repeat(61), buttons: buttons(1) },
      'message.footer',
      /the limit is 60/,
    ],
    [
      '11 list rows in total',
      list([
        { title: 'A', rows: rows(6, 'a') },
        { title: 'B', rows: rows(5, 'b') },
      ]),
      'message.sections',
      /11 rows in total; the limit is 10/,
    ],
    [
      '11 sections',
      list(Array.from({ length: 11 }, (_, i) => ({ title: `S${i}`, rows: rows(1, `s${i}-`) }))),
      'message.sections',
      /11 sections; the limit is 10/,
    ],
    [
      'duplicate row ids',
      list([
        { title: 'A', rows: [{ id: 'x', title: 'One' }] },
        { title: 'B', rows: [{ id: 'x', title: 'Two' }] },
      ]),
      'message.sections[].rows[1]',
      /must be unique/,
    ],
    [
      'a 25-character row title',
      list([{ rows: [{ id: 'x', title: 't'.repeat(25) }] }]),
      'message.sections[0].rows[0].title',
      /the limit is 24/,
    ],
    [
      'a 73-character row description',
      list([{ rows: [{ id: 'x', title: 'T', description: 'd'.repeat(73) }] }]),
      'message.sections[0].rows[0].description',
      /the limit is 72/,
    ],
    [
      'a 201-character row id',
      list([{ rows: [{ id: 'i'.repeat(201), title: 'T' }] }]),
      'message.sections[0].rows[0].id',
      /the limit is 200/,
    ],
    [
      'an untitled section among two',
      list([{ rows: rows(1, 'a') }, { title: 'B', rows: rows(1, 'b') }]),
      'message.sections[0].title',
      /is required/,
    ],
    [
      'a 25-character section title',
      list([{ title: 's'.repeat(25), rows: rows(1) }]),
      'message.sections[0].title',
      /the limit is 24/,
    ],
    [
      'a 21-character list button',
      { type: 'list', body: 'Pick', button: 'b'.repeat(21), sections: [{ rows: rows(1) }] },
      'message.button',
      /the limit is 20/,
    ],
    ['an empty text', { type: 'text', text: '   ' }, 'message.text', /is empty/],
    [
      'a text over 4096',
      { type: 'text', text: 'x'.repeat(4097) },
      'message.text',
      /4097 characters; the limit is 4096/,
    ],
    [
      'a caption over 1024',
      { type: 'image', media: { id: '1' }, caption: 'c'.repeat(1025) },
      'message.caption',
      /the limit is 1024/,
    ],
    [
      'media with both id and link',
      { type: 'image', media: { id: '1', link: 'https://x' } as never },
      'message.media',
      /exactly one of id/,
    ],
    [
      'a non-http media link',
      { type: 'document', media: { link: 'ftp://x/y.pdf' } },
      'message.media.link',
      /http\(s\) URL/,
    ],
    [
      'a caption on a sticker',
      { type: 'sticker', media: { id: '1' }, caption: 'no' } as never,
      'message.caption',
      /not supported on sticker/,
    ],
    [
      'two emojis in a reaction',
      { type: 'reaction', messageId: 'wamid.X', emoji: '👍👍' },
      'message.emoji',
      /exactly one emoji/,
    ],
    [
      'a letter as a reaction',
      { type: 'reaction', messageId: 'wamid.X', emoji: 'A' },
      'message.emoji',
      /exactly one emoji/,
    ],
    [
      'a latitude out of range',
      { type: 'location', latitude: 91, longitude: 0 },
      'message.latitude',
      /between -90 and 90/,
    ],
    [
      'a button component without index',
      { type: 'template', name: 't', language: 'en', components: [{ type: 'button', sub_type: 'url' }] },
      'message.components[0]',
      /needs sub_type and index/,
    ],
  ])('rejects %s', (_label, message, field, problem) => {
    const error = rejection(message);
    expect(error.code).toBe('REPLY_INVALID');
    expect(error.details?.field).toBe(field);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(field);
    expect(error.message).toMatch(/^\[chatstate\] \[whatsapp-cloud\] /);
  });

  it('counts characters, not UTF-16 units: 20 emoji fit a 20-character title', () => {
    expect(() =>
      validateMessage({ type: 'buttons', body: 'Pick', buttons: [{ id: 'a', title: '😀'.repeat(20) }] }),
    ).not.toThrow();
    expect(() => validateMessage({ type: 'text', text: '😀'.repeat(4096) })).not.toThrow();
  });

  it('accepts messages exactly at the limits (3 buttons of 20, 10 rows, a 4096 text)', () => {
    expect(() =>
      validateMessage({
        type: 'buttons',
        body: 'b'.repeat(1024),
        buttons: buttons(3).map((b) => ({ ...b, title: 't'.repeat(17) + b.id })),
      }),
    ).not.toThrow();
    expect(() =>
      validateMessage(
        list([
          { title: 'A', rows: rows(4, 'a') },
          { title: 'B', rows: rows(6, 'b') },
        ]),
      ),
    ).not.toThrow();
    expect(() => validateMessage({ type: 'text', text: 'x'.repeat(4096) })).not.toThrow();
    expect(() => validateMessage({ type: 'reaction', messageId: 'wamid.X', emoji: '👍🏽' })).not.toThrow();
    expect(() => validateMessage({ type: 'reaction', messageId: 'wamid.X', emoji: '🇧🇷' })).not.toThrow();
  });

  it('send() rejects invalid messages and bad recipients without a request, and counts them', async () => {
    const failed: string[] = [];
    const client = createCloudApiClient({
      baseUrl: graph.baseUrl,
      accessToken: graph.token,
      phoneNumberId: '1',
      metrics: { sent() {}, failed: (code) => failed.push(code), retried() {}, throttled() {} },
    });
    await expect(
      client.send({ to: '16505551234', message: { type: 'buttons', body: 'x', buttons: buttons(4) } }),
    ).rejects.toMatchObject({
      code: 'REPLY_INVALID',
      details: { field: 'message.buttons', limit: 3, actual: 4 },
    });
    await expect(
      client.send({ to: 'not a number', message: { type: 'text', text: 'hi' } }),
    ).rejects.toMatchObject({
      code: 'REPLY_INVALID',
      details: { field: 'to' },
    });
    expect(graph.requests).toHaveLength(0);
    expect(failed).toEqual(['invalid', 'invalid']);
  });

  it('refuses a client without a token or a send without a sender', async () => {
    expect(() => createCloudApiClient({ accessToken: '' })).toThrow(/accessToken/);
    const client = createCloudApiClient({ accessToken: 'x', baseUrl: graph.baseUrl });
    await expect(client.send({ to: '1650', message: { type: 'text', text: 'x' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
