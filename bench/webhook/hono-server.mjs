// The framework row of the webhook benchmark: the same work as bare-server.mjs (raw body,
// HMAC-SHA256 in constant time, JSON.parse, 200) as a minimal Hono app on @hono/node-server,
// the stack chatstate serve runs on, with no store. The gap between this row and the bare one is
// the framework's own share (Web Request/Response objects, routing).
// usage: WHATSAPP_APP_SECRET=… node bench/webhook/hono-server.mjs --port 0   (prints "listening <port>")
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});
const secret = process.env.WHATSAPP_APP_SECRET;
if (!secret) {
  console.error('WHATSAPP_APP_SECRET is not set');
  process.exit(2);
}

function verify(raw, header) {
  if (typeof header !== 'string' || header.length !== 71 || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice(7), 'hex');
  if (given.length !== 32) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(raw).digest(), given);
}

const app = new Hono();
app.post('/webhooks/whatsapp', async (c) => {
  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (!verify(raw, c.req.header('x-hub-signature-256'))) return c.body(null, 401);
  try {
    JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch {
    return c.body(null, 400);
  }
  return c.body(null, 200);
});

const server = serve({ fetch: app.fetch, port: Number(values.port), hostname: values.host }, (info) => {
  console.log(`listening ${info.port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
