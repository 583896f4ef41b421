import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { CloudMessage } from '../channels/whatsapp-cloud/types.js';
import type { SinkMessage } from '../runtime/outbound.js';
import type { SessionStore } from '../store/session-store.js';
import { errorBody, sessionView, storeAnswer } from './admin-routes.js';
import type { ServerConfig } from './config.js';
import { simulatorPage } from './simulator/page.js';
import {
  cloudPayload,
  type InboundView,
  inboundView,
  parseSimulatorInput,
  signBody,
} from './simulator-payload.js';

/** The local sink's read side: replies the bot sent while no provider credentials are set. */
export interface SimulatorSink {
  readonly messages: readonly SinkMessage[];
  subscribe(listener: (message: SinkMessage) => void): () => void;
}

export interface SimulatorDeps {
  store: SessionStore;
  config: ServerConfig;
  sink: SimulatorSink;
}

export interface SimulatorHandle {
  /** Ends the open event streams, so a graceful shutdown does not wait on browsers. */
  close(): void;
}

/** One bubble of the transcript: what a simulated user wrote (`in`) or the bot answered (`out`). */
export type TranscriptItem =
  | { dir: 'in'; id: string; user: string; at: number; message: InboundView }
  | { dir: 'out'; id: string; user: string; at: number; message: CloudMessage };

const KEEP_INBOUND = 1000;
const HEARTBEAT_MS = 15_000;

function outbound(m: SinkMessage): TranscriptItem | null {
  // WASender replies have no bubbles here: the simulator plays a Cloud API user.
  if (m.envelope.channel !== 'cloud') return null;
  return { dir: 'out', id: m.providerId, user: m.envelope.to, at: m.at, message: m.envelope.message };
}

/**
 * A browser on another site may POST to localhost. JSON-only bodies already force a CORS preflight
 * (which nothing here answers); refusing a foreign Origin as well keeps forged sends out entirely.
 */
function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin) return true;
  try {
    return new URL(origin).host === c.req.header('host');
  } catch {
    return false;
  }
}

/**
 * The local WhatsApp simulator: a chat page at `/` and `/simulator`, and the endpoints it uses.
 * Sends go through the real webhook route (signed here, server-side); replies come from the
 * local sink. Only mounted when no WhatsApp access token is set (see app.ts).
 */
export function mountSimulator(app: Hono, deps: SimulatorDeps): SimulatorHandle {
  const { store, config, sink } = deps;
  const inbound: TranscriptItem[] = [];
  const closers = new Set<() => void>();
  let sent = 0;

  const page = async (c: Context) => {
    const { html, csp } = await simulatorPage();
    return c.html(html, 200, {
      'content-security-policy': csp,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
  };
  app.get('/', page);
  app.get('/simulator', page);

  app.post('/simulator/send', async (c) => {
    if (!sameOrigin(c))
      return c.json(errorBody('SIMULATOR_FORBIDDEN', 'cross-origin sends are refused.'), 403);
    if (!(c.req.header('content-type') ?? '').startsWith('application/json'))
      return c.json(errorBody('INVALID_ARGUMENT', 'send a JSON body (content-type: application/json).'), 415);
    const input = parseSimulatorInput(await c.req.json().catch(() => undefined));
    if (typeof input === 'string') return c.json(errorBody('INVALID_ARGUMENT', input), 400);
    const secret = config.whatsapp.appSecret;
    if (!secret)
      return c.json(
        errorBody('WEBHOOK_SECRET_MISSING', 'WHATSAPP_APP_SECRET is not set on this server.'),
        503,
      );
    const at = Date.now();
    const wamid = `wamid.SIM.${at.toString(36)}.${++sent}.${crypto.randomUUID().slice(0, 8)}`;
    const body = JSON.stringify(cloudPayload(input, wamid, at));
    // In-process through the real route: signature check, parse, inbox, dispatch, as for Meta.
    const answer = await app.fetch(
      new Request('http://simulator.local/webhooks/whatsapp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': await signBody(body, secret) },
        body,
      }),
    );
    if (answer.status !== 200) {
      const refused = (await answer.json().catch(() => null)) as { error?: unknown } | null;
      return c.json({ status: answer.status, error: refused?.error ?? null }, 502);
    }
    inbound.push({ dir: 'in', id: wamid, user: input.from, at, message: inboundView(input) });
    if (inbound.length > KEEP_INBOUND) inbound.shift();
    return c.json({ id: wamid, at, status: answer.status });
  });

  // The transcript of one user, both directions, oldest first: the page loads it on switch/reload.
  app.get('/simulator/messages', (c) => {
    const user = c.req.query('user') ?? '';
    const items = [...inbound, ...sink.messages.map(outbound)].filter(
      (m): m is TranscriptItem => m !== null && m.user === user,
    );
    items.sort((a, b) => a.at - b.at);
    return c.json({ items });
  });

  // The session panel: the same view as GET /admin/sessions/:id, without a token (local mode only).
  app.get('/simulator/session/:id', (c) =>
    storeAnswer(c, async () => {
      const view = await sessionView(store, c.req.param('id'), 5);
      return c.json(view ?? { found: false }, 200, { 'cache-control': 'no-store' });
    }),
  );

  // "Clear session" in the panel: the user starts over, as `chatstate session clear` does.
  app.delete('/simulator/session/:id', (c) =>
    storeAnswer(c, async () => {
      if (!sameOrigin(c))
        return c.json(errorBody('SIMULATOR_FORBIDDEN', 'cross-origin requests are refused.'), 403);
      const id = c.req.param('id');
      return c.json({ id, existed: await store.delete(id) });
    }),
  );

  // Replies as they reach the sink, for every simulated user (the page filters and counts unread).
  app.get('/simulator/events', (c) => {
    const response = streamSSE(c, async (stream) => {
      let stop: () => void = () => {};
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      // Writes are chained so events keep their order; a failed write (browser gone) ends the
      // stream instead of leaving a rejected promise unhandled.
      let chain = Promise.resolve();
      const send = (write: () => Promise<unknown>) => {
        chain = chain.then(write).then(
          () => undefined,
          () => stop(),
        );
      };
      const unsubscribe = sink.subscribe((m) => {
        const item = outbound(m);
        if (item) send(() => stream.writeSSE({ event: 'reply', id: item.id, data: JSON.stringify(item) }));
      });
      closers.add(stop);
      stream.onAbort(stop);
      // Comments keep proxies and idle timeouts from cutting a quiet stream.
      const beat = setInterval(() => send(() => stream.write(': keep-alive\n\n')), HEARTBEAT_MS);
      try {
        // `retry`: reconnect 1 s after a restart (the page then reloads the transcript).
        send(() => stream.writeSSE({ event: 'ready', data: '{}', retry: 1000 }));
        await stopped;
      } finally {
        clearInterval(beat);
        unsubscribe();
        closers.delete(stop);
        await chain;
      }
    });
    // The socket closes with the stream (streamSSE says keep-alive): a kept-alive socket would
    // hold a graceful shutdown for Node's keep-alive timeout after close() has ended the stream.
    response.headers.set('connection', 'close');
    return response;
  });

  return {
    close() {
      for (const stop of closers) stop();
    },
  };
}
