import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/runtime/bot.js';
import type { ChatstateApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { verifyMetaSignatureNode } from '../../src/server/node-verify.js';
import { SIMULATOR_NUMBER } from '../../src/server/simulator-payload.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { APP_SECRET } from '../runtime/support.js';
import { closeLocalApp, localApp, openLocalParts, type Sink } from './local-app.js';

const USER = '4915112345678';

/** Records what the webhook parser made of each message and answers with one button message. */
const bot: Bot = ({ event, session, reply }) => {
  const seen: Record<string, string> =
    event.kind === 'text'
      ? { kind: 'text', text: event.text }
      : event.kind === 'button_reply' || event.kind === 'list_reply'
        ? { kind: event.kind, id: event.id, title: event.title }
        : { kind: event.kind };
  session.set('seen', {
    ...seen,
    name: event.contactName ?? null,
    context: event.context?.messageId ?? null,
  });
  session.goto('answered');
  reply({ type: 'buttons', body: `got ${event.kind}`, buttons: [{ id: 'ok', title: 'OK' }] });
};

let store: SessionStore;
let sink: Sink;
let runtime: ChatstateApp;
const received: Array<{ raw: string; header: string | null }> = [];

function build(env: Record<string, string> = {}, verify = verifyMetaSignatureNode): ChatstateApp {
  const { config } = loadConfig({ WHATSAPP_APP_SECRET: APP_SECRET, ...env });
  return localApp(store, sink, {
    config,
    bot,
    verifySignature: (raw, header, secret) => {
      received.push({ raw: new TextDecoder().decode(raw), header });
      return verify(raw, header, secret);
    },
  });
}

function send(body: unknown, headers: Record<string, string> = {}, app = runtime): Promise<Response> {
  return Promise.resolve(
    app.fetch(
      new Request('http://localhost:3000/simulator/send', {
        method: 'POST',
        headers: { 'content-type': 'application/json', host: 'localhost:3000', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    ),
  );
}

async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(async () => {
  ({ store, sink } = await openLocalParts());
  received.length = 0;
  runtime = build();
});

afterEach(() => closeLocalApp(runtime, store));

describe('simulator: POST /simulator/send', () => {
  it('posts a Meta-shaped, correctly signed text message through the real webhook route', async () => {
    const res = await send({ from: USER, name: 'Ada Lovelace', text: 'hello there' });
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer.id).toMatch(/^wamid\./);

    // What reached the route: Meta's shape, signed with the app secret over the exact bytes.
    expect(received).toHaveLength(1);
    const { raw, header } = received[0] as { raw: string; header: string | null };
    expect(header).toBe(`sha256=${createHmac('sha256', APP_SECRET).update(raw).digest('hex')}`);
    const payload = JSON.parse(raw);
    expect(payload.object).toBe('whatsapp_business_account');
    const value = payload.entry[0].changes[0].value;
    expect(payload.entry[0].changes[0].field).toBe('messages');
    expect(value.metadata).toEqual({
      display_phone_number: SIMULATOR_NUMBER.display,
      phone_number_id: SIMULATOR_NUMBER.phoneNumberId,
    });
    expect(value.contacts).toEqual([{ profile: { name: 'Ada Lovelace' }, wa_id: USER }]);
    expect(value.messages[0]).toMatchObject({
      from: USER,
      id: answer.id,
      type: 'text',
      text: { body: 'hello there' },
    });
    expect(value.messages[0].timestamp).toMatch(/^\d{10}$/);

    // The bot ran on the parsed event and its reply reached the sink.
    const out = await until(
      () => sink.messages,
      (m) => m.length === 1,
    );
    expect(out[0]?.envelope).toMatchObject({ channel: 'cloud', to: USER, message: { body: 'got text' } });
    const session = await store.get(USER);
    expect(session?.vars.seen).toEqual({
      kind: 'text',
      text: 'hello there',
      name: 'Ada Lovelace',
      context: null,
    });
  });

  it('sends button and list replies as interactive messages quoting the business message', async () => {
    expect(
      (
        await send({
          from: USER,
          name: 'Ada',
          button_reply: { id: 'yes', title: 'Yes' },
          context: 'wamid.local.7',
        })
      ).status,
    ).toBe(200);
    await until(
      () => sink.messages,
      (m) => m.length === 1,
    );
    expect((await store.get(USER))?.vars.seen).toEqual({
      kind: 'button_reply',
      id: 'yes',
      title: 'Yes',
      name: 'Ada',
      context: 'wamid.local.7',
    });
    const sent = JSON.parse(received[0]?.raw ?? '{}').entry[0].changes[0].value.messages[0];
    expect(sent).toMatchObject({
      type: 'interactive',
      interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } },
      context: { from: SIMULATOR_NUMBER.display, id: 'wamid.local.7' },
    });

    const list = { id: 'growth', title: 'Growth plan', description: '$49 / month' };
    expect((await send({ from: USER, name: 'Ada', list_reply: list })).status).toBe(200);
    await until(
      () => sink.messages,
      (m) => m.length === 2,
    );
    expect((await store.get(USER))?.vars.seen).toMatchObject({
      kind: 'list_reply',
      id: 'growth',
      title: 'Growth plan',
    });
  });

  it('refuses bad input before anything reaches the webhook', async () => {
    const bad: unknown[] = [
      { name: 'Ada', text: 'hi' },
      { from: '+4915112345678', name: 'Ada', text: 'hi' },
      { from: '12', name: 'Ada', text: 'hi' },
      { from: USER, name: '', text: 'hi' },
      { from: USER, name: 'Ada' },
      { from: USER, name: 'Ada', text: '   ' },
      { from: USER, name: 'Ada', text: 'hi', button_reply: { id: 'a', title: 'A' } },
      { from: USER, name: 'Ada', text: 'hi', secret: 'x' },
      'not json',
    ];
    for (const body of bad) {
      const res = await send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).error.code).toBe('INVALID_ARGUMENT');
    }
    const form = await send('from=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    const foreign = await send({ from: USER, name: 'Ada', text: 'hi' }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const same = await send({ from: USER, name: 'Ada', text: 'hi' }, { origin: 'http://localhost:3000' });
    expect(same.status).toBe(200);
    expect(received).toHaveLength(1);
  });

  it('reports a refusal of the webhook route as 502 with its error', async () => {
    const refusing = build({}, () => false);
    const res = await send({ from: USER, name: 'Ada', text: 'hi' }, {}, refusing);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ status: 401, error: { code: 'WEBHOOK_SIGNATURE_INVALID' } });
    await refusing.drain();
  });
});

