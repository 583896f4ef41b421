import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatstateApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { isMessageEvent } from '../../src/webhook/events.js';
import { parseWasenderPayload } from '../../src/webhook/wasender.js';
import { fixture } from '../webhook/helpers.js';
import { makeApp, WASENDER_SECRET } from './support.js';

function post(app: ChatstateApp, body: unknown, secret: string | null = WASENDER_SECRET): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== null) headers['x-webhook-signature'] = secret;
  return Promise.resolve(
    app.fetch(
      new Request('http://local/webhooks/wasender', { method: 'POST', headers, body: JSON.stringify(body) }),
    ),
  );
}

describe('POST /webhooks/wasender', () => {
  let store: SessionStore;
  let app: ChatstateApp;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    app = makeApp(store);
  });
  afterEach(async () => {
    await app.drain();
    await store.close();
  });

  it('accepts the shared secret and processes messages.received', async () => {
    expect((await post(app, fixture('wasender-received.json'))).status).toBe(200);
    await app.dispatcher.idle();
    const session = await store.get('12025550123');
    expect(session?.history.map((h) => h.text)).toEqual(['Hello, I have a question']);
  });

  it('refuses a wrong or missing secret with 401 and stores nothing', async () => {
    expect((await post(app, fixture('wasender-received.json'), 'wrong')).status).toBe(401);
    expect((await post(app, fixture('wasender-received.json'), null)).status).toBe(401);
    await app.dispatcher.idle();
    expect(await store.get('12025550123')).toBeNull();
  });

  it('never lets the bot react to its own fromMe echoes, and dedupes upsert repeats on key.id', async () => {
    const upsert = fixture('wasender-upsert.json');
    expect((await post(app, upsert)).status).toBe(200);
    expect((await post(app, upsert)).status).toBe(200);
    await app.dispatcher.idle();
    const parsed = parseWasenderPayload(upsert).events.filter(isMessageEvent);
    expect(parsed.some((e) => e.messageId === 'BAE5BOTREPLY0001')).toBe(false);
    const expected = new Map<string, Set<string>>();
    for (const e of parsed) expected.set(e.userId, (expected.get(e.userId) ?? new Set()).add(e.messageId));
    expect(expected.get('12025550123')?.size).toBeGreaterThan(0);
    for (const [userId, ids] of expected) {
      expect((await store.get(userId))?.vars.messages).toBe(ids.size);
    }
  });
});
