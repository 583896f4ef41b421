import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LUA_SCRIPTS } from '../../src/store/lua/generated/scripts.js';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { type ChatstateProcess, startChatstate } from '../support/chatstate-server.js';
import { type RedisServer, resp, startRedis } from '../support/servers.js';
import { APP_SECRET, sign, textBody } from './support.js';

// Two `chatstate serve` processes on one Redis, the default bot (rememberBot: the text in the
// history per message), bursts of one user's messages alternating between them.

type Message = { id: string; from: string; text: string; ts: number };

const burst = (tag: string, from: string, count = 100): Message[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `wamid.burst.${tag}.${i}`,
    from,
    text: `${tag}${i}`,
    ts: 1_749_416_000 + i,
  }));

async function deliver(url: string, message: Message): Promise<number> {
  const body = JSON.stringify(textBody([message]));
  const res = await fetch(`${url}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) },
    body,
  });
  return res.status;
}

/** A fixed permutation, so arrival order differs from timestamp order. */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

let redis: RedisServer;
let a: ChatstateProcess;
let b: ChatstateProcess;
let store: SessionStore;
let monitor: Redis | undefined;
/** Message ids in the order their commits ran on the server (MONITOR sees execution order). */
const committed: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const env = { CHATSTATE_STORE: redis.url, WHATSAPP_APP_SECRET: APP_SECRET };
  [a, b] = await Promise.all([startChatstate(env), startChatstate(env)]);
  store = await openStore(redis.url);
  monitor = await new Redis(redis.url).monitor();
  monitor.on('monitor', (_time: string, args: string[]) => {
    const [command, script, , , , , claim] = args;
    const name = command?.toLowerCase();
    const isCommit =
      (name === 'evalsha' && script === LUA_SCRIPTS.commit.sha1) ||
      (name === 'eval' && script === LUA_SCRIPTS.commit.source);
    const id = isCommit ? /wamid\.\S+$/.exec(claim ?? '')?.[0] : undefined;
    if (id) committed.push(id);
  });
});

afterAll(async () => {
  monitor?.disconnect();
  await store?.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

/**
 * Messages processed for a user = committed transitions = the session version. Not the default
 * bot's `vars.messages`: the runtime's inbound rate limit (30 a minute by default) gives the bot
 * only the first 30 of a user's minute; the others are still processed exactly once (recorded in
 * the history, committed with their claim) but skip the bot.
 */
async function processedOf(user: string): Promise<number> {
  return (await store.get(user))?.version ?? 0;
}

/** How many of the messages have their transition claim (written only by a successful commit). */
async function claimed(messages: Message[]): Promise<number> {
  const replies = await Promise.all(
    messages.map((m) => resp(redis.port, ['EXISTS', `{cs:${m.from}}:c:cs:${m.id}`])),
  );
  return replies.filter((n) => n === 1).length;
}

/** Waits until the user's counter reaches `count`, then a little longer to see it does not pass it. */
async function settle(user: string, count: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await processedOf(user)) < count) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  return processedOf(user);
}

const sendAll = (messages: Message[], first = 0) =>
  Promise.all(messages.map((m, i) => deliver(((i + first) % 2 === 0 ? a : b).url, m)));

describe('chatstate serve × 2 on one Redis: bursts of one user', () => {
  it('messages that wait while another worker holds the user are applied in timestamp order', async () => {
    const user = '14155550001';
    const messages = burst('ordered', user);
    const lease = await store.acquireLease(user);
    expect(lease).not.toBeNull();
    // Arrival order is a shuffle of timestamp order, spread over both processes, all at once.
    expect(await sendAll(shuffled(messages))).toEqual(messages.map(() => 200));
    expect(await processedOf(user)).toBe(0); // nobody could process: the lease is held
    expect((await store.inbox?.peek(user, 200))?.map((e) => e.id)).toEqual(messages.map((m) => m.id));
    await store.releaseLease(lease as NonNullable<typeof lease>);

    expect(await settle(user, 100)).toBe(100);
    expect(await claimed(messages)).toBe(100);
    const order = committed.filter((id) => id.startsWith('wamid.burst.ordered.'));
    expect(order).toEqual(messages.map((m) => m.id)); // each committed once, oldest first
    const session = await store.get(user);
    expect(session?.history.map((h) => h.text)).toEqual([
      'ordered95',
      'ordered96',
      'ordered97',
      'ordered98',
      'ordered99',
    ]);
    expect(await store.inbox?.peek(user, 10)).toEqual([]);
  }, 60_000);

  it('a concurrent burst over both processes is applied exactly once, redeliveries included', async () => {
    const user = '14155550002';
    const messages = burst('free', user);
    expect(await sendAll(messages)).toEqual(messages.map(() => 200));
    expect(await settle(user, 100)).toBe(100);
    expect(await claimed(messages)).toBe(100);
    expect(new Set(committed.filter((id) => id.startsWith('wamid.burst.free.'))).size).toBe(100);

    // Meta redelivers 20 of them, each to the process that did not get it the first time.
    const before = await dedupeHits();
    expect(await sendAll(messages.slice(0, 20), 1)).toEqual(messages.slice(0, 20).map(() => 200));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await dedupeHits()) - before < 20) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Every redelivery is a dedupe hit. The count may be higher: when both processes drain the
    // user's inbox at once, the one that loses the race to a message also counts it as a duplicate.
    // What must hold exactly is below: nothing applied twice.
    expect((await dedupeHits()) - before).toBeGreaterThanOrEqual(20);
    expect(await settle(user, 100)).toBe(100);
    expect(await claimed(messages)).toBe(100);
    expect(await store.inbox?.peek(user, 10)).toEqual([]);
    expect(await store.inbox?.users(-1000)).toEqual([]);
  }, 60_000);
});

async function dedupeHits(): Promise<number> {
  const counts = await Promise.all(
    [a, b].map(async (p) => {
      const text = await (await fetch(`${p.url}/metrics`)).text();
      return Number(/^chatstate_dedupe_hits_total (\d+)/m.exec(text)?.[1] ?? 0);
    }),
  );
  return counts.reduce((x, y) => x + y, 0);
}
