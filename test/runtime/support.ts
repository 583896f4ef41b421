import { createHmac } from 'node:crypto';
import type { Bot } from '../../src/runtime/bot.js';
import { rememberBot } from '../../src/runtime/bot.js';
import { type ChatstateApp, createApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { cloudBody, cloudContact, cloudText, cloudValue, messagesChange } from '../webhook/helpers.js';

export const APP_SECRET = 'test-app-secret';
export const VERIFY_TOKEN = 'test-verify-token';
export const WASENDER_SECRET = 'test-wasender-secret';

export function sign(body: string | Uint8Array, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function makeApp(
  store: SessionStore,
  options: { bot?: Bot; env?: Record<string, string> } = {},
): ChatstateApp {
  const { config } = loadConfig({
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
    WASENDER_WEBHOOK_SECRET: WASENDER_SECRET,
    ...options.env,
  });
  return createApp({ store, config, bot: options.bot ?? rememberBot, recoveryIntervalMs: 0 });
}

export function postSigned(app: ChatstateApp, body: unknown, signature?: string | null): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const sig = signature === undefined ? sign(text) : signature;
  if (sig !== null) headers['x-hub-signature-256'] = sig;
  return Promise.resolve(
    app.fetch(new Request('http://local/webhooks/whatsapp', { method: 'POST', headers, body: text })),
  );
}

/** A Cloud API body with one text message per item. */
export function textBody(
  items: Array<{ id: string; from: string; text: string; ts?: number }>,
): Record<string, unknown> {
  return cloudBody([
    {
      id: 'WABA1',
      changes: [
        messagesChange(
          cloudValue({
            contacts: [...new Set(items.map((i) => i.from))].map((from) =>
              cloudContact(from, `User ${from}`),
            ),
            messages: items.map((i) => cloudText(i.id, i.from, i.text, String(i.ts ?? 1_749_416_383))),
          }),
        ),
      ],
    },
  ]);
}
