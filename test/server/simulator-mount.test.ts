import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rememberBot } from '../../src/runtime/bot.js';
import { type ChatstateApp, createApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { withSimulatorSecret } from '../../src/server/node-simulator.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { APP_SECRET, postSigned } from '../runtime/support.js';
import { closeLocalApp, localApp, openLocalParts, type Sink } from './local-app.js';

// When the simulator exists (local mode only) and how local mode gets a signing secret.

const USER = '4915112345678';
const bot = rememberBot;
let store: SessionStore;
let sink: Sink;
let runtime: ChatstateApp;

function build(env: Record<string, string> = {}): ChatstateApp {
  const { config } = loadConfig({ WHATSAPP_APP_SECRET: APP_SECRET, ...env });
  return localApp(store, sink, { config, bot });
}

function send(body: unknown, headers: Record<string, string> = {}, app = runtime): Promise<Response> {
  return Promise.resolve(
    app.fetch(
      new Request('http://localhost:3000/simulator/send', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    ),
  );
}

beforeEach(async () => {
  ({ store, sink } = await openLocalParts());
  runtime = build();
});

afterEach(() => closeLocalApp(runtime, store));

describe('simulator: mounting', () => {
  it('serves one self-contained page at / and /simulator, locked down by CSP', async () => {
    for (const path of ['/', '/simulator']) {
      const res = await runtime.fetch(new Request(`http://local${path}`));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
      expect(csp).toContain("connect-src 'self'");
      const html = await res.text();
      expect(html).toContain('Local mode');
      expect(html).toContain('Never run the simulator with real credentials');
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\//);
      expect(html).not.toContain(APP_SECRET);
    }
  });

  it('does not exist when WHATSAPP_ACCESS_TOKEN is set, nor without a sink', async () => {
    const real = build({ WHATSAPP_ACCESS_TOKEN: 'EAAG-real-token' });
    expect(real.simulator).toBeNull();
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/simulator'],
      ['GET', '/simulator/events'],
      ['GET', `/simulator/session/${USER}`],
      ['POST', '/simulator/send'],
    ] as const) {
      expect((await real.fetch(new Request(`http://local${path}`, { method }))).status).toBe(404);
    }
    await real.drain();
    const { config } = loadConfig({ WHATSAPP_APP_SECRET: APP_SECRET });
    const noSink = createApp({ store, config, bot });
    expect(noSink.simulator).toBeNull();
    expect((await noSink.fetch(new Request('http://local/'))).status).toBe(404);
    await noSink.drain();
  });
});

describe('local mode secret (node)', () => {
  it('generates a random per-process secret only when neither a token nor a secret is set', () => {
    const a = withSimulatorSecret({});
    const b = withSimulatorSecret({ WHATSAPP_APP_SECRET: ' ' });
    expect(a.generated).toBe(true);
    expect(a.env.WHATSAPP_APP_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(b.env.WHATSAPP_APP_SECRET).not.toBe(a.env.WHATSAPP_APP_SECRET);
    expect(withSimulatorSecret({ WHATSAPP_APP_SECRET: 'mine' })).toEqual({
      env: { WHATSAPP_APP_SECRET: 'mine' },
      generated: false,
    });
    const real = withSimulatorSecret({ WHATSAPP_ACCESS_TOKEN: 'EAAG' });
    expect(real.generated).toBe(false);
    expect(real.env.WHATSAPP_APP_SECRET).toBeUndefined();
  });

  it('with the generated secret the webhook still refuses unsigned and foreign-signed deliveries', async () => {
    const { config } = loadConfig(withSimulatorSecret({}).env);
    const local = localApp(store, sink, { config, bot });
    const body = { object: 'whatsapp_business_account', entry: [] };
    expect((await postSigned(local, body, null)).status).toBe(401);
    expect((await postSigned(local, body)).status).toBe(401); // signed with the test secret, not this one
    expect((await send({ from: USER, name: 'Ada', text: 'hi' }, {}, local)).status).toBe(200);
    local.simulator?.close();
    await local.drain();
  });
});
