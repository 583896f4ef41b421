// Diagnostic row of the webhook benchmark, not a product configuration: chatstate's acknowledgement
// path alone, with nothing processing the inbox afterwards. A bare node:http server runs the same
// dist/ functions `chatstate serve` runs before its 200 (node:crypto signature check, strict UTF-8
// JSON decode, parseCloudApiPayload, the inbox write of Dispatcher.accept in one SQLite
// transaction) and no drains. Its throughput is the ceiling of chatstate's acks/s if the
// processing ran somewhere else; the gap to `chatstate serve` is what the drains cost.
// --batch: group commit, one inbox transaction for every delivery whose body completed in the
// same event-loop turn (each is still answered only after its messages are durable).
// usage: WHATSAPP_APP_SECRET=… node bench/webhook/ack-path-server.mjs --port 0 --store sqlite:/tmp/x.db [--batch]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { openStore, parseCloudApiPayload } from '../../dist/index.js';
import { verifyMetaSignatureNode } from '../../dist/server/node-verify.js';
import { decodeJsonBody } from '../../dist/webhook/body.js';
import { isMessageEvent } from '../../dist/webhook/events.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    store: { type: 'string' },
    batch: { type: 'boolean', default: false },
  },
});
const secret = process.env.WHATSAPP_APP_SECRET;
if (!secret || !values.store) {
  console.error('WHATSAPP_APP_SECRET and --store are required');
  process.exit(2);
}
const store = await openStore(values.store);
const inbox = store.inbox;

// As Dispatcher.accept records them.
const toInbox = (event) => ({
  id: event.messageId,
  userId: event.userId,
  at: event.timestamp,
  payload: JSON.stringify(Object.assign({}, event, { raw: undefined })),
});

let pending = null;
function record(messages) {
  if (!values.batch) return inbox.add(messages);
  if (!pending) {
    const batch = { messages: [], done: null };
    batch.done = new Promise((resolve) => setImmediate(resolve)).then(() => {
      pending = null;
      return inbox.add(batch.messages);
    });
    pending = batch;
  }
  pending.messages.push(...messages);
  return pending.done;
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhooks/whatsapp') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (!verifyMetaSignatureNode(raw, req.headers['x-hub-signature-256'] ?? null, secret)) {
      res.writeHead(401).end();
      return;
    }
    let events;
    try {
      events = parseCloudApiPayload(decodeJsonBody(raw)).events;
    } catch {
      res.writeHead(400).end();
      return;
    }
    try {
      const messages = events.filter(isMessageEvent).map(toInbox);
      if (messages.length) await record(messages);
    } catch {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end();
  });
});

server.listen(Number(values.port), values.host, () => {
  console.log(`listening ${server.address().port}`);
});
process.once('SIGTERM', () => server.close(() => store.close().then(() => process.exit(0))));
