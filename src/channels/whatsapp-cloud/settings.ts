import { ChatstateError } from '../../errors.js';
import { type Now, realNow, realSleep, type Sleep } from '../shared/time.js';
import type { CloudApiClientOptions, ReplyMetrics } from './types.js';

/**
 * Pinned Graph API version: v26.0 is the newest (released 29 Jul 2026; Meta keeps a version for
 * about two years). Pinning means a Meta release never changes request or error shapes under a
 * running bot; upgrading is a deliberate one-line change, tested against the fake.
 */
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com/v26.0';

const noMetrics: ReplyMetrics = { sent() {}, failed() {}, retried() {}, throttled() {} };

function config(name: string, problem: string): ChatstateError {
  return new ChatstateError('CONFIG_INVALID', `${name} ${problem}.`, { component: 'whatsapp-cloud' });
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw config(`options.${name}`, 'must be a number >= 0');
  return value;
}

/** The client's options with defaults applied; a bad value fails at construction, not mid-send. */
export function resolveSettings(options: CloudApiClientOptions) {
  if (typeof options.accessToken !== 'string' || options.accessToken.length === 0) {
    throw config('options.accessToken', 'is empty: pass a System User access token');
  }
  const baseUrl = (options.baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) throw config('options.baseUrl', 'must be an http(s) URL');
  return {
    baseUrl,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    now: options.now ?? (realNow as Now),
    sleep: options.sleep ?? (realSleep as Sleep),
    random: options.random ?? Math.random,
    metrics: options.metrics ?? noMetrics,
    maxRetries: nonNegative('maxRetries', options.maxRetries, 4),
    retryBaseMs: nonNegative('retryBaseMs', options.retryBaseMs, 500),
    maxBackoffMs: nonNegative('maxBackoffMs', options.maxBackoffMs, 30_000),
    pairInterval: nonNegative('pairInterval', options.pairInterval, 0),
    pairUnitMs: nonNegative('pairBackoffUnitMs', options.pairBackoffUnitMs, 1000),
    maxPairRetries: nonNegative('maxPairRetries', options.maxPairRetries, 5),
    timeoutMs: nonNegative('timeoutMs', options.timeoutMs, 15_000),
    rate:
      options.perNumberRate === false
        ? (false as const)
        : nonNegative('perNumberRate', options.perNumberRate, 80),
  };
}
