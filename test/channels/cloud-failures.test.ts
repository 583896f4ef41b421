import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../src/channels/node/node-fetch.js';
import {
  type CloudApiClientOptions,
  CloudApiError,
  type CloudApiEvent,
  createCloudApiClient,
} from '../../src/channels/whatsapp-cloud/index.js';
import { fakeGraphForFile } from '../support/fake-graph-for-file.js';

const graph = fakeGraphForFile();

const USER = '16505551234';
// Every case runs on both transports: the global fetch (edge runtimes, the default) and the
// node:http one `chatstate serve` uses (src/channels/node/node-fetch.ts).
let transport: typeof fetch | undefined;
const text = { type: 'text', text: 'hi' } as const;

function setup(overrides: Partial<CloudApiClientOptions> = {}) {
  const calls = { sent: [] as string[], failed: [] as string[], retried: [] as string[], throttled: 0 };
  const events: CloudApiEvent[] = [];
  const client = createCloudApiClient({
    baseUrl: graph.baseUrl,
    accessToken: graph.token,
    phoneNumberId: '106540352242922',
    retryBaseMs: 2,
    random: () => 0.5,
    metrics: {
      sent: (kind) => calls.sent.push(kind),
      failed: (code) => calls.failed.push(code),
      retried: (code) => calls.retried.push(code),
      throttled: () => calls.throttled++,
    },
    onEvent: (event) => events.push(event),
    ...(transport ? { fetch: transport } : {}),
    ...overrides,
  });
  return { client, calls, events };
}

async function failure(promise: Promise<unknown>): Promise<CloudApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CloudApiError);
  return error as CloudApiError;
}

