// The floor for the webhook benchmark: a bare node:http server doing only what any correct
// WhatsApp Cloud API receiver must do before answering: read the body, HMAC-SHA256 over the raw
// bytes (node:crypto) compared in constant time with X-Hub-Signature-256, JSON.parse, 200.
// No router, no store, no logging.
// usage: WHATSAPP_APP_SECRET=… node bench/webhook/bare-server.mjs --port 0   (prints "listening <port>")
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

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

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhooks/whatsapp') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (!verify(raw, req.headers['x-hub-signature-256'])) {
      res.writeHead(401).end();
      return;
    }
    try {
      JSON.parse(raw.toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200).end();
  });
});

server.listen(Number(values.port), values.host, () => {
  console.log(`listening ${server.address().port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
