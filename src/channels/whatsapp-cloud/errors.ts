import { ChatstateError, type ErrorCode } from '../../errors.js';
import type { HttpOutcome } from '../shared/http.js';

/** Meta's Graph API error object (`{ error: {...} }` in a non-2xx response). */
export interface GraphError {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { messaging_product?: string; details?: string };
  fbtrace_id?: string;
}

export function readGraphError(json: unknown): GraphError | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const error = (json as { error: unknown }).error;
  return typeof error === 'object' && error !== null ? (error as GraphError) : undefined;
}

/** What to do about a failed attempt: give up, back off and retry, or back off the user pair. */
export type RetryPolicy = 'none' | 'backoff' | 'pair';

export interface Classification {
  code: ErrorCode;
  policy: RetryPolicy;
  /** Low-cardinality label for metrics and events: the Meta code, `http_<status>`, `network`, `timeout`. */
  reason: string;
}

// Meta's error-code reference recommends branching on `code` rather than HTTP status (which it has
// changed between versions, e.g. 400 vs 429 for throttling); status is only the fallback.
const BY_META_CODE: Record<number, { code: ErrorCode; policy: RetryPolicy }> = {
  131056: { code: 'REPLY_RATE_LIMITED', policy: 'pair' }, // (business, consumer) pair rate limit
  130429: { code: 'REPLY_RATE_LIMITED', policy: 'backoff' }, // per-number throughput reached
  131000: { code: 'REPLY_UNAVAILABLE', policy: 'backoff' }, // "something went wrong" (transient)
  131016: { code: 'REPLY_UNAVAILABLE', policy: 'backoff' }, // service unavailable
  2: { code: 'REPLY_UNAVAILABLE', policy: 'backoff' }, // API service: temporary downtime/overload
  4: { code: 'REPLY_RATE_LIMITED', policy: 'none' }, // app call-rate limit: an hour-scale window
  80007: { code: 'REPLY_RATE_LIMITED', policy: 'none' }, // WABA rate limit
  131048: { code: 'REPLY_RATE_LIMITED', policy: 'none' }, // spam rate limit (quality)
  131047: { code: 'REPLY_WINDOW_CLOSED', policy: 'none' }, // re-engagement: 24 h window closed
  131026: { code: 'REPLY_UNDELIVERABLE', policy: 'none' },
  190: { code: 'REPLY_AUTH_FAILED', policy: 'none' }, // access token expired or invalid
  0: { code: 'REPLY_AUTH_FAILED', policy: 'none' }, // AuthException
};

export function classifyResponse(status: number, error: GraphError | undefined): Classification {
  const metaCode = error?.code;
  if (typeof metaCode === 'number') {
    const known = BY_META_CODE[metaCode];
    if (known !== undefined) return { ...known, reason: String(metaCode) };
  }
  const reason = typeof metaCode === 'number' ? String(metaCode) : `http_${status}`;
  if (status === 401) return { code: 'REPLY_AUTH_FAILED', policy: 'none', reason };
  if (status === 429) return { code: 'REPLY_RATE_LIMITED', policy: 'backoff', reason };
  if (status >= 500) return { code: 'REPLY_UNAVAILABLE', policy: 'backoff', reason };
  return { code: 'REPLY_REJECTED', policy: 'none', reason };
}

/** Timeouts and network errors are transient; a response is classified by its Graph error. */
export function classifyOutcome(outcome: HttpOutcome): {
  c: Classification;
  graph?: GraphError;
  status?: number;
} {
  if (outcome.kind === 'timeout')
    return { c: { code: 'REPLY_TIMEOUT', policy: 'backoff', reason: 'timeout' } };
  if (outcome.kind === 'network')
    return { c: { code: 'REPLY_UNAVAILABLE', policy: 'backoff', reason: 'network' } };
  const graph = readGraphError(outcome.json);
  return { c: classifyResponse(outcome.status, graph), graph, status: outcome.status };
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  REPLY_WINDOW_CLOSED: 'more than 24 h since the user last wrote: send an approved template instead',
  REPLY_UNDELIVERABLE: 'the recipient cannot receive it (not on WhatsApp, old app or blocked): do not retry',
  REPLY_AUTH_FAILED:
    'the access token is expired or invalid: issue a new one (System User tokens do not expire)',
  REPLY_RATE_LIMITED: 'a Meta rate limit kept refusing it: slow down or raise the retry limits',
  REPLY_UNAVAILABLE: 'Meta kept failing with transient errors: check the WhatsApp Business Platform status',
  REPLY_TIMEOUT: 'no answer within timeoutMs on any attempt: it may or may not have been sent',
  REPLY_REJECTED: 'Meta refused the request: read details.providerMessage and fix the request',
};

export interface CloudApiErrorFacts {
  kind: string;
  /** Already masked: error messages and details end up in logs. */
  maskedTo: string | undefined;
  entryId: string | undefined;
  attempts: number;
  httpStatus?: number;
  graph?: GraphError;
  retryable: boolean;
  /** The metrics label (see Classification.reason). */
  reason: string;
}

/**
 * A Cloud API send that failed for good. `code` tells what to do (see docs/errors.md); the Meta
 * facts are fields and also `details` (metaCode, subcode, fbtraceId, retryable, …).
 */
export class CloudApiError extends ChatstateError {
  readonly metaCode: number | undefined;
  readonly subcode: number | undefined;
  readonly fbtraceId: string | undefined;
  readonly httpStatus: number | undefined;
  /** True when the same request may succeed later without changes (transient or rate limits). */
  readonly retryable: boolean;
  readonly attempts: number;
  /** Low-cardinality cause label: the Meta code, `http_<status>`, `network` or `timeout`. */
  readonly reason: string;

  constructor(code: ErrorCode, facts: CloudApiErrorFacts, cause?: unknown) {
    const graph = facts.graph;
    const provider = graph?.message ? ` Meta said: ${graph.message}.` : '';
    const target = facts.maskedTo === undefined ? '' : ` to ${facts.maskedTo}`;
    super(code, `${facts.kind}${target} failed: ${HINTS[code] ?? code}.${provider}`, {
      component: 'whatsapp-cloud',
      cause,
      details: {
        kind: facts.kind,
        to: facts.maskedTo,
        entryId: facts.entryId,
        attempts: facts.attempts,
        httpStatus: facts.httpStatus,
        metaCode: graph?.code,
        subcode: graph?.error_subcode,
        fbtraceId: graph?.fbtrace_id,
        providerMessage: graph?.message,
        providerDetails: graph?.error_data?.details,
        retryable: facts.retryable,
      },
    });
    this.metaCode = graph?.code;
    this.subcode = graph?.error_subcode;
    this.fbtraceId = graph?.fbtrace_id;
    this.httpStatus = facts.httpStatus;
    this.retryable = facts.retryable;
    this.attempts = facts.attempts;
    this.reason = facts.reason;
  }
}