describe('simulator: transcript, session panel and event stream', () => {
  it('lists both directions of one user in order, and shows and clears the session', async () => {
    const empty = await (await runtime.fetch(new Request(`http://local/simulator/session/${USER}`))).json();
    expect(empty).toEqual({ found: false });
    await send({ from: USER, name: 'Ada', text: 'one' });
    await send({ from: '14155550100', name: 'Bob', text: 'other user' });
    await until(
      () => sink.messages,
      (m) => m.length === 2,
    );

    const { items } = await (
      await runtime.fetch(new Request(`http://local/simulator/messages?user=${USER}`))
    ).json();
    expect(items.map((i: { dir: string }) => i.dir)).toEqual(['in', 'out']);
    expect(items[0].message).toEqual({ type: 'text', text: 'one' });
    expect(items[1].message).toMatchObject({ type: 'buttons', body: 'got text' });

    const panel = await (await runtime.fetch(new Request(`http://local/simulator/session/${USER}`))).json();
    expect(panel).toMatchObject({ found: true, session: { id: USER, node: 'answered', retries: 0 } });
    expect(panel.ttlMs).toBeGreaterThan(0);
    expect(panel.outbox[0]).toMatchObject({ state: 'sent', envelope: { to: USER } });

    const cleared = await runtime.fetch(
      new Request(`http://localhost:3000/simulator/session/${USER}`, { method: 'DELETE' }),
    );
    expect(await cleared.json()).toEqual({ id: USER, existed: true });
    expect(await store.get(USER)).toBeNull();
  });

  it('streams each reply as a server-sent event, and close() ends the stream', async () => {
    const res = await runtime.fetch(new Request('http://local/simulator/events'));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('connection')).toBe('close');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('event: ready');
    await send({ from: USER, name: 'Ada', text: 'stream me' });
    await readUntil('got text');
    const data = /event: reply\ndata: (.+)\n/.exec(text)?.[1] ?? '{}';
    expect(JSON.parse(data)).toMatchObject({
      dir: 'out',
      user: USER,
      message: { type: 'buttons', body: 'got text' },
    });
    runtime.simulator?.close();
    const end = await until(
      () => reader.read(),
      () => true,
    );
    expect(end.done).toBe(true);
  });
});
