// A local stand-in for Meta's Graph API (WhatsApp Cloud API messages endpoint): a real HTTP server on
// 127.0.0.1 that answers with the request and error shapes Meta documents, and can be told to fail,
// throttle, enforce the pair rate limit or hang. We cannot reach Meta from tests; this is the
// protocol-level fake DESIGN.md allows for a remote SaaS.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GraphFailure {
  /** Meta error code, e.g. 131000, 130429, 131056, 131047, 190. */
  code: number;
  /** HTTP status; defaults to the status Meta's error-code table gives for `code`. */
  status?: number;
  subcode?: number;
  message?: string;
  details?: string;
  /** Answer with this raw body instead of a Graph error object (e.g. an HTML 502 from a proxy). */
  rawBody?: string;
}

export interface RecordedRequest {
  /** performance.now() when the request arrived. */
  at: number;
  method: string;
  path: string;
  phoneNumberId: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
  /** undefined while hanging. */
  status: number | undefined;
  response: unknown;
}

export interface FakeGraph {
  /** e.g. http://127.0.0.1:54321/v26.0 — pass as the client's baseUrl. */
  readonly baseUrl: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  /** Requests Meta accepted (2xx), in arrival order. */
  accepted(): RecordedRequest[];
  failNext(count: number, failure: GraphFailure): void;
  /** Every message to this recipient fails (e.g. 131047 for a closed window). */
  failTo(to: string, failure: GraphFailure): void;
  hangNext(count: number): void;
  /** 131056 when two messages to the same user from the same number arrive closer than this. 0 = off. */
  setPairInterval(ms: number): void;
  /** 130429 when a number gets more than this many messages in any 1 s window. 0 = off. */
  setThroughput(perSecond: number): void;
  /** From now on the token is "expired": 190 with subcode 463. */
  expireToken(): void;
  reset(): void;
  close(): Promise<void>;
}

const TITLES: Record<number, { status: number; message: string; details?: string }> = {
  0: { status: 401, message: '(#0) AuthException' },
  2: { status: 503, message: '(#2) Service temporarily unavailable' },
  4: { status: 400, message: '(#4) Application request limit reached' },
  100: { status: 400, message: '(#100) Invalid parameter' },
  80007: { status: 400, message: '(#80007) Rate limit issues' },
  130429: {
    status: 400,
    message: '(#130429) Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
  },
  131000: { status: 500, message: '(#131000) Something went wrong' },
  131016: { status: 503, message: '(#131016) Service unavailable' },
  131026: { status: 400, message: '(#131026) Message Undeliverable' },
  131047: {
    status: 400,
    message: '(#131047) Re-engagement message',
    details: 'More than 24 hours have passed since the recipient last replied to the sender number.',
  },
  131056: {
    status: 400,
    message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
    details: 'Too many messages sent from the sender phone number to the same recipient in a short time.',
  },
};

const MESSAGE_TYPES = new Set([
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'reaction',
  'interactive',
  'template',
  'contacts',
]);

function traceId(): string {
  return randomBytes(9).toString('base64url');
}

