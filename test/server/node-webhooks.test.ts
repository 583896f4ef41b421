import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/runtime/log.js';
import { type RunningServer, startNodeServer } from '../../src/server/node.js';
import { APP_SECRET, sign, textBody } from '../runtime/support.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-node-webhooks-'));
let server: RunningServer;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

beforeAll(async () => {
  server = await startNodeServer({
    env: {
      WHATSAPP_APP_SECRET: APP_SECRET,
      CHATSTATE_STORE: `sqlite:${join(dir, 'node.db')}`,
      CHATSTATE_MAX_BODY_BYTES: '4096',
      PORT: '0',
    },
    host: '127.0.0.1',
    logger: silentLogger,
  });
});
afterAll(async () => {
  agent.destroy();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One POST over the single keep-alive socket; resolves with the status and the socket used. */
function post(body: string, headers: Record<string, string | number>) {
  return new Promise<{ status: number; socket: unknown; text: string }>((resolve, reject) => {
    const req = request(
      `${server.url}/webhooks/whatsapp`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('webhook POSTs served from node:http', () => {
  it('answers an oversized body 413 without reading it, then serves the next request on the same connection', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(6000) });
    const refused = await post(big, { 'x-hub-signature-256': sign(big) });
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.text).error.code).toBe('WEBHOOK_BODY_TOO_LARGE');
    const body = JSON.stringify(textBody([{ id: 'wamid.node.1', from: '14155550100', text: 'hi' }]));
    const ok = await post(body, { 'x-hub-signature-256': sign(body) });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    expect(ok.socket).toBe(refused.socket);
    const wrong = await post(body, { 'x-hub-signature-256': sign(body, 'another secret') });
    expect(wrong.status).toBe(401);
    expect(wrong.socket).toBe(refused.socket);
  });
});
