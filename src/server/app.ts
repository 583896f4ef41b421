import { Hono } from 'hono';
import { ChatstateError } from '../errors.js';
import type { Bot } from '../runtime/bot.js';
import { Deliverer, type DeliveryEvent } from '../runtime/deliverer.js';
import { Dispatcher, type DispatcherOptions } from '../runtime/dispatcher.js';
import { createFallback } from '../runtime/fallback.js';
import { type Logger, silentLogger } from '../runtime/log.js';
import { noMetrics, type RuntimeMetrics } from '../runtime/metrics.js';
import type { Channels } from '../runtime/outbound.js';
import type { SessionStore } from '../store/session-store.js';
import { mountAdminRoutes } from './admin-routes.js';
import type { ServerConfig, ServerRole } from './config.js';
import { mountSimulator, type SimulatorHandle, type SimulatorSink } from './simulator.js';
import { mountWebhookRoutes, type SignatureVerifier, type WebhookReceiver } from './webhook-routes.js';

export interface AppOptions {
  store: SessionStore;
  config: ServerConfig;
  bot: Bot;
  log?: Logger;
  metrics?: RuntimeMetrics;
  /** Renders GET /metrics (Prometheus text); the route exists only when this is given. */
  renderMetrics?: () => Promise<{ body: string; contentType: string }>;
  verifySignature?: SignatureVerifier;
  /** Options for the dispatcher the app creates. */
  recoveryIntervalMs?: number;
  /**
   * One inbox write per event-loop turn for all the webhook deliveries read in it (see
   * groupCommit in webhook-routes.ts). Node only; applies only to stores with an inbox.
   */
  groupCommit?: boolean;
  /** Where replies go (Cloud API, WASender, or the local sink). Without channels replies stay in the outbox. */
  channels?: Channels;
  /** Fallback text sent once per user while the store is down; null disables. */
  fallbackText?: string | null;
  rateLimit?: DispatcherOptions['rateLimit'];
  /** Delivery outcomes the bot owner may act on (24 h window closed, token expired...). */
  onDelivery?: (event: DeliveryEvent) => void;
  /**
   * The local sink the replies go to: given, the WhatsApp simulator (GET /, /simulator/*) is
   * mounted, but only while WHATSAPP_ACCESS_TOKEN is unset (docs/simulator.md).
   */
  simulator?: { sink: SimulatorSink };
  /**
   * `all` (default) records and processes inbound messages; `ingest` only records them (webhook
   * routes, no drains, no reply sending); `worker` has no webhook routes and processes what the
   * inbox holds, polling it every `pollIntervalMs` (default 50). docs/webhook-runtime.md, "Roles".
   */
  role?: ServerRole;
  pollIntervalMs?: number;
}

export interface ChatstateApp {
  app: Hono;
  /** Web-standard fetch handler: Request in, Response out. */
  fetch: (request: Request) => Response | Promise<Response>;
  dispatcher: Dispatcher;
  /** Delivers committed replies; null when the app has no channels. */
  deliverer: Deliverer | null;
  /**
   * The webhook POST routes without Hono: what `fetch` runs for them, callable with the raw body.
   * server/node.ts serves them straight from node:http with it (no Web Request per delivery).
   * Null in the `worker` role, which has no webhook routes.
   */
  webhooks: WebhookReceiver | null;
  /** The local simulator when mounted (its event streams end before a graceful shutdown), else null. */
  simulator: SimulatorHandle | null;
  /** Stop accepting (readyz 503), finish in-flight messages. */
  drain(): Promise<void>;
}

/**
 * The HTTP surface as a Web-standard fetch handler, so the same app runs on Node (server/node.ts)
 * and on edge runtimes. Hono is the router: built on the Fetch API, unchanged on every runtime.
 */
