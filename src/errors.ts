/**
 * The one error class of chatstate. Every failure a user can meet carries a stable `code`
 * (documented in docs/errors.md, checked by test/errors.test.ts) and a message that starts with
 * the component and says how to fix the problem.
 */

export const ERROR_CODES = {
  INVALID_ARGUMENT: 'An argument passed to a chatstate API is invalid.',
  STORE_URL_INVALID: 'The store URL could not be parsed.',
  STORE_SCHEME_UNKNOWN: 'The store URL names a scheme no driver is registered for.',
  STORE_OPEN_FAILED:
    'The store could not be opened (path not writable, server unreachable, bad credentials).',
  STORE_CLOSED: 'The store was used after close().',
  STORE_UNAVAILABLE: 'The store did not answer or refused the operation.',
  STORE_TIMEOUT: 'A store operation took longer than its configured timeout.',
  SESSION_TOO_LARGE: 'A commit would store a session larger than the configured size cap.',
  SESSION_CORRUPT: 'A stored session could not be decoded; it was quarantined.',
  SESSION_CONFLICT: 'A transition kept losing the optimistic version check and gave up.',
  SCHEMA_MIGRATION_MISSING: 'A stored session has a schema version no registered migration can upgrade.',
  SCHEMA_TOO_NEW: 'A stored session was written by a newer schema version than this process knows.',
  LEASE_BUSY: 'Another worker held the user lease for longer than the configured wait.',
  LEASE_LOST:
    'The user lease expired or was taken by another worker before the commit (stale fencing token).',
  CODEC_UNKNOWN: 'The configured codec is not one chatstate knows.',
  CAPABILITY_MISSING: 'The store driver does not support the requested operation.',
  WEBHOOK_SIGNATURE_INVALID: 'A webhook request had a missing or wrong signature.',
  WEBHOOK_BODY_MALFORMED: 'A webhook body was not valid JSON or not an object.',
  WEBHOOK_BODY_TOO_LARGE: 'A webhook body exceeded the size limit.',
  WEBHOOK_SECRET_MISSING: 'A webhook route was called but its secret is not configured.',
  CONFIG_INVALID: 'A configuration value (environment variable or option) is invalid.',
  REPLY_INVALID: 'An outbound message breaks a documented provider limit; it was not sent.',
  REPLY_REJECTED: 'The messaging provider refused an outbound message for a reason retrying cannot fix.',
  REPLY_WINDOW_CLOSED: 'The 24-hour customer service window is closed; only a template can reach the user.',
  REPLY_UNDELIVERABLE: 'The provider could not deliver the message to that recipient.',
  REPLY_AUTH_FAILED: 'The provider rejected the access token or API key.',
  REPLY_RATE_LIMITED: 'A provider rate limit still refused the message after the client waited and retried.',
  REPLY_UNAVAILABLE: 'The provider kept failing with transient errors (5xx, network) until retries ran out.',
  REPLY_TIMEOUT: 'A request to the messaging provider took longer than the configured timeout.',
  FLOW_DEFINITION_INVALID:
    'A flow or bot definition is invalid (unknown start node, duplicate flow, bad option).',
  FLOW_NODE_UNKNOWN: 'A flow handler went to a node its flow does not define.',
  FLOW_UNKNOWN: 'A flow handler started a flow the bot does not define.',
  FLOW_HANDLER_FAILED: 'A flow node handler (or a command, onExpire) threw.',
  FLOW_HANDLER_TIMEOUT: 'A flow step took longer than handlerTimeoutMs.',
  FLOW_LOOP: 'One message moved through more flow nodes than the engine allows (a goto cycle).',
  FLOW_STEP_CLOSED: 'A flow handler used its context after its step had ended.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ChatstateErrorOptions {
  /** The component that raised the error, e.g. `sqlite`, `redis`, `webhook`. */
  component?: string;
  cause?: unknown;
  /** Extra machine-readable facts (never secrets or unmasked phone numbers). */
  details?: Record<string, unknown>;
}

export class ChatstateError extends Error {
  override readonly name = 'ChatstateError';
  readonly code: ErrorCode;
  readonly component: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ChatstateErrorOptions = {}) {
    const component = options.component ?? 'core';
    super(
      `[chatstate] [${component}] ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.component = component;
    this.details = options.details;
  }
}

export function isChatstateError(value: unknown, code?: ErrorCode): value is ChatstateError {
  return value instanceof ChatstateError && (code === undefined || value.code === code);
}
