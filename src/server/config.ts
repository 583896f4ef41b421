import { z } from 'zod';
import { DEFAULT_GRAPH_BASE_URL } from '../channels/whatsapp-cloud/settings.js';
import { ChatstateError } from '../errors.js';
import { DEFAULT_STORE_URL } from '../store/open.js';
import { DEFAULT_MAX_BODY_BYTES } from '../webhook/body.js';

export interface ServerConfig {
  storeUrl: string;
  port: number;
  whatsapp: { appSecret?: string; verifyToken?: string; accessToken?: string; apiUrl: string };
  wasender: { webhookSecret?: string; apiKey?: string; apiUrl: string };
  adminToken?: string;
  maxBodyBytes: number;
  /** Fallback reply while the store is down; null when disabled (empty CHATSTATE_FALLBACK_TEXT). */
  fallbackText: string | null;
  /** Inbound messages per user per minute before the polite notice; 0 disables. */
  rateLimitPerMinute: number;
  /** Module whose default export is the Bot (`chatstate serve --bot`). */
  botModule?: string;
  /**
   * What this process does with inbound messages (docs/webhook-runtime.md, "Roles"): `all` records
   * and processes them; `ingest` only records them (verify, parse, inbox write, 200); `worker` only
   * processes what the inbox holds, polling it every `pollIntervalMs`.
   */
  role: ServerRole;
  /** How often a `worker` looks for new inbox entries. */
  pollIntervalMs: number;
}

export type ServerRole = 'all' | 'ingest' | 'worker';

const optionalSecret = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));

const schema = z.object({
  CHATSTATE_STORE: z.string().trim().min(1).default(DEFAULT_STORE_URL),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  WHATSAPP_APP_SECRET: optionalSecret,
  WHATSAPP_VERIFY_TOKEN: optionalSecret,
  WHATSAPP_ACCESS_TOKEN: optionalSecret,
  WHATSAPP_API_URL: z.url().default(DEFAULT_GRAPH_BASE_URL),
  WASENDER_WEBHOOK_SECRET: optionalSecret,
  WASENDER_API_KEY: optionalSecret,
  WASENDER_API_URL: z.url().default('https://www.wasenderapi.com/api'),
  CHATSTATE_ADMIN_TOKEN: optionalSecret,
  CHATSTATE_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_MAX_BODY_BYTES),
  CHATSTATE_FALLBACK_TEXT: z.string().default('We are having trouble, please try again in a moment.'),
  CHATSTATE_RATE_LIMIT: z.coerce.number().int().min(0).default(30),
  CHATSTATE_BOT: optionalSecret,
  CHATSTATE_ROLE: z.enum(['all', 'ingest', 'worker']).default('all'),
  CHATSTATE_POLL_MS: z.coerce.number().int().min(1).max(60_000).default(50),
});

/**
 * Reads configuration from an environment (process.env on Node, bindings on edge runtimes).
 * Secrets come only from here. Missing webhook secrets are warnings, not errors: the route stays
 * closed (503) so nothing unsigned is ever accepted, and the rest of the server still runs.
 */
export function loadConfig(env: Record<string, string | undefined>): {
  config: ServerConfig;
  warnings: string[];
} {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ChatstateError(
      'CONFIG_INVALID',
      `environment variable ${String(issue?.path[0])} is invalid (${issue?.message}): fix its value or unset it to use the default.`,
      { component: 'config' },
    );
  }
  const e = parsed.data;
  const config: ServerConfig = {
    storeUrl: e.CHATSTATE_STORE,
    port: e.PORT,
    whatsapp: {
      appSecret: e.WHATSAPP_APP_SECRET,
      verifyToken: e.WHATSAPP_VERIFY_TOKEN,
      accessToken: e.WHATSAPP_ACCESS_TOKEN,
      apiUrl: e.WHATSAPP_API_URL.replace(/\/$/, ''),
    },
    wasender: {
      webhookSecret: e.WASENDER_WEBHOOK_SECRET,
      apiKey: e.WASENDER_API_KEY,
      apiUrl: e.WASENDER_API_URL.replace(/\/$/, ''),
    },
    adminToken: e.CHATSTATE_ADMIN_TOKEN,
    maxBodyBytes: e.CHATSTATE_MAX_BODY_BYTES,
    fallbackText: e.CHATSTATE_FALLBACK_TEXT.trim() ? e.CHATSTATE_FALLBACK_TEXT : null,
    rateLimitPerMinute: e.CHATSTATE_RATE_LIMIT,
    botModule: e.CHATSTATE_BOT,
    role: e.CHATSTATE_ROLE,
    pollIntervalMs: e.CHATSTATE_POLL_MS,
  };
  const warnings: string[] = [];
  // A worker never receives webhooks: its secrets are not needed.
  if (config.role === 'worker') return { config, warnings };
  if (!config.whatsapp.appSecret) {
    warnings.push(
      'WHATSAPP_APP_SECRET is not set: POST /webhooks/whatsapp refuses every request (503) until it is.',
    );
  }
  if (!config.whatsapp.verifyToken) {
    warnings.push(
      'WHATSAPP_VERIFY_TOKEN is not set: the webhook verification handshake (GET /webhooks/whatsapp) answers 403.',
    );
  }
  if (!config.wasender.webhookSecret) {
    warnings.push(
      'WASENDER_WEBHOOK_SECRET is not set: POST /webhooks/wasender refuses every request (503) until it is.',
    );
  }
  return { config, warnings };
}
