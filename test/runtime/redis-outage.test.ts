import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { type ChatstateProcess, startChatstate } from '../support/chatstate-server.js';
import { type RedisServer, resp, startRedis } from '../support/servers.js';
import { APP_SECRET, sign, textBody } from './support.js';

// `chatstate serve` on Redis, Redis killed (SIGKILL) mid-load and restarted on the same data.
// appendfsync always: a write Redis acknowledged is on disk, so an acknowledged delivery (its inbox
// entry) survives the crash, and the only redeliveries are the ones a provider would make.

const USERS = Array.from({ length: 4 }, (_, i) => `1415666${String(i).padStart(4, '0')}`);
const MESSAGES = Array.from({ length: 200 }, (_, i) => ({
  id: `wamid.outage.${i}`,
  from: USERS[i % USERS.length] as string,
  text: `o${i}`,
  ts: 1_749_416_000 + i,
}));
type Message = (typeof MESSAGES)[number];
const TIMEOUT_MS = 1000;

let redis: RedisServer | undefined;
let server: ChatstateProcess | undefined;
afterAll(async () => {
  await server?.stop();
  await redis?.stop();
});

async function deliver(url: string, message: Message): Promise<{ status: number; ms: number }> {
  const body = JSON.stringify(textBody([message]));
  const started = performance.now();
  const res = await fetch(`${url}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) },
    body,
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

const status = async (url: string) => (await fetch(url)).status;

describe('chatstate serve: Redis killed mid-load and restarted', () => {
  it('deliveries get 503 fast while Redis is down, and every message is applied exactly once after', async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const storeUrl = `${redis.url}?timeout=${TIMEOUT_MS}`;
    server = await startChatstate({ CHATSTATE_STORE: storeUrl, WHATSAPP_APP_SECRET: APP_SECRET });
    const { url } = server;
    expect(await status(`${url}/readyz`)).toBe(200);

    // 6 deliveries in flight; Redis dies (SIGKILL) once 60 were acknowledged, the load goes on.
    const acked = new Set<string>();
    const refused: Array<{ status: number; ms: number }> = [];
    let sent = 0;
    let killed: Promise<void> | undefined;
    const worker = async () => {
      while (sent < MESSAGES.length) {
        const message = MESSAGES[sent++] as Message;
        const answer = await deliver(url, message);
        if (answer.status === 200) acked.add(message.id);
        else refused.push(answer);
        if (acked.size >= 60 && !killed) killed = redis?.kill('SIGKILL');
        if (killed) await killed;
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(acked.size).toBeGreaterThanOrEqual(60);
    expect(acked.size).toBeLessThan(MESSAGES.length - 100);
    // Refused, not hung: 503 within the command timeout (plus slack for a loaded 2-core machine).
    expect(new Set(refused.map((r) => r.status))).toEqual(new Set([503]));
    expect(Math.max(...refused.map((r) => r.ms))).toBeLessThan(TIMEOUT_MS + 1500);

    // Down: the server stays up, says it is not ready, and keeps refusing deliveries.
    expect(await status(`${url}/healthz`)).toBe(200);
    expect(await status(`${url}/readyz`)).toBe(503);
    expect((await deliver(url, MESSAGES[MESSAGES.length - 1] as Message)).status).toBe(503);
    expect(server.child.exitCode).toBeNull();

    // Back on the same AOF: /readyz recovers by itself (the driver reconnects in the background).
    await redis.start();
    const readyBy = Date.now() + 15_000;
    while (Date.now() < readyBy && (await status(`${url}/readyz`)) !== 200) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await status(`${url}/readyz`)).toBe(200);

    // The provider redelivers everything that was not acknowledged (and, for good measure, a few
    // acknowledged ones). Nothing acknowledged is redelivered otherwise: it must have survived.
    const redeliver = MESSAGES.filter((m, i) => !acked.has(m.id) || i % 20 === 0);
    for (let i = 0; i < redeliver.length; i += 8) {
      const answers = await Promise.all(redeliver.slice(i, i + 8).map((m) => deliver(url, m)));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    }

    const store = await openStore(redis.url);
    try {
      const expected = USERS.map(() => MESSAGES.length / USERS.length);
      // Processed messages per user = committed transitions = the session version. Not the bot's
      // `vars.messages`: the runtime's inbound rate limit (30 a minute by default) gives the bot
      // only the first 30 of a user's minute; the others are still processed once (recorded in
      // the history, committed, claimed) but skip the bot.
      const counts = () => Promise.all(USERS.map(async (u) => (await store.get(u))?.version ?? 0));
      // Well within the 30 s lease TTL: leases held when Redis died were released on reconnect
      // (their release had failed), so no user waits for a lease nobody holds.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await counts()).reduce((a, b) => a + b, 0) < MESSAGES.length) {
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(await counts()).toEqual(expected);
      for (const user of USERS) expect(await store.inbox?.peek(user, 10)).toEqual([]);
      // Each of those commits carried one message's claim: all 200 are there, so each message was
      // committed exactly once.
      const claimed = await Promise.all(
        MESSAGES.map((m) => resp(redis?.port ?? 0, ['EXISTS', `{cs:${m.from}}:c:cs:${m.id}`])),
      );
      expect(claimed.filter((n) => n === 1)).toHaveLength(MESSAGES.length);
    } finally {
      await store.close();
    }
    expect(server.child.exitCode).toBeNull();
  }, 120_000);
});
