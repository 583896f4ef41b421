import { describe, expect, it } from 'vitest';
import { type Bot, rememberBot } from '../../src/runtime/bot.js';
import { sinkChannel } from '../../src/runtime/outbound.js';
import { createApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { APP_SECRET, postSigned, textBody } from './support.js';

const echo: Bot = (ctx) => {
  rememberBot(ctx);
  if (ctx.event.kind === 'text') ctx.reply({ type: 'text', text: `echo: ${ctx.event.text}` });
};

function appWith(store: SessionStore, sink = sinkChannel()) {
  const { config } = loadConfig({ WHATSAPP_APP_SECRET: APP_SECRET });
  const app = createApp({
    store,
    config,
    bot: echo,
    channels: { cloud: sink },
    recoveryIntervalMs: 0,
    fallbackText: 'try later',
  });
  return { app, sink };
}

describe('the app delivers replies and applies status webhooks', () => {
  it('a message gets its reply through the channel, and statuses update the outbox entry', async () => {
    const store = await openStore('sqlite::memory:');
    const { app, sink } = appWith(store);
    expect(
      (await postSigned(app, textBody([{ id: 'wamid.r1', from: '12025550123', text: 'ping' }]))).status,
    ).toBe(200);
    await app.dispatcher.idle();
    await app.deliverer?.idle();
    expect(sink.messages.map((m) => m.envelope)).toEqual([
      {
        channel: 'cloud',
        from: '106540352242922',
        to: '12025550123',
        message: { type: 'text', text: 'echo: ping' },
      },
    ]);
    const providerId = sink.messages[0]?.providerId ?? '';
    const statusBody = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'W',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                statuses: [
                  { id: providerId, status: 'read', timestamp: '1749416400', recipient_id: '12025550123' },
                ],
              },
            },
          ],
        },
      ],
    };
    expect((await postSigned(app, statusBody)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect((await store.outbox?.byProviderId(providerId))?.state).toBe('read');
    await app.drain();
    await store.close();
  });

  it('while the store is down, each user hears the fallback once and the delivery gets 503', async () => {
    const store = await openStore('sqlite::memory:');
    const { app, sink } = appWith(store);
    await store.close();
    const send = (id: string, from: string) => postSigned(app, textBody([{ id, from, text: 'hello?' }]));
    expect((await send('wamid.f1', '12025550123')).status).toBe(503);
    expect((await send('wamid.f2', '12025550123')).status).toBe(503);
    expect((await send('wamid.f3', '12025550999')).status).toBe(503);
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.messages.map((m) => [m.envelope.to, (m.envelope.message as { text: string }).text])).toEqual([
      ['12025550123', 'try later'],
      ['12025550999', 'try later'],
    ]);
  });
});
