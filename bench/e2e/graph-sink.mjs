// A local Graph API sink for the end-to-end and sends benchmarks: a bare node:http server that
// answers POST /<version>/<phone-number-id>/messages with Meta's documented success body at once,
// and optionally enforces Meta's per-number throughput limit with the documented 130429 error, so
// a client that breaks the limit shows errors instead of numbers. Nothing else: it is a floor, not
// the test suite's fake (test/support/fake-graph.ts), whose request log would cost the bench CPU.
import { createServer } from 'node:http';

/** Milliseconds on a clock shared by processes on one machine (sub-ms resolution). */
export const wallMs = () => performance.timeOrigin + performance.now();

const RATE_LIMITED = JSON.stringify({
  error: {
    message: '(#130429) Rate limit hit',
    type: 'OAuthException',
    code: 130429,
    error_data: { messaging_product: 'whatsapp', details: 'Cloud API message throughput has been reached.' },
    fbtrace_id: 'AbenchSinkTrace',
  },
});

/**
 * Accepted sends per phone number id within the last second: a ring of the last `limit` accept
 * times per number, as Meta counts (any 1 s window), in O(1) per request.
 */
function throughputGate(limit) {
  const rings = new Map();
  return (phoneNumberId, now) => {
    let ring = rings.get(phoneNumberId);
    if (ring === undefined) {
      ring = { times: new Float64Array(limit).fill(Number.NEGATIVE_INFINITY), head: 0 };
      rings.set(phoneNumberId, ring);
    }
    if (now - ring.times[ring.head] < 1000) return false;
    ring.times[ring.head] = now;
    ring.head = (ring.head + 1) % limit;
    return true;
  };
}

/**
 * Starts the sink on a free 127.0.0.1 port. `perNumberPerSecond` > 0 enforces Meta's throughput
 * limit (130429); `onMessage(to, atMs, phoneNumberId)` is called for every accepted message.
 */
export async function startGraphSink({ perNumberPerSecond = 0, version = 'v26.0', onMessage } = {}) {
  const prefix = `/${version}/`;
  const gate = perNumberPerSecond > 0 ? throughputGate(perNumberPerSecond) : null;
  const counts = { accepted: 0, rateLimited: 0, bad: 0 };
  let wamid = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = wallMs();
      const url = req.url ?? '';
      const slash = url.indexOf('/messages', prefix.length);
      if (req.method !== 'POST' || !url.startsWith(prefix) || slash < 0) {
        counts.bad++;
        res.writeHead(404).end();
        return;
      }
      const phoneNumberId = url.slice(prefix.length, slash);
      let to;
      try {
        to = JSON.parse(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).to;
      } catch {}
      if (typeof to !== 'string') {
        counts.bad++;
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":100}}');
        return;
      }
      if (gate !== null && !gate(phoneNumberId, at)) {
        counts.rateLimited++;
        res.writeHead(400, { 'content-type': 'application/json' }).end(RATE_LIMITED);
        return;
      }
      counts.accepted++;
      const waId = to.charCodeAt(0) === 43 ? to.slice(1) : to;
      onMessage?.(waId, at, phoneNumberId);
      const body = `{"messaging_product":"whatsapp","contacts":[{"input":"${to}","wa_id":"${waId}"}],"messages":[{"id":"wamid.bench${(++wamid).toString(36)}"}]}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/${version}`,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
