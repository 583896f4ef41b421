import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isChatstateError } from '../../src/errors.js';
import { rememberBot } from '../../src/runtime/bot.js';
import { createApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { openStore } from '../../src/store/open.js';
import { startChatstate } from '../support/chatstate-server.js';
import { type RedisServer, startRedis } from '../support/servers.js';
import { APP_SECRET, sign, textBody } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-roles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USERS = ['14155550001', '14155550002', '14155550003'];
const MESSAGES = Array.from({ length: 30 }, (_, i) => ({
  id: `wamid.roles.${i}`,
  from: USERS[i % USERS.length] as string,
  text: `m${i}`,
  ts: 1_749_416_000 + i,
}));

async function deliver(url: string, items: typeof MESSAGES): Promise<Response> {
  const body = JSON.stringify(textBody(items));
  return fetch(`${url}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) },
    body,
  });
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

/**
 * An ingest process acknowledges without processing; a worker on the same store processes
 * everything once, in order, and then what arrives while it runs.
 */
async function ingestThenWorker(storeUrl: string): Promise<void> {
  const ingest = await startChatstate({
    CHATSTATE_STORE: storeUrl,
    WHATSAPP_APP_SECRET: APP_SECRET,
    CHATSTATE_ROLE: 'ingest',
  });
  const store = await openStore(storeUrl);
  try {
    for (let i = 0; i < MESSAGES.length; i += 3) {
      expect((await deliver(ingest.url, MESSAGES.slice(i, i + 3))).status).toBe(200);
    }
    // A redelivery while the first copy still waits is recorded once.
    expect((await deliver(ingest.url, MESSAGES.slice(0, 3))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    // Nothing processed: no session, every message waiting in the inbox.
    for (const user of USERS) expect(await store.get(user)).toBeNull();
    // (On SQLite the ingest process appends to the inbox log: a users() call moves it into the
    // inbox, as a worker's poll does.)
    await store.inbox?.users(0);
    const waiting = await Promise.all(USERS.map((u) => store.inbox?.peek(u, 100)));
    expect(waiting.map((w) => w?.length)).toEqual([10, 10, 10]);

    const worker = await startChatstate({ CHATSTATE_STORE: storeUrl, CHATSTATE_ROLE: 'worker' });
    try {
      // The worker has no webhook routes (and needs no webhook secret).
      expect((await deliver(worker.url, MESSAGES.slice(0, 1))).status).toBe(404);
      expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
      const deadline = Date.now() + 15_000;
      let counts: number[] = [];
      while (Date.now() < deadline) {
        counts = await Promise.all(USERS.map(async (u) => Number((await store.get(u))?.vars.messages ?? 0)));
        if (counts.every((c) => c === 10)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(counts).toEqual([10, 10, 10]);
      const first = await store.get(USERS[0] as string);
      expect(first?.history.map((h) => h.text)).toEqual(['m15', 'm18', 'm21', 'm24', 'm27']);
      for (const user of USERS) expect(await store.inbox?.peek(user, 100)).toEqual([]);

      // While the worker runs, new deliveries to the ingest process are picked up within its poll.
      const late = { id: 'wamid.roles.late', from: USERS[1] as string, text: 'late', ts: 1_749_417_000 };
      expect((await deliver(ingest.url, [late])).status).toBe(200);
      const lateDeadline = Date.now() + 10_000;
      while (Date.now() < lateDeadline) {
        if ((await store.get(USERS[1] as string))?.vars.messages === 11) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await store.get(USERS[1] as string))?.history.at(-1)?.text).toBe('late');
    } finally {
      await worker.stop();
    }
    // The ingest process still only records.
    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    expect(metrics).not.toMatch(/chatstate_transitions_total\{[^}]*\} [1-9]/);
  } finally {
    await store.close();
    await ingest.stop();
  }
}

describe('roles: ingest records, worker processes', () => {
  it('through one SQLite file', () => ingestThenWorker(`sqlite:${join(dir, 'roles.db')}`), 60_000);
  it('through one Redis', () => ingestThenWorker(`${redis.url}/0`), 60_000);

  it('refuses the ingest and worker roles on a store whose inbox other processes cannot see', async () => {
    const store = await openStore('memory:');
    try {
      for (const role of ['ingest', 'worker'] as const) {
        const { config } = loadConfig({ WHATSAPP_APP_SECRET: APP_SECRET, CHATSTATE_ROLE: role });
        let caught: unknown;
        try {
          createApp({ store, config, bot: rememberBot, role: config.role });
        } catch (error) {
          caught = error;
        }
        expect(isChatstateError(caught) && caught.code).toBe('CONFIG_INVALID');
        expect(String((caught as Error).message)).toMatch(/sqlite: or redis:/);
      }
    } finally {
      await store.close();
    }
  });

  it('reads the role from CHATSTATE_ROLE and refuses an unknown one', () => {
    expect(loadConfig({}).config.role).toBe('all');
    expect(loadConfig({ CHATSTATE_ROLE: 'worker' }).config).toMatchObject({
      role: 'worker',
      pollIntervalMs: 50,
    });
    // A worker receives no webhooks: no warnings about their secrets.
    expect(loadConfig({ CHATSTATE_ROLE: 'worker' }).warnings).toEqual([]);
    expect(() => loadConfig({ CHATSTATE_ROLE: 'both' })).toThrow(/CHATSTATE_ROLE/);
  });
});
