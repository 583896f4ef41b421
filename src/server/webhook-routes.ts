import type { Context, Hono } from 'hono';
import { isChatstateError } from '../errors.js';
import type { Dispatcher } from '../runtime/dispatcher.js';
import type { Logger } from '../runtime/log.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { decodeJsonBody } from '../webhook/body.js';
import { parseCloudApiPayload } from '../webhook/cloud-api.js';
import { type InboundEvent, isMessageEvent } from '../webhook/events.js';
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
}

const encoder = new TextEncoder();

export function mountWebhookRoutes(app: Hono, deps: WebhookDeps): void {
  const { config } = deps;
  const verify = deps.verifySignature ?? verifyMetaSignature;

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

  app.post('/webhooks/whatsapp', (c) =>
    receive(
      c,
      deps,
      'whatsapp',
      config.whatsapp.appSecret,
      async (raw, secret) => verify(raw, c.req.header('x-hub-signature-256') ?? null, secret),
      parseCloudApiPayload,
    ),
  );

  app.post('/webhooks/wasender', (c) =>
    receive(
      c,
      deps,
      'wasender',
      config.wasender.webhookSecret,
      async (_raw, secret) => verifySharedSecret(c.req.header('x-webhook-signature') ?? null, secret),
      parseWasenderPayload,
    ),
  );
}

type Parse = (json: unknown) => { events: InboundEvent[]; ignored: Array<{ reason: string; path: string }> };

/**
 * One delivery: size check, signature over the raw bytes, JSON, parse every event, record the
 * messages durably, then acknowledge. Every refusal happens before anything is stored.
 */
async function receive(
  c: Context,
  deps: WebhookDeps,
  route: string,
  secret: string | undefined,
  check: (raw: Uint8Array, secret: string) => Promise<boolean>,
  parse: Parse,
): Promise<Response> {
  const { config, dispatcher, log, metrics } = deps;
  const answer = (status: number, code?: string, message?: string) => {
    metrics.webhookRequest(route, status);
    return code ? c.json({ error: { code, message } }, status as 400) : c.body(null, status as 200);
  };
  if (!secret) {
    return answer(
      503,
      'WEBHOOK_SECRET_MISSING',
      `the ${route} webhook secret is not configured on this server.`,
    );
  }
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > config.maxBodyBytes)
    return answer(413, 'WEBHOOK_BODY_TOO_LARGE', `body over ${config.maxBodyBytes} bytes.`);
  const raw = new Uint8Array(await c.req.arrayBuffer());
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
    else log.debug({ route, kind: event.kind }, 'webhook event observed');
  }
  try {
    await dispatcher.accept(messages);
  } catch (error) {
    log.error(
      { route, err: (error as Error).message },
      'store unavailable: delivery refused so the provider retries',
    );
    return answer(503, 'STORE_UNAVAILABLE', 'the session store is unavailable; retry later.');
  }
  return answer(200);
}
