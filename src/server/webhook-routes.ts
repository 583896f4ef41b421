import type { Context, Hono } from 'hono';
import { isChatstateError } from '../errors.js';
import type { Dispatcher } from '../runtime/dispatcher.js';
import type { Logger } from '../runtime/log.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { decodeJsonBody } from '../webhook/body.js';
import { parseCloudApiPayload } from '../webhook/cloud-api.js';
import { type InboundEvent, isMessageEvent, type MessageEvent, type StatusEvent } from '../webhook/events.js';
import { timingSafeEqual, verifyMetaSignature, verifySharedSecret } from '../webhook/verify.js';
import { parseWasenderPayload } from '../webhook/wasender.js';
import type { ServerConfig } from './config.js';

/** Checks `X-Hub-Signature-256` over the raw bytes. Node swaps in node:crypto (7x faster than WebCrypto). */
export type SignatureVerifier = (
  raw: Uint8Array,
  header: string | null,
  secret: string,
) => boolean | Promise<boolean>;

export interface WebhookDeps {
  config: ServerConfig;
  dispatcher: Dispatcher;
  log: Logger;
  metrics: RuntimeMetrics;
  verifySignature?: SignatureVerifier;
  /** Status webhooks (sent, delivered, read, failed): the outbox bookkeeping. */
  onStatus?: (event: StatusEvent) => void;
  /** Called with the messages of a delivery refused because the store is down (the fallback reply). */
  onStoreDown?: (messages: MessageEvent[]) => void;
  /**
   * Group commit: record the messages of every delivery read in one event-loop turn with one
   * `dispatcher.accept` (one inbox transaction) instead of one per delivery. Each delivery is still
   * answered only after its own messages are durable. Node only (setImmediate); meant for stores
   * with an inbox, where accept only records. Off by default.
   */
  groupCommit?: boolean;
}

const encoder = new TextEncoder();

/** The answer to one delivery: a status, and for refusals the error body `{ error: { code, message } }`. */
export interface WebhookAnswer {
  status: number;
  error?: { code: string; message: string | undefined };
}

/** One delivery as the receiver needs it, whatever the HTTP layer (Hono's Request, node:http). */
export interface WebhookDelivery {
  /** A request header (lower-case name), or null when absent. */
  header(name: string): string | null;
  /** The raw body bytes as received. */
  body(): Promise<Uint8Array>;
}

export type WebhookRoute = 'whatsapp' | 'wasender';

/** Handles one POST to a webhook route, from size check to acknowledgement; see {@link receive}. */
export type WebhookReceiver = (route: WebhookRoute, delivery: WebhookDelivery) => Promise<WebhookAnswer>;

/**
 * The webhook routes without an HTTP framework: the Hono routes below and the node:http fast path
 * (server/node-webhooks.ts) both call this, so the two give the same answers and metrics.
 */
export function createWebhookReceiver(deps: WebhookDeps): WebhookReceiver {
  const { config, dispatcher } = deps;
  const verify = deps.verifySignature ?? verifyMetaSignature;
  const accept = deps.groupCommit ? groupCommit(dispatcher) : (m: MessageEvent[]) => dispatcher.accept(m);
  return (route, delivery) =>
    route === 'whatsapp'
      ? receive(
          delivery,
          deps,
          accept,
          'whatsapp',
          config.whatsapp.appSecret,
          async (raw, secret) => verify(raw, delivery.header('x-hub-signature-256'), secret),
          parseCloudApiPayload,
        )
      : receive(
          delivery,
          deps,
          accept,
          'wasender',
          config.wasender.webhookSecret,
          async (_raw, secret) => verifySharedSecret(delivery.header('x-webhook-signature'), secret),
          parseWasenderPayload,
        );
}

/** Mounts the webhook routes on a Hono app; returns the receiver they use (for server/node.ts). */
export function mountWebhookRoutes(app: Hono, deps: WebhookDeps): WebhookReceiver {
  const { config } = deps;
  const receiver = createWebhookReceiver(deps);

  // Meta's subscription handshake: echo hub.challenge only for our verify token.
  app.get('/webhooks/whatsapp', (c) => {
    const token = config.whatsapp.verifyToken;
    const mode = c.req.query('hub.mode');
    const given = c.req.query('hub.verify_token') ?? '';
    const challenge = c.req.query('hub.challenge') ?? '';
    if (token && mode === 'subscribe' && timingSafeEqual(encoder.encode(token), encoder.encode(given))) {
      return c.text(challenge, 200);
    }
    return c.text('Forbidden', 403);
  });

  app.post('/webhooks/whatsapp', async (c) => respond(c, await receiver('whatsapp', honoDelivery(c))));
  app.post('/webhooks/wasender', async (c) => respond(c, await receiver('wasender', honoDelivery(c))));
  return receiver;
}

