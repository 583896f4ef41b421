import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import pino from 'pino';
import { createNodeFetch } from '../channels/node/node-fetch.js';
import { createWasenderClient } from '../channels/wasender/client.js';
import { createCloudApiClient } from '../channels/whatsapp-cloud/client.js';
import { ChatstateError } from '../errors.js';
import { type Bot, rememberBot } from '../runtime/bot.js';
import type { Logger } from '../runtime/log.js';
import { type Channels, cloudChannel, sinkChannel, wasenderChannel } from '../runtime/outbound.js';
import { openStore, redact } from '../store/open.js';
import type { StoreOptions } from '../store/options.js';
import type { SessionStore } from '../store/session-store.js';
import { type ChatstateApp, createApp } from './app.js';
import { loadConfig, type ServerConfig } from './config.js';
import { withSimulatorSecret } from './node-simulator.js';
import { verifyMetaSignatureNode } from './node-verify.js';
import { nodeWebhookListener } from './node-webhooks.js';
import { createPrometheus } from './prometheus.js';

export interface NodeServerOptions {
  /** Environment to read configuration from. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Overrides on top of the environment. */
  config?: Partial<Pick<ServerConfig, 'storeUrl' | 'port' | 'role' | 'pollIntervalMs'>>;
  host?: string;
  bot?: Bot;
  storeOptions?: StoreOptions;
  logger?: Logger;
  recoveryIntervalMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  store: SessionStore;
  runtime: ChatstateApp;
  /** Replies sent to the local sink (channels without credentials): the simulator reads them. */
  sink: ReturnType<typeof sinkChannel>;
  close(): Promise<void>;
}

/** Loads a bot module: its default export (or `bot` export) is the Bot. */
export async function loadBot(path: string): Promise<Bot> {
  const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; bot?: unknown };
  const bot = mod.default ?? mod.bot;
  if (typeof bot !== 'function') {
    throw new ChatstateError(
      'CONFIG_INVALID',
      `bot module ${path} has no default export that is a bot function: export default defineBot({ ... }).`,
      {
        component: 'cli',
      },
    );
  }
  return bot as Bot;
}

/**
 * Real provider clients where credentials are set; the local sink otherwise. On Node they send over
 * node:http (keep-alive) instead of the global fetch: several times less CPU per reply here
 * (src/channels/node/node-fetch.ts, bench/run-sends.mjs).
 */
function channelsFor(config: ServerConfig, sink: ReturnType<typeof sinkChannel>): Channels {
  const { whatsapp, wasender } = config;
  const fetch = createNodeFetch();
  return {
    cloud: whatsapp.accessToken
      ? cloudChannel(
          createCloudApiClient({ baseUrl: whatsapp.apiUrl, accessToken: whatsapp.accessToken, fetch }),
        )
      : sink,
    wasender: wasender.apiKey
      ? wasenderChannel(createWasenderClient({ baseUrl: wasender.apiUrl, apiKey: wasender.apiKey, fetch }))
      : sink,
  };
}

/** Starts chatstate on Node: config from env, store, metrics, webhook runtime, graceful shutdown. */
export async function startNodeServer(options: NodeServerOptions = {}): Promise<RunningServer> {
  const local = withSimulatorSecret(options.env ?? process.env);
  const { config, warnings } = loadConfig(local.env);
  Object.assign(config, options.config);
  const log: Logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info', base: undefined });
  for (const warning of warnings) log.warn({}, warning);
  if (local.generated)
    log.info(
      {},
      'local mode: WHATSAPP_APP_SECRET is not set, generated a random per-process secret for the simulator (unsigned webhooks are still refused)',
    );
  const prometheus = createPrometheus();
  const bot = options.bot ?? (config.botModule ? await loadBot(config.botModule) : rememberBot);
  const store = await openStore(config.storeUrl, { ...options.storeOptions, observer: prometheus.store });
  const sink = sinkChannel();
  if (!config.whatsapp.accessToken)
    log.info({}, 'WHATSAPP_ACCESS_TOKEN is not set: Cloud API replies go to the local sink');
  const runtime = createApp({
    store,
    config,
    bot,
    channels: channelsFor(config, sink),
    fallbackText: config.fallbackText,
    rateLimit:
      config.rateLimitPerMinute > 0
        ? {
            max: config.rateLimitPerMinute,
            windowMs: 60_000,
            notice: 'You are sending messages very fast. Please wait a moment.',
          }
        : null,
    log,
    metrics: prometheus.runtime,
    renderMetrics: prometheus.render,
    verifySignature: verifyMetaSignatureNode,
    // Deliveries read in one event-loop turn share one inbox transaction (each still answered
    // after its messages are durable): the inbox write is most of an acknowledgement's cost.
    groupCommit: true,
    ...(options.recoveryIntervalMs === undefined ? {} : { recoveryIntervalMs: options.recoveryIntervalMs }),
    simulator: { sink },
    role: config.role,
    pollIntervalMs: config.pollIntervalMs,
  });
  // Messages and replies a previous run recorded but did not finish are picked up at once.
  // (An ingest process does neither: it processes nothing and sends nothing.)
  await runtime.dispatcher.recover();
  if (config.role !== 'ingest') await runtime.deliverer?.recover();
  const host = options.host ?? '0.0.0.0';
  // What @hono/node-server's serve() builds, with the webhook POSTs answered from node:http
  // directly (same answers, no Web Request per delivery: see node-webhooks.ts).
  const hono = getRequestListener(runtime.fetch, { hostname: host });
  const server: Server = createServer(runtime.webhooks ? nodeWebhookListener(runtime.webhooks, hono) : hono);
  await new Promise<void>((resolve) => server.listen(config.port, host, () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
  log.info(
    { url, store: redact(config.storeUrl), role: config.role },
    `chatstate listening on ${url}${config.role === 'all' ? '' : ` (${config.role} role)`}`,
  );
  if (runtime.simulator) log.info({ url }, `WhatsApp simulator (local mode) at ${url}/`);
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    store,
    runtime,
    sink,
    close() {
      // Stop accepting, let in-flight messages finish (their leases are released by their commits).
      closing ??= (async () => {
        runtime.simulator?.close(); // open simulator pages would otherwise hold server.close()
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await runtime.drain();
        await store.close();
      })();
      return closing;
    },
  };
}
