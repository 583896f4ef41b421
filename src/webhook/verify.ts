import { ChatstateError } from '../errors.js';

const encoder = new TextEncoder();
const PREFIX = 'sha256=';
const DIGEST_BYTES = 32;
const HEADER_LENGTH = PREFIX.length + DIGEST_BYTES * 2;
// A process normally holds one or two app secrets; the cap only guards against a caller that
// passes a fresh secret per request and would otherwise grow the map forever.
const MAX_CACHED_KEYS = 16;

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    // The promise is cached (not the key) so concurrent first requests share one importKey.
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    keys.set(secret, key);
    key.catch(() => keys.delete(secret));
  }
  return key;
}

function requireSecret(secret: string, what: string): void {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new ChatstateError(
      'WEBHOOK_SECRET_MISSING',
      `The ${what} is empty, so no webhook request can be verified. Configure it before serving the webhook route.`,
      { component: 'webhook' },
    );
  }
}

/**
 * Compares two byte arrays without an early exit on the first differing byte. The loop always runs
 * over `a`, so pass the value the attacker does not control (the expected digest/secret) as `a`;
 * a length mismatch returns false without revealing where the contents differ.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F: hex is case-insensitive, the bytes are the same
  return -1;
}

/** Decodes the 64 hex digits after `sha256=`; null when the header is not exactly that shape. */
function parseSignatureHeader(header: string): Uint8Array | null {
  if (header.length !== HEADER_LENGTH || !header.startsWith(PREFIX)) return null;
  const out = new Uint8Array(DIGEST_BYTES);
  for (let i = 0; i < DIGEST_BYTES; i++) {
    const hi = hexValue(header.charCodeAt(PREFIX.length + i * 2));
    const lo = hexValue(header.charCodeAt(PREFIX.length + i * 2 + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Checks Meta's `X-Hub-Signature-256` header (`sha256=<hex>`): HMAC-SHA256 of the raw body bytes,
 * keyed with the app secret. The bytes must be exactly as received: Meta signs the escaped-unicode
 * wire form (`\u00e9`), so a re-serialized body does not verify.
 *
 * @throws ChatstateError `WEBHOOK_SECRET_MISSING` when `appSecret` is empty.
 */
export async function verifyMetaSignature(
  rawBody: Uint8Array,
  header: string | null,
  appSecret: string,
): Promise<boolean> {
  requireSecret(appSecret, 'Meta app secret (App Dashboard > Settings > Basic > App secret)');
  if (header === null) return false;
  const received = parseSignatureHeader(header);
  if (received === null) return false;
  const key = await hmacKey(appSecret);
  // Uint8Array<ArrayBufferLike> is not a BufferSource in the DOM typings; every webhook body is
  // backed by a plain ArrayBuffer, which is what WebCrypto takes.
  const expected = new Uint8Array(await crypto.subtle.sign('HMAC', key, rawBody as Uint8Array<ArrayBuffer>));
  return timingSafeEqual(expected, received);
}

/**
 * Checks WASenderApi's `X-Webhook-Signature` header, which carries the shared webhook secret itself
 * (no HMAC), compared in constant time over the UTF-8 bytes.
 *
 * @throws ChatstateError `WEBHOOK_SECRET_MISSING` when `secret` is empty.
 */
export function verifySharedSecret(header: string | null, secret: string): boolean {
  requireSecret(secret, 'WASender webhook secret');
  if (header === null) return false;
  return timingSafeEqual(encoder.encode(secret), encoder.encode(header));
}
