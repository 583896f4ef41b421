import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isChatstateError } from '../../src/errors.js';
import {
  decodeJsonBody,
  parseCloudApiPayload,
  timingSafeEqual,
  verifyMetaSignature,
  verifySharedSecret,
} from '../../src/webhook/index.js';
import { as, fixtureBytes } from './helpers.js';

const SECRET = 'a5f1c0de9b7e4d2f8a6c3b1e0d9f7a55';
const encoder = new TextEncoder();

/** Reference signature from node:crypto, independent of the WebCrypto code under test. */
function sign(body: Uint8Array | string, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(isChatstateError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ChatstateError ${code}`);
}

describe('timingSafeEqual', () => {
  it('is true only for identical bytes', () => {
    expect(timingSafeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(timingSafeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(timingSafeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it('is false on any length mismatch, including a matching prefix or empty side', () => {
    expect(timingSafeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2))).toBe(false);
    expect(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(timingSafeEqual(Uint8Array.of(0), new Uint8Array(0))).toBe(false);
    expect(timingSafeEqual(new Uint8Array(0), Uint8Array.of(0))).toBe(false);
  });
});

describe('verifyMetaSignature', () => {
  const body = encoder.encode('{"object":"whatsapp_business_account","entry":[]}');

  it('accepts the signature Meta computes over the raw body', async () => {
    expect(await verifyMetaSignature(body, sign(body), SECRET)).toBe(true);
  });

  it('accepts upper-case hex (same digest bytes)', async () => {
    const header = `sha256=${sign(body).slice('sha256='.length).toUpperCase()}`;
    expect(await verifyMetaSignature(body, header, SECRET)).toBe(true);
  });

  it('rejects a signature made with another secret', async () => {
    expect(await verifyMetaSignature(body, sign(body, 'other-secret'), SECRET)).toBe(false);
  });

  it('rejects a signature of a different body (one byte changed)', async () => {
    const tampered = body.slice();
    tampered[tampered.length - 2] = 0x20;
    expect(await verifyMetaSignature(tampered, sign(body), SECRET)).toBe(false);
  });

  it('rejects a missing header, a wrong prefix, non-hex, truncated and over-long digests', async () => {
    const good = sign(body);
    const hex = good.slice('sha256='.length);
    expect(await verifyMetaSignature(body, null, SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, '', SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, hex, SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, `sha1=${hex}`, SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, `SHA256=${hex}`, SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, `sha256=${hex.slice(0, 62)}zz`, SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, good.slice(0, -2), SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, `${good}00`, SECRET)).toBe(false);
    expect(await verifyMetaSignature(body, 'sha256=', SECRET)).toBe(false);
  });

  it('keeps working for several secrets in turn (per-secret key cache)', async () => {
    for (const secret of ['s1', 's2', 's1', SECRET]) {
      expect(await verifyMetaSignature(body, sign(body, secret), secret)).toBe(true);
      expect(await verifyMetaSignature(body, sign(body, `${secret}x`), secret)).toBe(false);
    }
  });

  it('throws WEBHOOK_SECRET_MISSING when the app secret is empty', async () => {
    await expectCode(verifyMetaSignature(body, sign(body), ''), 'WEBHOOK_SECRET_MISSING');
  });

  it('verifies a unicode + emoji body over its escaped wire bytes, not over a re-serialization', async () => {
    const wire = fixtureBytes('cloud-unicode-wire.json');
    const wireText = new TextDecoder().decode(wire);
    expect(wireText).toContain('Caf\\u00e9 \\ud83d\\ude00');
    const header = sign(wire);
    expect(await verifyMetaSignature(wire, header, SECRET)).toBe(true);

    const parsed = decodeJsonBody(wire);
    const reserialized = encoder.encode(JSON.stringify(parsed));
    expect(new TextDecoder().decode(reserialized)).toContain('Café 😀');
    expect(await verifyMetaSignature(reserialized, header, SECRET)).toBe(false);

    const text = as(parseCloudApiPayload(parsed).events[0], 'text');
    expect(text.text).toBe('Café 😀 été / 你好');
    expect(text.contactName).toBe('Renée');
  });
});

describe('verifySharedSecret (WASender X-Webhook-Signature)', () => {
  it('accepts the exact secret and rejects anything else', () => {
    expect(verifySharedSecret('wh_s3cr3t-äöü', 'wh_s3cr3t-äöü')).toBe(true);
    expect(verifySharedSecret('wh_s3cr3t-äöu', 'wh_s3cr3t-äöü')).toBe(false);
    expect(verifySharedSecret('wh_s3cr3t', 'wh_s3cr3t-äöü')).toBe(false);
    expect(verifySharedSecret('wh_s3cr3t-äöü-extra', 'wh_s3cr3t-äöü')).toBe(false);
    expect(verifySharedSecret('', 'wh_s3cr3t')).toBe(false);
    expect(verifySharedSecret(null, 'wh_s3cr3t')).toBe(false);
  });

  it('throws WEBHOOK_SECRET_MISSING when the configured secret is empty', async () => {
    await expectCode(() => verifySharedSecret('anything', ''), 'WEBHOOK_SECRET_MISSING');
  });
});

describe('decodeJsonBody', () => {
  it('returns the object for a JSON object body', () => {
    expect(decodeJsonBody(encoder.encode('{"a":[1,"\\u00e9"]}'))).toEqual({ a: [1, 'é'] });
  });

  it('rejects non-JSON, invalid UTF-8 and non-object JSON with WEBHOOK_BODY_MALFORMED', async () => {
    await expectCode(() => decodeJsonBody(encoder.encode('{"a":')), 'WEBHOOK_BODY_MALFORMED');
    await expectCode(() => decodeJsonBody(Uint8Array.of(0x7b, 0xff, 0x7d)), 'WEBHOOK_BODY_MALFORMED');
    await expectCode(() => decodeJsonBody(encoder.encode('[1,2]')), 'WEBHOOK_BODY_MALFORMED');
    await expectCode(() => decodeJsonBody(encoder.encode('null')), 'WEBHOOK_BODY_MALFORMED');
    await expectCode(() => decodeJsonBody(encoder.encode('"text"')), 'WEBHOOK_BODY_MALFORMED');
  });

  it('rejects a body over the limit with WEBHOOK_BODY_TOO_LARGE before parsing it', async () => {
    const body = encoder.encode(`{"pad":"${'x'.repeat(100)}"}`);
    await expectCode(() => decodeJsonBody(body, { maxBytes: 64 }), 'WEBHOOK_BODY_TOO_LARGE');
    expect(decodeJsonBody(body, { maxBytes: body.byteLength })).toHaveProperty('pad');
  });
});
