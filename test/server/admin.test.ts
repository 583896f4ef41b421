import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatstateApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/open.js';
import { SessionStore } from '../../src/store/session-store.js';
import { makeApp } from '../runtime/support.js';

const TOKEN = 'admin-token-for-tests-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'chatstate-admin-'));
let store: SessionStore;
let app: ChatstateApp;

function call(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const { token = TOKEN, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  return Promise.resolve(app.fetch(new Request(`http://local${path}`, { ...rest, headers })));
}

beforeAll(async () => {
  store = await openStore(`sqlite:${join(dir, 'admin.db')}`);
  app = makeApp(store, { env: { CHATSTATE_ADMIN_TOKEN: TOKEN } });
  for (const id of ['4915110000001', '4915110000002', '4915110000003', '14155550100']) {
    await store.transition(id, (d) => {
      d.setFlow('lead')
        .goto('ask_email')
        .set('name', `user ${id.slice(-1)}`);
      d.remember({ dir: 'in', text: 'hello' });
      d.send({ channel: 'cloud', from: '1065', to: id, message: { type: 'text', text: `hi ${id}` } });
    });
  }
});

afterAll(async () => {
  await app.drain();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin API: authentication', () => {
  it.each([
    ['no header', null],
    ['a wrong token', 'admin-token-for-tests-012345678X'],
    ['a prefix of the token', TOKEN.slice(0, 10)],
    ['an empty token', ''],
  ])('refuses %s with 401 and a JSON error, on every admin path', async (_what, token) => {
    for (const [method, path] of [
      ['GET', '/admin/sessions'],
      ['GET', '/admin/sessions/4915110000001'],
      ['DELETE', '/admin/sessions/4915110000001'],
      ['GET', '/admin/anything'],
    ] as const) {
      const res = await call(path, { method, token });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect((await res.json()).error.code).toBe('ADMIN_UNAUTHORIZED');
    }
    // Nothing was cleared by the refused DELETE.
    expect(await store.get('4915110000001')).not.toBeNull();
  });

  it('accepts only the Bearer scheme', async () => {
    const res = await call('/admin/sessions', { token: null, headers: { authorization: `Basic ${TOKEN}` } });
    expect(res.status).toBe(401);
  });

  it('does not exist at all without CHATSTATE_ADMIN_TOKEN (404, not 401)', async () => {
    const bare = makeApp(store);
    for (const path of ['/admin/sessions', '/admin/sessions/4915110000001']) {
      const res = await bare.fetch(
        new Request(`http://local${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
      );
      expect(res.status).toBe(404);
    }
    await bare.drain();
  });
});

describe('admin API: sessions', () => {
  it('GET /admin/sessions/:id returns the session, its TTL left and the latest outbox entries', async () => {
    const res = await call('/admin/sessions/4915110000002');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body.found).toBe(true);
    expect(body.session).toMatchObject({
      id: '4915110000002',
      flow: 'lead',
      node: 'ask_email',
      vars: { name: 'user 2' },
      retries: 0,
      version: 1,
    });
    expect(body.session.history.map((h: { text: string }) => h.text)).toEqual(['hello']);
    expect(body.ttlMs).toBeGreaterThan(23 * 3600_000); // default 24 h TTL, just written
    expect(body.ttlMs).toBeLessThanOrEqual(24 * 3600_000);
    expect(body.outbox).toHaveLength(1);
    expect(body.outbox[0]).toMatchObject({
      state: 'pending',
      userId: '4915110000002',
      envelope: {
        channel: 'cloud',
        to: '4915110000002',
        message: { type: 'text', text: 'hi 4915110000002' },
      },
    });
    expect(body.outbox[0]).not.toHaveProperty('payload');
  });

  it('GET /admin/sessions/:id answers 404 for an unknown user and 400 for an invalid id', async () => {
    const missing = await call('/admin/sessions/4915119999999');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ found: false, error: { code: 'SESSION_NOT_FOUND' } });
    const bad = await call(`/admin/sessions/${encodeURIComponent('has space')}`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('INVALID_ARGUMENT');
    expect((await call('/admin/sessions/4915110000002?outbox=0')).status).toBe(400);
  });

  it('GET /admin/sessions lists ids by prefix, a page at a time', async () => {
    const all = await (await call('/admin/sessions')).json();
    expect(all.ids.sort()).toEqual(['14155550100', '4915110000001', '4915110000002', '4915110000003']);
    expect(all.cursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `prefix=4915&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await call(`/admin/sessions?${query}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { ids: string[]; cursor: string | null };
      expect(page.ids.length).toBeLessThanOrEqual(2);
      seen.push(...page.ids);
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.sort()).toEqual(['4915110000001', '4915110000002', '4915110000003']);

    for (const limit of ['0', '-1', 'abc', '1001']) {
      const res = await call(`/admin/sessions?limit=${limit}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('DELETE /admin/sessions/:id clears the session; a second delete reports it was gone', async () => {
    const first = await call('/admin/sessions/4915110000003', { method: 'DELETE' });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ id: '4915110000003', existed: true });
    expect(await store.get('4915110000003')).toBeNull();
    expect((await call('/admin/sessions/4915110000003')).status).toBe(404);
    const again = await call('/admin/sessions/4915110000003', { method: 'DELETE' });
    expect(await again.json()).toEqual({ id: '4915110000003', existed: false });
  });

  it('listing on a store that cannot scan answers 501 with CAPABILITY_MISSING', async () => {
    // The same SQLite driver with its scan hidden: what a Memcached store looks like to the API.
    const driver = store.driver;
    const noScan = new Proxy(driver, {
      get(target, prop) {
        if (prop === 'scan') return undefined;
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const limited = new SessionStore(noScan, {}, store.options.prefix);
    const limitedApp = makeApp(limited, { env: { CHATSTATE_ADMIN_TOKEN: TOKEN } });
    const res = await limitedApp.fetch(
      new Request('http://local/admin/sessions', { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    expect(res.status).toBe(501);
    expect((await res.json()).error.code).toBe('CAPABILITY_MISSING');
    // Reading one session still works there.
    const one = await limitedApp.fetch(
      new Request('http://local/admin/sessions/14155550100', {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    expect(one.status).toBe(200);
    await limitedApp.drain();
  });

  it('a closed store answers 503, not a crash', async () => {
    const closed = await openStore('sqlite::memory:');
    const closedApp = makeApp(closed, { env: { CHATSTATE_ADMIN_TOKEN: TOKEN } });
    await closed.close();
    const res = await closedApp.fetch(
      new Request('http://local/admin/sessions/14155550100', {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('STORE_CLOSED');
  });
});