function graphError(failure: GraphFailure): { status: number; body: unknown } {
  const known = TITLES[failure.code];
  const status = failure.status ?? known?.status ?? 400;
  const error: Record<string, unknown> = {
    message: failure.message ?? known?.message ?? `(#${failure.code}) Error`,
    type: 'OAuthException',
    code: failure.code,
  };
  const details = failure.details ?? known?.details;
  if (details !== undefined) error.error_data = { messaging_product: 'whatsapp', details };
  if (failure.subcode !== undefined) error.error_subcode = failure.subcode;
  error.fbtrace_id = traceId();
  return { status, body: { error } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGraph(options: { token?: string; version?: string } = {}): Promise<FakeGraph> {
  const token = options.token ?? 'EAAG-test-token';
  const version = options.version ?? 'v26.0';
  const requests: RecordedRequest[] = [];
  let failures: GraphFailure[] = [];
  let failTo = new Map<string, GraphFailure>();
  let hang = 0;
  let pairIntervalMs = 0;
  let throughput = 0;
  let expired = false;
  let wamidCounter = 0;
  let lastAcceptedToPair = new Map<string, number>();
  let acceptedPerNumber = new Map<string, number[]>();

  function answer(record: RecordedRequest, res: ServerResponse, status: number, body: unknown): void {
    record.status = status;
    record.response = body;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' });
    res.end(text);
  }

  function fail(record: RecordedRequest, res: ServerResponse, failure: GraphFailure): void {
    if (failure.rawBody !== undefined) return answer(record, res, failure.status ?? 502, failure.rawBody);
    const { status, body } = graphError(failure);
    answer(record, res, status, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const raw = await readBody(req);
    const path = req.url ?? '';
    const match = new RegExp(`^/${version.replace('.', '\\.')}/([^/]+)/messages$`).exec(path);
    let body: Record<string, unknown> | undefined;
    try {
      body = raw.length > 0 ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = {
      at,
      method: req.method ?? '',
      path,
      phoneNumberId: match?.[1],
      authorization: req.headers.authorization,
      body,
      status: undefined,
      response: undefined,
    };
    requests.push(record);

    if (hang > 0) {
      hang--;
      return; // never answer; the socket is destroyed by close()
    }
    // Graph checks the token before anything else.
    if (req.headers.authorization !== `Bearer ${token}`) {
      return fail(record, res, {
        code: 190,
        status: 401,
        message: 'Invalid OAuth access token - Cannot parse access token',
      });
    }
    if (expired) {
      return fail(record, res, {
        code: 190,
        status: 401,
        subcode: 463,
        message: 'Error validating access token: Session has expired on Friday, 20-Nov-26 10:00:00 PST.',
      });
    }
    if (req.method !== 'POST' || match === null || match[1] === undefined) {
      return fail(record, res, { code: 100, message: 'Unsupported post request.' });
    }
    if (body === undefined || body.messaging_product !== 'whatsapp') {
      return fail(record, res, { code: 100, details: 'The parameter messaging_product is required.' });
    }
    const next = failures.shift();
    if (next !== undefined) return fail(record, res, next);

    // Mark as read (optionally with the typing indicator).
    if (body.status === 'read') {
      if (typeof body.message_id !== 'string')
        return fail(record, res, { code: 100, details: 'message_id is required' });
      return answer(record, res, 200, { success: true });
    }

    const to = body.to;
    const type = body.type;
    if (typeof to !== 'string' || to.length === 0)
      return fail(record, res, { code: 100, details: 'to is required' });
    if (typeof type !== 'string' || !MESSAGE_TYPES.has(type) || typeof body[type] !== 'object') {
      return fail(record, res, {
        code: 100,
        details: `Param ${String(type)} is required for type ${String(type)}`,
      });
    }
    const waId = to.replace(/^\+/, '');
    const recipientFailure = failTo.get(waId);
    if (recipientFailure !== undefined) return fail(record, res, recipientFailure);

    const phoneNumberId = match[1];
    if (throughput > 0) {
      const times = (acceptedPerNumber.get(phoneNumberId) ?? []).filter((t) => t > at - 1000);
      acceptedPerNumber.set(phoneNumberId, times);
      if (times.length >= throughput) return fail(record, res, { code: 130429 });
    }
    const pair = `${phoneNumberId}:${waId}`;
    if (pairIntervalMs > 0) {
      const last = lastAcceptedToPair.get(pair);
      if (last !== undefined && at - last < pairIntervalMs) return fail(record, res, { code: 131056 });
    }
    lastAcceptedToPair.set(pair, at);
    acceptedPerNumber.get(phoneNumberId)?.push(at);
    wamidCounter++;
    const id = `wamid.${Buffer.from(`HBgL${waId}FQIAERgS${wamidCounter.toString(16).padStart(8, '0')}`).toString('base64')}`;
    const message: Record<string, unknown> = { id };
    if (type === 'template') message.message_status = 'accepted';
    answer(record, res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: waId }],
      messages: [message],
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  // The client under test may hold many keep-alive connections; no need to cap them.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/${version}`,
    token,
    requests,
    accepted: () => requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300),
    failNext(count, failure) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    failTo(to, failure) {
      failTo.set(to.replace(/^\+/, ''), failure);
    },
    hangNext(count) {
      hang += count;
    },
    setPairInterval(ms) {
      pairIntervalMs = ms;
    },
    setThroughput(perSecond) {
      throughput = perSecond;
    },
    expireToken() {
      expired = true;
    },
    reset() {
      requests.length = 0;
      failures = [];
      failTo = new Map();
      hang = 0;
      pairIntervalMs = 0;
      throughput = 0;
      expired = false;
      lastAcceptedToPair = new Map();
      acceptedPerNumber = new Map();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
