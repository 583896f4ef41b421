import { ChatstateError, ERROR_CODES, type ErrorCode } from '../errors.js';

/** The flow engine's codes: part of the one ERROR_CODES table (docs/errors.md). */
export const FLOW_ERROR_CODES = Object.fromEntries(
  Object.entries(ERROR_CODES).filter(([code]) => code.startsWith('FLOW_')),
) as { [K in Extract<ErrorCode, `FLOW_${string}`>]: string };

export type FlowErrorCode = Extract<ErrorCode, `FLOW_${string}`>;

/** A ChatstateError raised by the flow engine (component `flow`). */
export class FlowError extends ChatstateError {
  declare readonly code: FlowErrorCode;

  constructor(
    code: FlowErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { component: 'flow', ...options });
  }
}

export function isFlowError(value: unknown, code?: FlowErrorCode): value is FlowError {
  return value instanceof FlowError && (code === undefined || value.code === code);
}

/** Throws FLOW_DEFINITION_INVALID: definitions are checked once, when the bot is built, not per message. */
export function invalidDefinition(message: string, details?: Record<string, unknown>): never {
  throw new FlowError('FLOW_DEFINITION_INVALID', message, details ? { details } : {});
}
