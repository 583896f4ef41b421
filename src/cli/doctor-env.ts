import { DEFAULT_GRAPH_BASE_URL } from '../channels/whatsapp-cloud/settings.js';
import { ChatstateError } from '../errors.js';
import { loadConfig } from '../server/config.js';

/** One doctor line. `fail` is a required check that did not pass (exit 1); `warn` is advice. */
export interface Check {
  status: 'ok' | 'warn' | 'fail';
  text: string;
}

type Env = Record<string, string | undefined>;

const set = (env: Env, name: string) => Boolean(env[name]?.trim());

/**
 * The environment checks of `chatstate doctor`. Values are never printed, only presence and
 * shape: doctor output gets pasted into issues and chat. A channel counts as "in use" when any
 * of its variables is set; its webhook secrets are then required, and at least one channel must
 * be usable, because without secrets the server refuses every delivery (503/403).
 */
export function envChecks(env: Env): Check[] {
  const checks: Check[] = [];
  try {
    loadConfig(env);
    checks.push({ status: 'ok', text: 'configuration: environment variables parse' });
  } catch (error) {
    if (!(error instanceof ChatstateError)) throw error;
    checks.push({ status: 'fail', text: `configuration: ${error.message}` });
  }

  const cloud = ['WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_ACCESS_TOKEN'].some((n) =>
    set(env, n),
  );
  const wasender = ['WASENDER_WEBHOOK_SECRET', 'WASENDER_API_KEY'].some((n) => set(env, n));
  if (!cloud && !wasender) {
    checks.push({
      status: 'fail',
      text: 'webhooks: no channel is configured, so every delivery is refused: set WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN (Cloud API) or WASENDER_WEBHOOK_SECRET (WASenderApi).',
    });
  }
  checks.push(
    secret(
      env,
      'WHATSAPP_APP_SECRET',
      cloud,
      'POST /webhooks/whatsapp answers 503 (signatures cannot be checked)',
    ),
    secret(
      env,
      'WHATSAPP_VERIFY_TOKEN',
      cloud,
      'the subscription handshake GET /webhooks/whatsapp answers 403',
    ),
    secret(env, 'WASENDER_WEBHOOK_SECRET', wasender, 'POST /webhooks/wasender answers 503'),
    accessToken(env, cloud),
    apiUrl(env),
  );
  if (wasender && !set(env, 'WASENDER_API_KEY')) {
    checks.push({
      status: 'warn',
      text: 'WASENDER_API_KEY is not set: replies through WASenderApi cannot be sent',
    });
  }
  return checks;
}

function secret(env: Env, name: string, channelInUse: boolean, effect: string): Check {
  if (!set(env, name)) {
    // Missing for a channel in use is a broken deployment; for an unused channel, just a note.
    return { status: channelInUse ? 'fail' : 'warn', text: `${name} is not set: ${effect}` };
  }
  if (name === 'WHATSAPP_APP_SECRET' && !/^[0-9a-f]{32}$/i.test(env[name]?.trim() ?? '')) {
    return {
      status: 'warn',
      text: `${name} is set, but does not look like a Meta app secret (32 hex characters, App settings > Basic)`,
    };
  }
  return { status: 'ok', text: `${name} is set` };
}

/** Format only: a real check would call the Graph API, which doctor must not do unasked. */
function accessToken(env: Env, cloud: boolean): Check {
  const name = 'WHATSAPP_ACCESS_TOKEN';
  const token = env[name]?.trim() ?? '';
  if (!token) {
    return {
      status: 'warn',
      text: `${name} is not set: replies through the Cloud API cannot be sent${cloud ? '' : ' (only needed for the Cloud API)'}`,
    };
  }
  if (/^bearer\s/i.test(token)) {
    return {
      status: 'warn',
      text: `${name} starts with "Bearer ": set the token alone, chatstate adds the header`,
    };
  }
  // Meta access tokens (System User, user, page) start with EAA and run to well over 100 characters.
  if (token.startsWith('EAA') && token.length >= 100 && /^[A-Za-z0-9]+$/.test(token)) {
    return {
      status: 'ok',
      text: `${name} looks like a Meta access token (EAA…, ${token.length} characters; format only, not checked with Meta)`,
    };
  }
  return {
    status: 'warn',
    text: `${name} does not look like a Meta access token (they start with EAA and are 100+ letters and digits; ${token.length} characters here): copy a System User token from Business Settings`,
  };
}

function apiUrl(env: Env): Check {
  const name = 'WHATSAPP_API_URL';
  const pinned = version(DEFAULT_GRAPH_BASE_URL);
  const raw = env[name]?.trim();
  if (!raw) return { status: 'ok', text: `${name} is not set: Graph API ${pinned} (the pinned default)` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { status: 'fail', text: `${name} is not a URL: use ${DEFAULT_GRAPH_BASE_URL} or unset it` };
  }
  const v = version(url.href);
  if (!v) {
    return {
      status: 'warn',
      text: `${name} (${url.origin}${url.pathname}) pins no Graph API version: Meta then uses the app's default, which changes under a running bot; append /${pinned}`,
    };
  }
  if (v !== pinned) {
    return {
      status: 'warn',
      text: `${name} pins Graph API ${v}; chatstate is tested against ${pinned} (the default)`,
    };
  }
  return { status: 'ok', text: `${name} pins Graph API ${v}` };
}

function version(url: string): string | undefined {
  return /\/(v\d+\.\d+)(?:\/|$)/.exec(new URL(url).pathname)?.[1];
}
