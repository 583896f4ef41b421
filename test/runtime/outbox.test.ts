import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCloudApiClient } from '../../src/channels/whatsapp-cloud/client.js';
import { type Bot, botContext, rememberBot } from '../../src/runtime/bot.js';
import { Deliverer, type DeliveryEvent } from '../../src/runtime/deliverer.js';
import { Dispatcher } from '../../src/runtime/dispatcher.js';
import { cloudChannel, sinkChannel } from '../../src/runtime/outbound.js';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';
import type { MessageEvent } from '../../src/webhook/events.js';
import { adminFor, flushAll } from '../store/redis-support.js';
import { type FakeGraph, startFakeGraph } from '../support/fake-graph.js';
import { type RedisServer, startRedis } from '../support/servers.js';

const PHONE_ID = '106540352242922';
let n = 0;
const text = (userId: string, body: string): MessageEvent => ({
  provider: 'cloud',
  kind: 'text',
  text: body,
  messageId: `wamid.in.${++n}`,
  userId,
  waId: userId,
  timestamp: Date.now() + n,
  businessPhoneNumberId: PHONE_ID,
  raw: null,
});

const echo: Bot = (ctx) => {
  rememberBot(ctx);
  if (ctx.event.kind === 'text') {
    ctx.reply({ type: 'text', text: `you said: ${ctx.event.text}` });
    ctx.reply({ type: 'text', text: 'anything else?' });
  }
};

// The same runtime cases on the embedded store and on a real redis-server (entries written by commit.lua).
let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.stop();
});
const stores = {
  sqlite: {
    open: () => openStore('sqlite::memory:'),
    // An in-memory database is gone with its process: the "restarted" process keeps the same store.
    reopen: async (store: SessionStore) => store,
  },
  redis: {
    open: async () => {
      redis ??= await startRedis();
      const admin = adminFor(redis.url);
      await flushAll(admin);
      admin.disconnect();
      return openStore(redis.url);
    },
    // Another process: its own connection to the same server.
    reopen: async () => openStore((redis as RedisServer).url),
  },
};

