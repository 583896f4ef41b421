// A local stand-in for WASenderApi's send-message endpoint (POST {base}/send-message with a Bearer
// API key), answering with the shapes its docs show: `{ success: true, data: { msgId, jid, status } }`
// on success, `{ success: false, message, errors? }` on failure, 429 with Retry-After and
// X-RateLimit-* headers when rate limited. It can be told to fail, rate limit or hang.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WasenderFailure {
  status: number;
  /** Response body; defaults to `{ success: false, message: <reason phrase> }`. */
  body?: unknown;
  /** Sets Retry-After (seconds) on the response. */
  retryAfterSeconds?: number;
}

export interface WasenderRequest {
  at: number;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
  status: number | undefined;
  response: unknown;
}

export interface FakeWasender {
  /** e.g. http://127.0.0.1:5555/api — pass as the client's baseUrl. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly requests: WasenderRequest[];
  failNext(count: number, failure: WasenderFailure): void;
  hangNext(count: number): void;
  /** 429 once more than `limit` messages arrive within `windowMs` (like the plan limits). 0 = off. */
  setRateLimit(limit: number, windowMs: number): void;
  reset(): void;
  close(): Promise<void>;
}

const MEDIA_KEYS = ['imageUrl', 'videoUrl', 'documentUrl', 'audioUrl', 'stickerUrl'];
const REASONS: Record<number, string> = {
  401: 'Unauthenticated.',
  422: 'Validation failed',
  429: 'Too many requests. Please slow down.',
  500: 'Server Error',
  503: 'Service Unavailable',
};

export async function startFakeWasender(options: { apiKey?: string } = {}): Promise<FakeWasender> {
  const apiKey = options.apiKey ?? 'wasender-test-key';
  const requests: WasenderRequest[] = [];
  let failures: WasenderFailure[] = [];
  let hang = 0;
  let rate = { limit: 0, windowMs: 0 };
  let accepted: number[] = [];
  let msgId = 100_000;

  function answer(
    record: WasenderRequest,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    record.status = status;
    record.response = body;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const record: WasenderRequest = {
      at,
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body,
      status: undefined,
      response: undefined,
    };
    requests.push(record);
    if (hang > 0) {
      hang--;
      return;
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return answer(record, res, 401, { success: false, message: REASONS[401] });
    }
    if (req.method !== 'POST' || record.path !== '/api/send-message') {
      return answer(record, res, 404, { success: false, message: 'Not Found' });
    }
    const failure = failures.shift();
    if (failure !== undefined) {
      const headers: Record<string, string> = {};
      if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
      return answer(
        record,
        res,
        failure.status,
        failure.body ?? { success: false, message: REASONS[failure.status] ?? 'Error' },
        headers,
      );
    }
    const errors: Record<string, string[]> = {};
    if (typeof body?.to !== 'string' || body.to.length === 0) errors.to = ['The to field is required.'];
    const hasMedia = MEDIA_KEYS.some((key) => typeof body?.[key] === 'string');
    if (!hasMedia && (typeof body?.text !== 'string' || body.text.length === 0)) {
      errors.text = ['The text field is required when no media is present.'];
    }
    if (Object.keys(errors).length > 0) {
      return answer(record, res, 422, { success: false, message: 'Validation failed', errors });
    }
    if (rate.limit > 0) {
      accepted = accepted.filter((t) => t > at - rate.windowMs);
      const oldest = accepted[0] ?? at;
      const resetEpoch = Math.ceil((Date.now() + (oldest + rate.windowMs - at)) / 1000);
      const headers = {
        'x-ratelimit-limit': String(rate.limit),
        'x-ratelimit-remaining': String(Math.max(0, rate.limit - accepted.length - 1)),
        'x-ratelimit-reset': String(resetEpoch),
      };
      if (accepted.length >= rate.limit) {
        const retryAfter = String(Math.max(1, Math.ceil((oldest + rate.windowMs - at) / 1000)));
        return answer(
          record,
          res,
          429,
          { success: false, message: REASONS[429] },
          { ...headers, 'retry-after': retryAfter },
        );
      }
      accepted.push(at);
      msgId++;
      return answer(
        record,
        res,
        200,
        { success: true, data: { msgId, jid: body?.to, status: 'in_progress' } },
        headers,
      );
    }
    msgId++;
    answer(record, res, 200, { success: true, data: { msgId, jid: body?.to, status: 'in_progress' } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api`,
    apiKey,
    requests,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    hangNext(count) {
      hang += count;
    },
    setRateLimit(limit, windowMs) {
      rate = { limit, windowMs };
    },
    reset() {
      requests.length = 0;
      failures = [];
      hang = 0;
      rate = { limit: 0, windowMs: 0 };
      accepted = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