function honoDelivery(c: Context): WebhookDelivery {
  return {
    header: (name) => c.req.header(name) ?? null,
    body: async () => new Uint8Array(await c.req.arrayBuffer()),
  };
}

function respond(c: Context, answer: WebhookAnswer): Response {
  return answer.error
    ? c.json({ error: answer.error }, answer.status as 400)
    : c.body(null, answer.status as 200);
}

type Parse = (json: unknown) => { events: InboundEvent[]; ignored: Array<{ reason: string; path: string }> };

/**
 * One delivery: size check, signature over the raw bytes, JSON, parse every event, record the
 * messages durably, then acknowledge. Every refusal happens before anything is stored.
 */
async function receive(
  delivery: WebhookDelivery,
  deps: WebhookDeps,
  accept: (messages: MessageEvent[]) => Promise<void>,
  route: string,
  secret: string | undefined,
  check: (raw: Uint8Array, secret: string) => Promise<boolean>,
  parse: Parse,
): Promise<WebhookAnswer> {
  const { config, log, metrics } = deps;
  const answer = (status: number, code?: string, message?: string): WebhookAnswer => {
    metrics.webhookRequest(route, status);
    return code ? { status, error: { code, message } } : { status };
  };
  if (!secret) {
    return answer(
      503,
      'WEBHOOK_SECRET_MISSING',
      `the ${route} webhook secret is not configured on this server.`,
    );
  }
  const declared = Number(delivery.header('content-length') ?? '0');
  if (declared > config.maxBodyBytes)
    return answer(413, 'WEBHOOK_BODY_TOO_LARGE', `body over ${config.maxBodyBytes} bytes.`);
  const raw = await delivery.body();
  if (raw.length > config.maxBodyBytes)
    return answer(413, 'WEBHOOK_BODY_TOO_LARGE', `body over ${config.maxBodyBytes} bytes.`);
  if (!(await check(raw, secret))) {
    metrics.signatureFailure(route);
    return answer(401, 'WEBHOOK_SIGNATURE_INVALID', 'missing or wrong signature.');
  }
  let parsed: ReturnType<Parse>;
  try {
    parsed = parse(decodeJsonBody(raw, { maxBytes: config.maxBodyBytes }));
  } catch (error) {
    if (isChatstateError(error)) {
      const status = error.code === 'WEBHOOK_BODY_TOO_LARGE' ? 413 : 400;
      return answer(status, error.code, error.message);
    }
    throw error;
  }
  for (const item of parsed.ignored) {
    metrics.ignored(item.reason);
    log.info({ route, reason: item.reason, path: item.path }, 'webhook item ignored');
  }
  const messages = [];
  for (const event of parsed.events) {
    metrics.event(event.kind);
    if (isMessageEvent(event)) messages.push(event);
    else if (event.kind === 'status') deps.onStatus?.(event);
    else log.info({ route, kind: event.kind }, 'webhook event observed');
  }
  try {
    await accept(messages);
  } catch (error) {
    log.error(
      { route, err: (error as Error).message },
      'store unavailable: delivery refused so the provider retries',
    );
    deps.onStoreDown?.(messages);
    return answer(503, 'STORE_UNAVAILABLE', 'the session store is unavailable; retry later.');
  }
  return answer(200);
}

/**
 * `dispatcher.accept` shared by the deliveries of one event-loop turn: their messages are recorded
 * in one inbox write (SQLite: one transaction instead of one per delivery, the largest cost of an
 * acknowledgement), in arrival order, after the turn's I/O callbacks (setImmediate). Every
 * delivery waits for that write, so none is answered 200 before its messages are durable. If the
 * shared write fails, the deliveries of a batch of several are retried one by one, so a delivery
 * the store refuses cannot get the others refused; each keeps its own outcome, as without batching.
 */
function groupCommit(dispatcher: Dispatcher): (messages: MessageEvent[]) => Promise<void> {
  type Batch = { messages: MessageEvent[]; deliveries: number; done: Promise<void> };
  let open: Batch | null = null;
  return (messages) => {
    if (messages.length === 0) return dispatcher.accept(messages);
    let batch = open;
    if (batch === null) {
      const next: Batch = { messages: [], deliveries: 0, done: Promise.resolve() };
      next.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        open = null;
        return dispatcher.accept(next.messages);
      });
      open = next;
      batch = next;
    }
    for (const message of messages) batch.messages.push(message);
    batch.deliveries += 1;
    const shared = batch;
    return shared.done.catch((error: unknown) => {
      if (shared.deliveries === 1) throw error;
      return dispatcher.accept(messages);
    });
  };
}
