import { randomBytes } from 'node:crypto';

/**
 * Local mode (no WHATSAPP_ACCESS_TOKEN) must work with zero variables: `npm start`, open the page,
 * chat. The simulator signs what it posts to /webhooks/whatsapp, so it needs an app secret; when
 * none is set it gets a random one for this process only. The webhook route still checks every
 * signature, so unsigned or foreign-signed traffic is refused (401) exactly as with a real secret,
 * and the secret is never printed, sent to the page or stored.
 */
export function withSimulatorSecret(env: Record<string, string | undefined>): {
  env: Record<string, string | undefined>;
  generated: boolean;
} {
  if (env.WHATSAPP_ACCESS_TOKEN?.trim() || env.WHATSAPP_APP_SECRET?.trim()) return { env, generated: false };
  return { env: { ...env, WHATSAPP_APP_SECRET: randomBytes(32).toString('hex') }, generated: true };
}
