import { ChatstateError } from '../errors.js';

/** Meta documents webhook bodies of up to 3 MB (a batch holds up to 1000 updates). */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface DecodeBodyOptions {
  /** Largest body accepted, in bytes. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBytes?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Turns the raw (already verified) body bytes into the JSON object the parsers take. Decoding is
 * strict UTF-8 so a mangled body is rejected instead of silently repaired.
 *
 * @throws ChatstateError `WEBHOOK_BODY_TOO_LARGE` over the size limit, `WEBHOOK_BODY_MALFORMED` when
 * the bytes are not UTF-8 JSON whose top level is an object.
 */
export function decodeJsonBody(
  rawBody: Uint8Array,
  options: DecodeBodyOptions = {},
): Record<string, unknown> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (rawBody.byteLength > maxBytes) {
    throw new ChatstateError(
      'WEBHOOK_BODY_TOO_LARGE',
      `The webhook body is ${rawBody.byteLength} bytes, over the ${maxBytes}-byte limit. Raise maxBytes if the provider really sends bodies this large.`,
      { component: 'webhook', details: { bytes: rawBody.byteLength, maxBytes } },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(rawBody));
  } catch (cause) {
    throw new ChatstateError(
      'WEBHOOK_BODY_MALFORMED',
      'The webhook body is not valid UTF-8 JSON. Check that the route receives the provider request unmodified.',
      { component: 'webhook', cause },
    );
  }
  return requireObject(value);
}

/** @throws ChatstateError `WEBHOOK_BODY_MALFORMED` unless `value` is a plain JSON object. */
export function requireObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ChatstateError(
      'WEBHOOK_BODY_MALFORMED',
      `The webhook body must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}.`,
      { component: 'webhook' },
    );
  }
  return value as Record<string, unknown>;
}
