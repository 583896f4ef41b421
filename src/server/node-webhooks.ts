import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { WebhookAnswer, WebhookReceiver, WebhookRoute } from './webhook-routes.js';

/**
 * The webhook POSTs straight from node:http, everything else through Hono's Node adapter.
 *
 * Reading a body through the adapter builds a Web `Request` (undici) around a web stream wrapping
 * the IncomingMessage, plus a `Headers` and an `AbortController`: about 180 us of CPU per delivery
 * measured here, more than the signature check, the parse and the inbox write together (see
 * docs/benchmarks.md, "Webhook acknowledgement"). This path reads the raw bytes from the socket
 * and calls the same receiver the Hono routes call, then writes the bytes Hono's adapter would:
 * same statuses, headers and bodies, same metrics and logs. Only the plain case is taken here (a
 * POST to exactly `/webhooks/whatsapp` or `/webhooks/wasender`, optionally with a query, and a Host
 * header the adapter accepts); anything else goes to `fallback` unchanged.
 *
 * The Hono app has no middleware on these routes. One added in server/app.ts must be added here too.
 */
export function nodeWebhookListener(receive: WebhookReceiver, fallback: RequestListener): RequestListener {
  return (req, res) => {
    const route = req.method === 'POST' ? routeOf(req.url) : undefined;
    if (route === undefined || !adapterAcceptsHost(req.headers.host)) {
      fallback(req, res);
      return;
    }
    void serveWebhook(receive, route, req, res);
  };
}

function routeOf(url: string | undefined): WebhookRoute | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/webhooks/whatsapp') return 'whatsapp';
  if (path === '/webhooks/wasender') return 'wasender';
  return undefined;
}

// The adapter answers 400 to a Host that does not survive WHATWG URL parsing unchanged (hostname
// normalised to something else, bad port). The same check, cached: a client sends the same Host on
// every request. A missing Host is left to the adapter (it falls back to the listening hostname).
const hostChecks = new Map<string, boolean>();

function adapterAcceptsHost(host: string | undefined): boolean {
  if (!host) return false;
  let ok = hostChecks.get(host);
  if (ok === undefined) {
    try {
      const url = new URL(`http://${host}/`);
      ok = url.hostname.length === host.length || url.hostname === host.replace(/:\d+$/, '');
    } catch {
      ok = false;
    }
    if (hostChecks.size >= 256) hostChecks.clear();
    hostChecks.set(host, ok);
  }
  return ok;
}

async function serveWebhook(
  receive: WebhookReceiver,
  route: WebhookRoute,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let answer: WebhookAnswer;
  try {
    answer = await receive(route, {
      header: (name) => {
        const value = req.headers[name];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
      body: () => readBody(req),
    });
  } catch (error) {
    // Hono's default error handler: log, plain-text 500.
    console.error(error);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': 21 });
      res.end('Internal Server Error');
    }
    drainUnread(req);
    return;
  }
  if (answer.error) {
    // c.json(...) through the adapter.
    const body = JSON.stringify({ error: answer.error });
    res.writeHead(answer.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  } else {
    // c.body(null, status) through the adapter: its default content type, no body.
    res.writeHead(answer.status, { 'content-type': 'text/plain; charset=UTF-8' });
    res.end();
  }
  drainUnread(req);
}

// As the adapter does (autoCleanupIncoming): a body left unread (413 on Content-Length, 503) is
// drained after the answer, within limits, so the connection can be reused. Checked once the
// answer is written rather than with 'end'/'finish'/'close' listeners on every request: three
// listeners fewer per delivery, and an answered request whose body was read needs nothing.
function drainUnread(req: IncomingMessage): void {
  if (!req.readableEnded) drainIncoming(req);
}

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before the body ended'));
    });
  });
}

// @hono/node-server's drainIncoming: read and discard what is left, at most 64 MiB or 500 ms,
// then close the socket.
const DRAIN_TIMEOUT_MS = 500;
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
const draining = new WeakSet<IncomingMessage>();

function drainIncoming(incoming: IncomingMessage): void {
  if (incoming.destroyed || draining.has(incoming)) return;
  draining.add(incoming);
  let bytesRead = 0;
  const cleanup = () => {
    clearTimeout(timer);
    incoming.off('data', onData);
    incoming.off('end', cleanup);
    incoming.off('error', cleanup);
  };
  const forceClose = () => {
    cleanup();
    const socket = incoming.socket;
    if (socket && !socket.destroyed) socket.destroySoon();
  };
  const timer = setTimeout(forceClose, DRAIN_TIMEOUT_MS);
  timer.unref?.();
  const onData = (chunk: Buffer) => {
    bytesRead += chunk.length;
    if (bytesRead > MAX_DRAIN_BYTES) forceClose();
  };
  incoming.on('data', onData);
  incoming.on('end', cleanup);
  incoming.on('error', cleanup);
  incoming.resume();
}
