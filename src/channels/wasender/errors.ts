import { ChatstateError, type ErrorCode } from '../../errors.js';

/** What to do with a failed attempt, and the label metrics and events use for it. */
export interface WasenderClassification {
  code: ErrorCode;
  retry: boolean;
  reason: string;
}

/** WASender's documented error body: `{ success: false, message, errors?: { field: [..] } }`. */
export interface WasenderErrorBody {
  success?: boolean;
  message?: string;
  errors?: Record<string, string[]>;
}

export function readErrorBody(json: unknown): WasenderErrorBody | undefined {
  return typeof json === 'object' && json !== null ? (json as WasenderErrorBody) : undefined;
}

export function classifyStatus(status: number): WasenderClassification {
  const reason = `http_${status}`;
  if (status === 429) return { code: 'REPLY_RATE_LIMITED', retry: true, reason };
  if (status >= 500) return { code: 'REPLY_UNAVAILABLE', retry: true, reason };
  if (status === 401 || status === 403) return { code: 'REPLY_AUTH_FAILED', retry: false, reason };
  return { code: 'REPLY_REJECTED', retry: false, reason };
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  REPLY_AUTH_FAILED: 'the API key was refused: copy the session’s key from the WASender dashboard',
  REPLY_RATE_LIMITED:
    'WASender kept answering 429: slow down (trial plans allow 1 message a minute) or set `rate`',
  REPLY_UNAVAILABLE: 'WASender kept failing with 5xx or network errors: retry later',
  REPLY_TIMEOUT: 'no answer within timeoutMs on any attempt: it may or may not have been sent',
  REPLY_REJECTED: 'WASender refused the request: read details.providerMessage and details.fieldErrors',
};

export interface WasenderErrorFacts {
  kind: string;
  maskedTo: string;
  entryId: string | undefined;
  attempts: number;
  httpStatus: number | undefined;
  body: WasenderErrorBody | undefined;
  reason: string;
  retryable: boolean;
}

/** A WASender send that failed for good; `code` says what to do (docs/errors.md). */
export class WasenderApiError extends ChatstateError {
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  readonly attempts: number;
  readonly reason: string;
  /** Per-field validation messages from a 422. */
  readonly fieldErrors: Record<string, string[]> | undefined;

  constructor(code: ErrorCode, facts: WasenderErrorFacts, cause?: unknown) {
    const said = facts.body?.message ? ` WASender said: ${facts.body.message}.` : '';
    super(code, `${facts.kind} to ${facts.maskedTo} failed: ${HINTS[code] ?? code}.${said}`, {
      component: 'wasender',
      cause,
      details: {
        kind: facts.kind,
        to: facts.maskedTo,
        entryId: facts.entryId,
        attempts: facts.attempts,
        httpStatus: facts.httpStatus,
        providerMessage: facts.body?.message,
        fieldErrors: facts.body?.errors,
        retryable: facts.retryable,
      },
    });
    this.httpStatus = facts.httpStatus;
    this.retryable = facts.retryable;
    this.attempts = facts.attempts;
    this.reason = facts.reason;
    this.fieldErrors = facts.body?.errors;
  }
}