describe.each(Object.keys(stores) as Array<keyof typeof stores>)(
  'outbox on %s: replies committed with the state, delivered after it',
  (kind) => {
    let store: SessionStore;
    const opened: SessionStore[] = [];
    beforeEach(async () => {
      store = await stores[kind].open();
    });
    afterEach(async () => {
      for (const other of opened.splice(0)) if (other !== store) await other.close();
      await store.close();
    });

    it('delivers each committed reply once, in order, and records the provider id', async () => {
      const sink = sinkChannel();
      const deliverer = new Deliverer({ store, channels: { cloud: sink }, recoveryIntervalMs: 0 });
      const dispatcher = new Dispatcher({
        store,
        bot: echo,
        deliver: (r) => deliverer.deliver(r),
        recoveryIntervalMs: 0,
      });
      await dispatcher.accept([text('12025550123', 'hi'), text('12025550123', 'bye')]);
      await dispatcher.idle();
      await deliverer.idle();
      expect(sink.messages.map((m) => (m.envelope.message as { text: string }).text)).toEqual([
        'you said: hi',
        'anything else?',
        'you said: bye',
        'anything else?',
      ]);
      expect(sink.messages[0]?.envelope).toMatchObject({
        channel: 'cloud',
        from: PHONE_ID,
        to: '12025550123',
      });
      const entries = await store.outbox?.forUser('12025550123');
      expect(entries?.map((e) => e.state)).toEqual(['sent', 'sent', 'sent', 'sent']);
      expect(new Set(entries?.map((e) => e.providerId)).size).toBe(4);
      expect(await deliverer.recover()).toBe(0);
      await dispatcher.close();
      await deliverer.close();
    });

    it('a crash between commit and delivery re-delivers once on recovery', async () => {
      // The transition commits its replies, then the process "dies" before delivering them.
      const event = text('12025550124', 'order 66');
      await store.transition(event.userId, (session) => echo(botContext(event, session)), {
        claim: event.messageId,
      });
      const sink = sinkChannel();
      const after = await stores[kind].reopen(store);
      opened.push(after);
      const restarted = new Deliverer({
        store: after,
        channels: { cloud: sink },
        retryAfterMs: 0,
        recoveryIntervalMs: 0,
      });
      await new Promise((r) => setTimeout(r, 5));
      expect(await restarted.recover()).toBe(2);
      await restarted.idle();
      expect(await restarted.recover()).toBe(0);
      await restarted.idle();
      expect(sink.messages.map((m) => (m.envelope.message as { text: string }).text)).toEqual([
        'you said: order 66',
        'anything else?',
      ]);
      expect((await after.outbox?.forUser(event.userId))?.map((e) => e.state)).toEqual(['sent', 'sent']);
    });

    it('status webhooks move entries to delivered and read', async () => {
      const sink = sinkChannel();
      const deliverer = new Deliverer({ store, channels: { cloud: sink }, recoveryIntervalMs: 0 });
      const event = text('12025550125', 'x');
      const result = await store.transition(event.userId, (s) => echo(botContext(event, s)));
      if (result.status === 'duplicate') throw new Error('unexpected');
      await deliverer.deliver(result.replies);
      const [first] = sink.messages;
      const status = (s: 'delivered' | 'read') => ({
        provider: 'cloud' as const,
        kind: 'status' as const,
        status: s,
        messageId: first?.providerId ?? '',
        recipientId: event.userId,
        timestamp: Date.now(),
        errors: [],
        businessPhoneNumberId: PHONE_ID,
        raw: null,
      });
      await deliverer.status(status('delivered'));
      expect((await store.outbox?.byProviderId(first?.providerId ?? ''))?.state).toBe('delivered');
      await deliverer.status(status('read'));
      expect((await store.outbox?.byProviderId(first?.providerId ?? ''))?.state).toBe('read');
    });

    it('the inbound rate limit records extra messages, answers once, and skips the bot', async () => {
      const sink = sinkChannel();
      const deliverer = new Deliverer({ store, channels: { cloud: sink }, recoveryIntervalMs: 0 });
      let botRuns = 0;
      const counting: Bot = (ctx) => {
        botRuns++;
        rememberBot(ctx);
      };
      const dispatcher = new Dispatcher({
        store,
        bot: counting,
        deliver: (r) => deliverer.deliver(r),
        recoveryIntervalMs: 0,
        rateLimit: { max: 3, windowMs: 60_000, notice: 'slow down' },
      });
      await dispatcher.accept(Array.from({ length: 6 }, (_, i) => text('12025550126', `m${i}`)));
      await dispatcher.idle();
      await deliverer.idle();
      expect(botRuns).toBe(3);
      expect(sink.messages.map((m) => (m.envelope.message as { text: string }).text)).toEqual(['slow down']);
      const session = await store.get('12025550126');
      expect(session?.history.map((h) => h.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      await dispatcher.close();
    });
  },
);

describe('outbox delivery through the Cloud API client (local fake Graph API)', () => {
  let graph: FakeGraph;
  let store: SessionStore;
  beforeAll(async () => {
    graph = await startFakeGraph();
  });
  afterAll(async () => {
    await graph.close();
  });
  beforeEach(async () => {
    graph.reset();
    store = await openStore('sqlite::memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  const client = () =>
    createCloudApiClient({
      baseUrl: graph.baseUrl,
      accessToken: graph.token,
      phoneNumberId: PHONE_ID,
      retryBaseMs: 2,
    });

  it('transient failures are retried and the reply is sent once', async () => {
    graph.failNext(2, { code: 131000 });
    const deliverer = new Deliverer({
      store,
      channels: { cloud: cloudChannel(client()) },
      recoveryIntervalMs: 0,
    });
    const event = text('12025550127', 'hello');
    const result = await store.transition(
      event.userId,
      (s) => void botContext(event, s).reply({ type: 'text', text: 'hi there' }),
    );
    if (result.status === 'duplicate') throw new Error('unexpected');
    await deliverer.deliver(result.replies);
    expect(graph.accepted().map((r) => (r.body?.text as { body: string }).body)).toEqual(['hi there']);
    const [entry] = (await store.outbox?.forUser(event.userId)) ?? [];
    expect(entry?.state).toBe('sent');
    expect(entry?.providerId).toMatch(/^wamid\./);
  });

  it('a closed 24-hour window (131047) fails the entry and surfaces a typed event', async () => {
    graph.failTo('12025550128', { code: 131047 });
    const events: DeliveryEvent[] = [];
    const deliverer = new Deliverer({
      store,
      channels: { cloud: cloudChannel(client()) },
      recoveryIntervalMs: 0,
      onEvent: (e) => events.push(e),
    });
    const event = text('12025550128', 'late');
    const result = await store.transition(
      event.userId,
      (s) => void botContext(event, s).reply({ type: 'text', text: 'too late' }),
    );
    if (result.status === 'duplicate') throw new Error('unexpected');
    await deliverer.deliver(result.replies);
    expect(events.map((e) => [e.type, e.error?.code])).toEqual([['failed', 'REPLY_WINDOW_CLOSED']]);
    const [entry] = (await store.outbox?.forUser(event.userId)) ?? [];
    expect(entry?.state).toBe('failed');
    expect(entry?.error).toMatch(/^REPLY_WINDOW_CLOSED/);
  });
});