describe.each([
  ['global fetch', () => undefined],
  ['node:http transport', () => createNodeFetch()],
])('over %s', (_name, makeTransport) => {
  beforeAll(() => {
    transport = makeTransport();
  });

  describe('transient failures are retried with backoff', () => {
    it.each([
      [
        'HTTP 502 with an HTML body from a proxy',
        { code: 0, status: 502, rawBody: '<html>Bad Gateway</html>' },
        'http_502',
      ],
      ['131000 something went wrong (HTTP 500)', { code: 131000 }, '131000'],
      ['131016 service unavailable (HTTP 503)', { code: 131016 }, '131016'],
      ['130429 throughput reached', { code: 130429 }, '130429'],
    ])('%s twice, then success', async (_label, fail, reason) => {
      graph.failNext(2, fail);
      const { client, calls, events } = setup();
      const result = await client.send({ to: USER, message: text, entryId: 'outbox-7' });
      expect(result.attempts).toBe(3);
      expect(graph.requests).toHaveLength(3);
      expect(calls.retried).toEqual([reason, reason]);
      expect(calls.sent).toEqual(['text']);
      expect(calls.failed).toEqual([]);
      const retries = events.filter((e) => e.type === 'retry');
      expect(retries.map((e) => [e.reason, e.attempt, e.entryId])).toEqual([
        [reason, 1, 'outbox-7'],
        [reason, 2, 'outbox-7'],
      ]);
      expect(events.at(-1)).toMatchObject({
        type: 'sent',
        messageId: result.messageId,
        attempts: 3,
        entryId: 'outbox-7',
        to: USER,
      });
    });

    it('backs off exponentially with full jitter, bounded by maxBackoffMs', async () => {
      graph.failNext(4, { code: 131000 });
      const delays: number[] = [];
      const { client } = setup({
        retryBaseMs: 100,
        maxBackoffMs: 300,
        random: () => 0.999,
        sleep: async (ms) => {
          delays.push(ms);
        },
      });
      await client.send({ to: USER, message: text });
      expect(delays).toEqual([99, 199, 299, 299]);
    });

    it('gives up after maxRetries with a typed error carrying the Meta facts', async () => {
      graph.failNext(10, { code: 131000 });
      const { client, calls, events } = setup({ maxRetries: 2 });
      const error = await failure(client.send({ to: USER, message: text, entryId: 'e1' }));
      expect(error.code).toBe('REPLY_UNAVAILABLE');
      expect(error.attempts).toBe(3);
      expect(error.metaCode).toBe(131000);
      expect(error.httpStatus).toBe(500);
      expect(error.retryable).toBe(true);
      expect(error.fbtraceId).toMatch(/\S+/);
      expect(error.details).toMatchObject({
        metaCode: 131000,
        retryable: true,
        attempts: 3,
        entryId: 'e1',
        to: '1650*****34',
      });
      expect(error.message).not.toContain(USER);
      expect(graph.requests).toHaveLength(3);
      expect(calls.failed).toEqual(['131000']);
      expect(events.at(-1)).toMatchObject({ type: 'error', to: USER, entryId: 'e1', error });
    });

    it('a hanging server becomes REPLY_TIMEOUT within the configured timeout', async () => {
      graph.hangNext(1);
      const { client } = setup({ timeoutMs: 200, maxRetries: 0 });
      const started = performance.now();
      const error = await failure(client.send({ to: USER, message: text }));
      const elapsed = performance.now() - started;
      expect(error.code).toBe('REPLY_TIMEOUT');
      expect(error.retryable).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(1500);
    });

    it('a timed-out attempt is retried and the retry can succeed', async () => {
      graph.hangNext(1);
      const { client, calls } = setup({ timeoutMs: 150 });
      const result = await client.send({ to: USER, message: text });
      expect(result.attempts).toBe(2);
      expect(calls.retried).toEqual(['timeout']);
    });

    it('network errors (connection refused) are retried, then surface as REPLY_UNAVAILABLE', async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const address = probe.address();
          probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
        });
      });
      const { client, calls } = setup({ baseUrl: `http://127.0.0.1:${port}/v26.0`, maxRetries: 2 });
      const error = await failure(client.send({ to: USER, message: text }));
      expect(error.code).toBe('REPLY_UNAVAILABLE');
      expect(error.attempts).toBe(3);
      expect(error.cause).toBeDefined();
      expect(calls.retried).toEqual(['network', 'network']);
      expect(calls.failed).toEqual(['network']);
    });

    it('an abort signal stops a send that is waiting to retry', async () => {
      graph.failNext(5, { code: 131000 });
      const { client } = setup({ retryBaseMs: 10_000, random: () => 1 });
      const controller = new AbortController();
      const pending = client.send({ to: USER, message: text, signal: controller.signal });
      setTimeout(() => controller.abort(new Error('shutting down')), 50);
      await expect(pending).rejects.toThrow('shutting down');
    });
  });

  describe('permanent failures surface as typed errors and events, without retries', () => {
    it('131047 (24 h window closed) -> REPLY_WINDOW_CLOSED, an error event with the recipient, no retry', async () => {
      graph.failTo(USER, { code: 131047 });
      const { client, calls, events } = setup();
      const seen: CloudApiEvent[] = [];
      const off = client.on('error', (event) => seen.push(event));
      const error = await failure(client.send({ to: `+${USER}`, message: text, entryId: 'entry-42' }));
      off();
      expect(error.code).toBe('REPLY_WINDOW_CLOSED');
      expect(error.metaCode).toBe(131047);
      expect(error.httpStatus).toBe(400);
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/template/);
      expect(graph.requests).toHaveLength(1);
      expect(calls.failed).toEqual(['131047']);
      expect(calls.retried).toEqual([]);
      expect(seen).toEqual([
        expect.objectContaining({ type: 'error', to: `+${USER}`, kind: 'text', entryId: 'entry-42', error }),
      ]);
      expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    });

    it('131026 -> REPLY_UNDELIVERABLE', async () => {
      graph.failTo(USER, { code: 131026 });
      const error = await failure(setup().client.send({ to: USER, message: text }));
      expect(error.code).toBe('REPLY_UNDELIVERABLE');
      expect(graph.requests).toHaveLength(1);
    });

    it('190 for a wrong token -> REPLY_AUTH_FAILED (HTTP 401), and 463 once the token expired', async () => {
      const wrong = await failure(
        setup({ accessToken: 'not-the-token' }).client.send({ to: USER, message: text }),
      );
      expect(wrong.code).toBe('REPLY_AUTH_FAILED');
      expect(wrong.metaCode).toBe(190);
      expect(wrong.httpStatus).toBe(401);
      expect(wrong.retryable).toBe(false);
      graph.expireToken();
      const expired = await failure(setup().client.send({ to: USER, message: text }));
      expect(expired.code).toBe('REPLY_AUTH_FAILED');
      expect(expired.subcode).toBe(463);
      expect(expired.details?.providerMessage).toMatch(/Error validating access token/);
      expect(graph.requests).toHaveLength(2);
    });

    it.each([4, 80007])(
      '%i (app / account rate limit) -> REPLY_RATE_LIMITED without a retry',
      async (code) => {
        graph.failNext(1, { code });
        const error = await failure(setup().client.send({ to: USER, message: text }));
        expect(error.code).toBe('REPLY_RATE_LIMITED');
        expect(error.metaCode).toBe(code);
        expect(error.retryable).toBe(true);
        expect(graph.requests).toHaveLength(1);
      },
    );

    it('an unknown 400 (invalid parameter) -> REPLY_REJECTED with the provider details', async () => {
      graph.failNext(1, { code: 100, details: 'Unexpected key "foo" on param "text".' });
      const error = await failure(setup().client.send({ to: USER, message: text }));
      expect(error.code).toBe('REPLY_REJECTED');
      expect(error.details?.providerDetails).toBe('Unexpected key "foo" on param "text".');
    });

    it('a throwing event listener never fails a send', async () => {
      const { client } = setup({
        onEvent: () => {
          throw new Error('listener bug');
        },
      });
      await expect(client.send({ to: USER, message: text })).resolves.toMatchObject({ attempts: 1 });
    });

    it('mark-as-read failures are typed too', async () => {
      graph.failNext(1, { code: 190, status: 401 });
      await expect(setup().client.markRead({ messageId: 'wamid.X', typing: true })).rejects.toMatchObject({
        code: 'REPLY_AUTH_FAILED',
        details: { kind: 'typing' },
      });
    });
  });
});
