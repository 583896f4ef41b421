import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWasenderClient,
  WasenderApiError,
  type WasenderClientOptions,
  type WasenderEvent,
  type WasenderMessage,
} from '../../src/channels/wasender/index.js';
import { type FakeWasender, startFakeWasender } from '../support/fake-wasender.js';

let fake: FakeWasender;
beforeAll(async () => {
  fake = await startFakeWasender();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const TO = '+16505551234';

function setup(overrides: Partial<WasenderClientOptions> = {}) {
  const calls = { sent: [] as string[], failed: [] as string[], retried: [] as string[], throttled: 0 };
  const events: WasenderEvent[] = [];
  const client = createWasenderClient({
    baseUrl: fake.baseUrl,
    apiKey: fake.apiKey,
    retryBaseMs: 2,
    random: () => 0.5,
    onEvent: (event) => events.push(event),
    metrics: {
      sent: (kind) => calls.sent.push(kind),
      failed: (code) => calls.failed.push(code),
      retried: (code) => calls.retried.push(code),
      throttled: () => calls.throttled++,
    },
    ...overrides,
  });
  return { client, calls, events };
}

async function failure(promise: Promise<unknown>): Promise<WasenderApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WasenderApiError);
  return error as WasenderApiError;
}

describe('WASender send-message', () => {
  it.each<[WasenderMessage, Record<string, unknown>]>([
    [
      { type: 'text', text: 'Hello' },
      { to: TO, text: 'Hello' },
    ],
    [
      { type: 'image', url: 'https://cdn.example.com/a.png', caption: 'Look' },
      { to: TO, imageUrl: 'https://cdn.example.com/a.png', text: 'Look' },
    ],
    [
      { type: 'video', url: 'https://cdn.example.com/v.mp4' },
      { to: TO, videoUrl: 'https://cdn.example.com/v.mp4' },
    ],
    [
      { type: 'document', url: 'https://cdn.example.com/i.pdf', caption: 'Invoice' },
      { to: TO, documentUrl: 'https://cdn.example.com/i.pdf', text: 'Invoice' },
    ],
    [
      { type: 'audio', url: 'https://cdn.example.com/v.ogg' },
      { to: TO, audioUrl: 'https://cdn.example.com/v.ogg' },
    ],
    [
      { type: 'sticker', url: 'https://cdn.example.com/s.webp' },
      { to: TO, stickerUrl: 'https://cdn.example.com/s.webp' },
    ],
  ])('sends %o as the documented body', async (message, expected) => {
    const { client, calls } = setup();
    const result = await client.send({ to: TO, message });
    expect(result).toEqual({ messageId: expect.stringMatching(/^\d+$/), status: 'in_progress', attempts: 1 });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.path).toBe('/api/send-message');
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(fake.requests[0]?.body).toEqual(expected);
    expect(calls.sent).toEqual([message.type]);
  });

  it('validates before sending', async () => {
    const { client, calls } = setup();
    await expect(client.send({ to: TO, message: { type: 'text', text: ' ' } })).rejects.toMatchObject({
      code: 'REPLY_INVALID',
      details: { field: 'message.text' },
    });
    await expect(
      client.send({ to: TO, message: { type: 'image', url: 'file:///etc/passwd' } }),
    ).rejects.toMatchObject({
      code: 'REPLY_INVALID',
      details: { field: 'message.url' },
    });
    expect(fake.requests).toHaveLength(0);
    expect(calls.failed).toEqual(['invalid', 'invalid']);
  });

  it('retries 5xx with backoff, then succeeds', async () => {
    fake.failNext(2, { status: 503 });
    const { client, calls, events } = setup();
    const result = await client.send({ to: TO, message: { type: 'text', text: 'hi' }, entryId: 'ob-1' });
    expect(result.attempts).toBe(3);
    expect(calls.retried).toEqual(['http_503', 'http_503']);
    expect(events.filter((e) => e.type === 'retry').map((e) => e.entryId)).toEqual(['ob-1', 'ob-1']);
    expect(events.at(-1)).toMatchObject({ type: 'sent', entryId: 'ob-1', attempts: 3 });
  });

  it('retries network errors (connection refused), then surfaces REPLY_UNAVAILABLE', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const { client, calls } = setup({ baseUrl: `http://127.0.0.1:${port}/api`, maxRetries: 2 });
    const error = await failure(client.send({ to: TO, message: { type: 'text', text: 'x' } }));
    expect(error.code).toBe('REPLY_UNAVAILABLE');
    expect(error.attempts).toBe(3);
    expect(calls.retried).toEqual(['network', 'network']);
  });

  it('honours Retry-After on 429 and pauses other sends of the key', async () => {
    fake.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const { client, calls } = setup();
    const started = performance.now();
    const [first, second] = await Promise.all([
      client.send({ to: TO, message: { type: 'text', text: 'one' } }),
      client.send({ to: '+16505550000', message: { type: 'text', text: 'other chat' } }),
    ]);
    expect(first.attempts + second.attempts).toBe(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(calls.retried).toEqual(['http_429']);
  });

  it('client-side rate pacing keeps a plan limit from ever answering 429', async () => {
    fake.setRateLimit(3, 400);
    const { client, calls } = setup({ rate: { limit: 3, windowMs: 400 } });
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        client.send({ to: `+1555000000${i}`, message: { type: 'text', text: `m${i}` } }),
      ),
    );
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    expect(fake.requests).toHaveLength(7);
    expect(calls.throttled).toBeGreaterThanOrEqual(4);
  });

  it('keeps messages to one chat in order', async () => {
    fake.failNext(1, { status: 500 });
    const { client } = setup();
    await Promise.all(
      ['a', 'b', 'c'].map((text) => client.send({ to: TO, message: { type: 'text', text } })),
    );
    const delivered = fake.requests.filter((r) => r.status === 200).map((r) => r.body?.text);
    expect(delivered).toEqual(['a', 'b', 'c']);
  });

  it('a wrong API key -> REPLY_AUTH_FAILED, no retry', async () => {
    const error = await failure(
      setup({ apiKey: 'wrong' }).client.send({ to: TO, message: { type: 'text', text: 'x' } }),
    );
    expect(error.code).toBe('REPLY_AUTH_FAILED');
    expect(error.httpStatus).toBe(401);
    expect(error.retryable).toBe(false);
    expect(fake.requests).toHaveLength(1);
  });

  it('a 422 -> REPLY_REJECTED with the field errors', async () => {
    fake.failNext(1, {
      status: 422,
      body: {
        success: false,
        message: 'Validation failed',
        errors: { to: ['The to must be a valid phone number.'] },
      },
    });
    const { client, events } = setup();
    const error = await failure(client.send({ to: TO, message: { type: 'text', text: 'x' }, entryId: 'e9' }));
    expect(error.code).toBe('REPLY_REJECTED');
    expect(error.fieldErrors).toEqual({ to: ['The to must be a valid phone number.'] });
    expect(error.message).toContain('Validation failed');
    expect(error.message).not.toContain('16505551234');
    expect(events.at(-1)).toMatchObject({ type: 'error', to: TO, entryId: 'e9', error });
  });

  it('gives up after maxRetries with REPLY_UNAVAILABLE / REPLY_RATE_LIMITED', async () => {
    fake.failNext(3, { status: 502 });
    const down = await failure(
      setup({ maxRetries: 2 }).client.send({ to: TO, message: { type: 'text', text: 'x' } }),
    );
    expect(down.code).toBe('REPLY_UNAVAILABLE');
    expect(down.attempts).toBe(3);
    expect(down.retryable).toBe(true);
    fake.failNext(2, { status: 429 });
    const limited = await failure(
      setup({ maxRetries: 1 }).client.send({ to: TO, message: { type: 'text', text: 'x' } }),
    );
    expect(limited.code).toBe('REPLY_RATE_LIMITED');
  });

  it('a hanging server -> REPLY_TIMEOUT within the configured timeout', async () => {
    fake.hangNext(1);
    const started = performance.now();
    const error = await failure(
      setup({ timeoutMs: 200, maxRetries: 0 }).client.send({ to: TO, message: { type: 'text', text: 'x' } }),
    );
    expect(error.code).toBe('REPLY_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a 200 without success/data is not taken for a delivery', async () => {
    fake.failNext(1, { status: 200, body: { success: false, message: 'WhatsApp session is not connected' } });
    const error = await failure(setup().client.send({ to: TO, message: { type: 'text', text: 'x' } }));
    expect(error.code).toBe('REPLY_REJECTED');
    expect(error.details?.providerMessage).toBe('WhatsApp session is not connected');
  });
});
