import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/runtime/bot.js';
import { rememberBot } from '../../src/runtime/bot.js';
import type { ChatstateApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { cloudBody, cloudContact, cloudText, cloudValue, messagesChange } from '../webhook/helpers.js';
import { APP_SECRET, makeApp, postSigned, sign, textBody, VERIFY_TOKEN } from './support.js';

describe('webhook runtime (in-process, real SQLite store)', () => {
  let store: SessionStore;
  let runtime: ChatstateApp;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    runtime = makeApp(store);
  });
  afterEach(async () => {
    await runtime.drain();
    await store.close();
  });

  it('answers the verification handshake only for the verify token', async () => {
    const get = (q: string) => runtime.fetch(new Request(`http://local/webhooks/whatsapp?${q}`));
    const ok = await get(`hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await get('hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1')).status).toBe(403);
    expect((await get(`hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`)).status).toBe(
      403,
    );
  });

  it('a signed message is acknowledged, then processed into the session', async () => {
    const res = await postSigned(runtime, textBody([{ id: 'wamid.1', from: '12025550123', text: 'hello' }]));
    expect(res.status).toBe(200);
    await runtime.dispatcher.idle();
    const session = await store.get('12025550123');
    expect(session?.history.map((h) => h.text)).toEqual(['hello']);
    expect(session?.vars.messages).toBe(1);
  });

  it('missing, wrong and truncated signatures get 401 and store nothing', async () => {
    const body = JSON.stringify(textBody([{ id: 'wamid.2', from: '12025550123', text: 'x' }]));
    const good = sign(body);
    for (const signature of [
      null,
      sign(body, 'other-secret'),
      good.slice(0, -2),
      good.replace('sha256=', 'sha1='),
      'sha256=',
    ]) {
      const res = await postSigned(runtime, body, signature);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('WEBHOOK_SIGNATURE_INVALID');
    }
    await runtime.dispatcher.idle();
    expect(await store.get('12025550123')).toBeNull();
    expect(await store.inbox?.peek('12025550123', 10)).toEqual([]);
  });

  it('malformed JSON gets 400 and an oversized body 413, nothing stored', async () => {
    const malformed = '{"object":"whatsapp_business_account","entry":[';
    const res = await postSigned(runtime, malformed);
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('WEBHOOK_BODY_MALFORMED');
    const big = JSON.stringify({ object: 'whatsapp_business_account', pad: 'x'.repeat(3 * 1024 * 1024) });
    expect((await postSigned(runtime, big)).status).toBe(413);
  });

  it('a signed body for an unknown object or field is acknowledged and ignored', async () => {
    const res = await postSigned(runtime, {
      object: 'instagram',
      entry: [{ id: '1', changes: [{ field: 'x', value: {} }] }],
    });
    expect(res.status).toBe(200);
    const odd = await postSigned(
      runtime,
      cloudBody([{ id: 'W', changes: [{ field: 'account_update', value: {} }] }]),
    );
    expect(odd.status).toBe(200);
  });

  it('handles every entry, change and message of a batch, per user in timestamp order', async () => {
    const change = (messages: unknown[], contacts: unknown[]) =>
      messagesChange(cloudValue({ messages, contacts }));
    const body = cloudBody([
      {
        id: 'WABA1',
        changes: [
          change(
            [
              cloudText('w.a2', '111111111', 'a2', '1749416390'),
              cloudText('w.a1', '111111111', 'a1', '1749416380'),
            ],
            [cloudContact('111111111', 'A')],
          ),
          change([cloudText('w.b1', '222222222', 'b1')], [cloudContact('222222222', 'B')]),
        ],
      },
      {
        id: 'WABA2',
        changes: [
          change(
            [cloudText('w.a3', '111111111', 'a3', '1749416395'), cloudText('w.c1', '333333333', 'c1')],
            [],
          ),
        ],
      },
    ]);
    expect((await postSigned(runtime, body)).status).toBe(200);
    await runtime.dispatcher.idle();
    expect((await store.get('111111111'))?.history.map((h) => h.text)).toEqual(['a1', 'a2', 'a3']);
    expect((await store.get('222222222'))?.vars.messages).toBe(1);
    expect((await store.get('333333333'))?.vars.messages).toBe(1);
  });

  it('the same message id in two payloads is processed once', async () => {
    const one = textBody([{ id: 'wamid.dup', from: '12025550123', text: 'once' }]);
    const two = textBody([
      { id: 'wamid.dup', from: '12025550123', text: 'once' },
      { id: 'wamid.new', from: '12025550123', text: 'new' },
    ]);
    expect((await postSigned(runtime, one)).status).toBe(200);
    await runtime.dispatcher.idle();
    expect((await postSigned(runtime, two)).status).toBe(200);
    await runtime.dispatcher.idle();
    expect((await postSigned(runtime, one)).status).toBe(200);
    await runtime.dispatcher.idle();
    const session = await store.get('12025550123');
    expect(session?.vars.messages).toBe(2);
    expect(session?.history.map((h) => h.text)).toEqual(['once', 'new']);
  });

  it('a body signed over its escaped-unicode wire form is accepted and decoded', async () => {
    const wire =
      '{"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"2"},"messages":[{"from":"12025550123","id":"wamid.u","timestamp":"1749416383","type":"text","text":{"body":"ol\\u00e1 \\ud83d\\ude00"}}]}}]}]}';
    expect((await postSigned(runtime, wire)).status).toBe(200);
    await runtime.dispatcher.idle();
    expect((await store.get('12025550123'))?.history[0]?.text).toBe('olá 😀');
  });

  it('1000 messages in one body are all handled', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({
      id: `wamid.k${i}`,
      from: `1202555${String(i % 50).padStart(4, '0')}`,
      text: `m${i}`,
      ts: 1_749_416_383 + i,
    }));
    expect((await postSigned(runtime, textBody(items))).status).toBe(200);
    await runtime.dispatcher.idle();
    let total = 0;
    for (let u = 0; u < 50; u++)
      total += Number((await store.get(`1202555${String(u).padStart(4, '0')}`))?.vars.messages ?? 0);
    expect(total).toBe(1000);
  }, 60_000);

  it('messages that arrive together are processed in timestamp order after a busy worker releases the user', async () => {
    const lease = await store.acquireLease('12025550123', 10_000);
    expect(lease).not.toBeNull();
    const order = [5, 1, 4, 2, 3];
    for (const n of order) {
      await postSigned(
        runtime,
        textBody([{ id: `wamid.o${n}`, from: '12025550123', text: `t${n}`, ts: 1_749_416_000 + n }]),
      );
    }
    if (lease) await store.releaseLease(lease);
    await runtime.dispatcher.idle();
    await new Promise((r) => setTimeout(r, 50));
    await runtime.dispatcher.idle();
    expect((await store.get('12025550123'))?.history.map((h) => h.text)).toEqual([
      't1',
      't2',
      't3',
      't4',
      't5',
    ]);
  });

  it('refuses with 503 when the webhook secret is not configured, and when the store is down', async () => {
    const open = makeApp(store, { env: { WHATSAPP_APP_SECRET: '' } });
    const res = await postSigned(open, textBody([{ id: 'w.s', from: '12025550123', text: 'x' }]));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('WEBHOOK_SECRET_MISSING');
    const downStore = await openStore('sqlite::memory:');
    const down = makeApp(downStore);
    await downStore.close();
    const refused = await postSigned(down, textBody([{ id: 'w.d', from: '12025550123', text: 'x' }]));
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('STORE_UNAVAILABLE');
    expect((await down.fetch(new Request('http://local/readyz'))).status).toBe(503);
  });

  it('a bot that throws is retried, then the message is dead-lettered and the next one works', async () => {
    let calls = 0;
    const flaky: Bot = (ctx) => {
      calls++;
      if (ctx.event.kind === 'text' && ctx.event.text === 'poison') throw new Error('bot bug');
      rememberBot(ctx);
    };
    const app = makeApp(store, { bot: flaky });
    await postSigned(
      app,
      textBody([
        { id: 'w.p', from: '12025550123', text: 'poison', ts: 1 },
        { id: 'w.n', from: '12025550123', text: 'next', ts: 2 },
      ]),
    );
    await app.dispatcher.idle();
    expect(calls).toBe(4);
    expect((await store.get('12025550123'))?.history.map((h) => h.text)).toEqual(['next']);
    expect(await store.inbox?.peek('12025550123', 10)).toEqual([]);
    await app.drain();
  });
});

describe('webhook runtime without an inbox (process before acknowledging)', () => {
  it('processes before answering 200', async () => {
    const store = await openStore('memory:');
    Object.defineProperty(store, 'inbox', { value: null });
    const app = makeApp(store);
    const res = await postSigned(app, textBody([{ id: 'w.i', from: '12025550123', text: 'inline' }]));
    expect(res.status).toBe(200);
    expect((await store.get('12025550123'))?.history[0]?.text).toBe('inline');
    await app.drain();
    await store.close();
  });
});

void APP_SECRET;