export function createApp(options: AppOptions): ChatstateApp {
  const app = new Hono();
  const { store } = options;
  const log = options.log ?? silentLogger;
  const metrics = options.metrics ?? noMetrics;
  const channels = options.channels;
  const role = options.role ?? 'all';
  if (role !== 'all' && (store.inbox === null || store.driver.name === 'memory')) {
    throw new ChatstateError(
      'CONFIG_INVALID',
      `the ${role} role shares inbound messages with other processes through the store's inbox, and the ${store.driver.name} store ${store.inbox === null ? 'has no inbox' : 'keeps it inside one process'}: use a sqlite: or redis: store, or the all role.`,
      { component: 'config' },
    );
  }
  // Ingest only records: no reply is ever produced here, so nothing to resend on a timer (status
  // webhooks still update the outbox through the deliverer).
  const delivererRecoveryMs =
    role === 'ingest'
      ? 0
      : options.recoveryIntervalMs === undefined
        ? undefined
        : options.recoveryIntervalMs * 5;
  const deliverer = channels
    ? new Deliverer({
        store,
        channels,
        log,
        count: metrics.delivery,
        ...(options.onDelivery ? { onEvent: options.onDelivery } : {}),
        ...(delivererRecoveryMs === undefined ? {} : { recoveryIntervalMs: delivererRecoveryMs }),
      })
    : null;
  const dispatcher = new Dispatcher({
    store,
    bot: options.bot,
    logger: log,
    metrics,
    ...(deliverer ? { deliver: (replies) => deliverer.deliver(replies) } : {}),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    ...(role === 'worker'
      ? // Everything in the inbox is this process's work: poll often, take entries at any age.
        { recoveryIntervalMs: options.pollIntervalMs ?? 50, recoverAfterMs: 0 }
      : options.recoveryIntervalMs === undefined
        ? {}
        : { recoveryIntervalMs: options.recoveryIntervalMs }),
    process: role !== 'ingest',
  });
  const fallback =
    channels && options.fallbackText !== null
      ? createFallback({
          channels,
          text: options.fallbackText ?? 'We are having trouble, please try again in a moment.',
          log,
          count: metrics.fallbackSent,
        })
      : undefined;
  let draining = false;

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    if (draining) return c.json({ status: 'draining' }, 503);
    try {
      await store.ping();
      return c.json({ status: 'ready', store: store.driver.name });
    } catch (error) {
      return c.json(
        { status: 'store_unreachable', store: store.driver.name, error: (error as Error).message },
        503,
      );
    }
  });

  if (options.renderMetrics) {
    const render = options.renderMetrics;
    app.get('/metrics', async (c) => {
      const { body, contentType } = await render();
      return c.body(body, 200, { 'content-type': contentType });
    });
  }

  const webhooks =
    role === 'worker'
      ? null
      : mountWebhookRoutes(app, {
          config: options.config,
          dispatcher,
          log,
          metrics,
          groupCommit: options.groupCommit === true && store.inbox !== null,
          ...(deliverer
            ? {
                onStatus: (event) =>
                  void deliverer
                    .status(event)
                    .catch((e) => log.warn({ err: String(e) }, 'status update failed')),
              }
            : {}),
          ...(fallback ? { onStoreDown: fallback } : {}),
          ...(options.verifySignature ? { verifySignature: options.verifySignature } : {}),
        });

  // No token, no admin surface: the routes do not exist (404) rather than answering 401.
  if (options.config.adminToken) mountAdminRoutes(app, { store, token: options.config.adminToken });
  // A simulator can forge signed deliveries: never next to real Cloud API credentials. It posts to
  // this process's webhook routes and reads the replies this process sends: the all role only.
  const simulator =
    options.simulator && role === 'all' && !options.config.whatsapp.accessToken
      ? mountSimulator(app, { store, config: options.config, sink: options.simulator.sink })
      : null;

  return {
    app,
    fetch: (request) => app.fetch(request),
    dispatcher,
    deliverer,
    webhooks,
    simulator,
    async drain() {
      draining = true;
      await dispatcher.close();
      await deliverer?.close();
    },
  };
}
