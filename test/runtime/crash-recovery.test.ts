import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { startChatstate } from '../support/chatstate-server.js';
import { APP_SECRET, sign, textBody } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USERS = Array.from({ length: 10 }, (_, i) => `1415555${String(i).padStart(4, '0')}`);
const MESSAGES = Array.from({ length: 300 }, (_, i) => ({
  id: `wamid.crash.${i}`,
  from: USERS[i % USERS.length] as string,
  text: `m${i}`,
  ts: 1_749_416_000 + i,
}));

async function deliver(url: string, message: (typeof MESSAGES)[number]): Promise<number> {
  const body = JSON.stringify(textBody([message]));
  try {
    const res = await fetch(`${url}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) },
      body,
    });
    return res.status;
  } catch {
    return 0; // connection reset by the crash: not acknowledged, Meta would retry
  }
}

describe('chatstate serve: kill -9 mid-load and restart', () => {
  it('every message is processed exactly once across the crash and redeliveries', async () => {
    const storeUrl = `sqlite:${join(dir, 'crash.db')}`;
    const env = { CHATSTATE_STORE: storeUrl, WHATSAPP_APP_SECRET: APP_SECRET };
    const first = await startChatstate(env);
    const acked = new Set<string>();
    let sent = 0;
    // 8 deliveries in flight; the crash lands while work is both queued in the inbox and running.
    const worker = async () => {
      while (sent < MESSAGES.length) {
        const message = MESSAGES[sent++] as (typeof MESSAGES)[number];
        if ((await deliver(first.url, message)) === 200) acked.add(message.id);
        if (acked.size === 150) await first.kill();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(acked.size).toBeGreaterThanOrEqual(150);
    expect(acked.size).toBeLessThan(MESSAGES.length);

    const second = await startChatstate(env, first.port);
    // Meta redelivers what was not acknowledged; redeliver a few acknowledged ones too.
    for (const message of MESSAGES) {
      if (!acked.has(message.id) || Number(message.id.split('.').at(-1)) % 25 === 0) {
        expect(await deliver(second.url, message)).toBe(200);
      }
    }
    const store = await openStore(storeUrl);
    const deadline = Date.now() + 30_000;
    let counts: number[] = [];
    while (Date.now() < deadline) {
      counts = await Promise.all(USERS.map(async (u) => Number((await store.get(u))?.vars.messages ?? 0)));
      if (counts.reduce((a, b) => a + b, 0) >= MESSAGES.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    counts = await Promise.all(USERS.map(async (u) => Number((await store.get(u))?.vars.messages ?? 0)));
    expect(counts).toEqual(USERS.map(() => MESSAGES.length / USERS.length));
    const last = await store.get(USERS[0] as string);
    expect(last?.history.map((h) => h.text)).toEqual(['m250', 'm260', 'm270', 'm280', 'm290']);
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toMatch(/chatstate_webhook_requests_total\{route="whatsapp",status="200"\} \d+/);
    expect(metrics).toMatch(/chatstate_dedupe_hits_total \d+/);
    await store.close();
    await second.stop();
  }, 90_000);
});
