import type { Context, Hono, MiddlewareHandler } from 'hono';
import { isChatstateError } from '../errors.js';
import type { Session } from '../session/types.js';
import type { SessionStore } from '../store/session-store.js';
import type { OutboxRecord } from '../store/store-outbox.js';
import { timingSafeEqual } from '../webhook/verify.js';

/** An outbox entry as the admin API and the simulator show it: the envelope parsed, not JSON in JSON. */
export type OutboxView = Omit<OutboxRecord, 'payload'> & { envelope: unknown };

/** `GET /admin/sessions/:id` (and the simulator's session panel): what `chatstate session get --json` prints. */
export interface SessionView {
  found: true;
  session: Session;
  /** Milliseconds until expiry; null when the session never expires. */
  ttlMs: number | null;
  /** Latest replies, newest first; null when the store keeps no outbox. */
  outbox: OutboxView[] | null;
}

const encoder = new TextEncoder();
const MAX_PAGE = 1000;
const MAX_OUTBOX = 100;

/** Reads one session with its TTL left and latest outbox entries; null when there is none. */
export async function sessionView(
  store: SessionStore,
  id: string,
  outboxLimit = 10,
): Promise<SessionView | null> {
  const session = await store.get(id);
  if (!session) return null;
  // The store's clock, not Date.now(): the TTL left must agree with how the store expires it.
  const now = store.options.clock();
  const outbox = store.outbox ? await store.outbox.forUser(id, outboxLimit) : null;
  return {
    found: true,
    session,
    ttlMs: session.expiresAt === null ? null : Math.max(0, session.expiresAt - now),
    outbox: outbox?.map(({ payload, ...entry }) => ({ ...entry, envelope: parsePayload(payload) })) ?? null,
  };
}

function parsePayload(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    // An entry whose payload cannot be read is still listed, raw, rather than hidden.
    return payload;
  }
}

/** The error body every chatstate HTTP refusal uses (same shape as the webhook routes). */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/**
 * Turns store errors into HTTP answers: a bad id is the caller's fault (400), a store that cannot
 * list is a capability the deployment lacks (501), a store that is down is temporary (503).
 * Anything else is a bug and stays a 500.
 */
export async function storeAnswer(c: Context, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (!isChatstateError(error)) throw error;
    const status =
      error.code === 'INVALID_ARGUMENT'
        ? 400
        : error.code === 'CAPABILITY_MISSING'
          ? 501
          : error.code.startsWith('STORE_')
            ? 503
            : 500;
    if (status === 500) throw error;
    return c.json(errorBody(error.code, error.message), status);
  }
}

/**
 * `Authorization: Bearer <token>`, compared in constant time over the token's length so the
 * answer time says nothing about how much of a guess was right.
 */
function bearer(token: string): MiddlewareHandler {
  const expected = encoder.encode(token);
  return async (c, next) => {
    // Session data is personal data: no proxy or browser cache may keep it (401s included).
    c.header('cache-control', 'no-store');
    const header = c.req.header('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!timingSafeEqual(expected, encoder.encode(given))) {
      c.header('www-authenticate', 'Bearer realm="chatstate-admin"');
      return c.json(errorBody('ADMIN_UNAUTHORIZED', 'missing or wrong admin bearer token.'), 401);
    }
    await next();
  };
}

function intParam(value: string | undefined, fallback: number, max: number): number | null {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,7}$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 && n <= max ? n : null;
}

/**
 * The admin API: read, clear and list sessions. Mounted only when CHATSTATE_ADMIN_TOKEN is set,
 * so a server without a token has no admin surface at all (404, not 401).
 */
export function mountAdminRoutes(app: Hono, deps: { store: SessionStore; token: string }): void {
  const { store } = deps;
  // On every /admin path, known or not: unknown admin paths answer 401 too and reveal nothing.
  app.use('/admin/*', bearer(deps.token));

  app.get('/admin/sessions', (c) =>
    storeAnswer(c, async () => {
      const limit = intParam(c.req.query('limit'), 100, MAX_PAGE);
      if (limit === null)
        return c.json(errorBody('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_PAGE}.`), 400);
      const cursor = c.req.query('cursor') || null;
      const page = await store.list({ prefix: c.req.query('prefix') ?? '', cursor, limit });
      return c.json(page);
    }),
  );

  app.get('/admin/sessions/:id', (c) =>
    storeAnswer(c, async () => {
      const outbox = intParam(c.req.query('outbox'), 10, MAX_OUTBOX);
      if (outbox === null)
        return c.json(
          errorBody('INVALID_ARGUMENT', `outbox must be an integer from 1 to ${MAX_OUTBOX}.`),
          400,
        );
      const id = c.req.param('id');
      const view = await sessionView(store, id, outbox);
      if (!view)
        return c.json(
          {
            found: false,
            ...errorBody('SESSION_NOT_FOUND', `no session for ${id} (never stored, expired or cleared).`),
          },
          404,
        );
      return c.json(view);
    }),
  );

  app.delete('/admin/sessions/:id', (c) =>
    storeAnswer(c, async () => {
      const id = c.req.param('id');
      return c.json({ id, existed: await store.delete(id) });
    }),
  );
}
