import { Hono } from 'hono';
import type { Bot } from '../runtime/bot.js';
import { Deliverer, type DeliveryEvent } from '../runtime/deliverer.js';
import { Dispatcher, type DispatcherOptions } from '../runtime/dispatcher.js';
import { createFallback } from '../runtime/fallback.js';
import { type Logger, silentLogger } from '../runtime/log.js';
import { noMetrics, type RuntimeMetrics } from '../runtime/metrics.js';
import type { Channels } from '../runtime/outbound.js';
import type { SessionStore } from '../store/session-store.js';
import { mountAdminRoutes } from './admin-routes.js';
import type { ServerConfig } from './config.js';
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
   */
  webhooks: WebhookReceiver;
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
  const deliverer = channels
    ? new Deliverer({
        store,
        channels,
        log,
        count: metrics.delivery,
        ...(options.onDelivery ? { onEvent: options.onDelivery } : {}),
        ...(options.recoveryIntervalMs === undefined
          ? {}
          : { recoveryIntervalMs: options.recoveryIntervalMs * 5 }),
      })
    : null;
  const dispatcher = new Dispatcher({
    store,
    bot: options.bot,
    logger: log,
    metrics,
    ...(deliverer ? { deliver: (replies) => deliverer.deliver(replies) } : {}),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    ...(options.recoveryIntervalMs === undefined ? {} : { recoveryIntervalMs: options.recoveryIntervalMs }),
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

  const webhooks = mountWebhookRoutes(app, {
    config: options.config,
    dispatcher,
    log,
    metrics,
    groupCommit: options.groupCommit === true && store.inbox !== null,
    ...(deliverer
      ? {
          onStatus: (event) =>
            void deliverer.status(event).catch((e) => log.warn({ err: String(e) }, 'status update failed')),
        }
      : {}),
    ...(fallback ? { onStoreDown: fallback } : {}),
    ...(options.verifySignature ? { verifySignature: options.verifySignature } : {}),
  });

  // No token, no admin surface: the routes do not exist (404) rather than answering 401.
  if (options.config.adminToken) mountAdminRoutes(app, { store, token: options.config.adminToken });
  // A simulator can forge signed deliveries: never next to real Cloud API credentials.
  const simulator =
    options.simulator && !options.config.whatsapp.accessToken
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
