// The senders of bench/run-sends.mjs. Each sends text message i from business number
// numbers[i % numbers.length] to user users[i % users.length] and resolves with
// { ok: true } or { ok: false, code } (HTTP status or chatstate error code).
import http from 'node:http';
import { createNodeFetch } from '../../dist/channels/node/node-fetch.js';
import { createCloudApiClient } from '../../dist/channels/whatsapp-cloud/client.js';
import { Deliverer } from '../../dist/runtime/deliverer.js';
import { cloudChannel } from '../../dist/runtime/outbound.js';
import { openStore } from '../../dist/store/open.js';

export const TOKEN = 'bench-dummy-access-token';
const TEXT = 'Nice to meet you, Ada Lovelace! What is your email address?';

export const SENDERS = [
  {
    name: 'client',
    label: 'chatstate Cloud API client, node:http transport (as serve creates it)',
    what: 'createCloudApiClient({ baseUrl, accessToken, fetch: createNodeFetch() }).send({ from, to, message }): validation, per-number 80/s limiter, pair queue, retry policy, node:http keep-alive',
  },
  {
    name: 'client-fetch',
    label: 'chatstate Cloud API client, global fetch (the default off Node)',
    what: "the same client with its default transport, Node's global fetch (undici)",
  },
  {
    name: 'deliverer',
    label: 'chatstate Deliverer -> Cloud API client, node:http (memory: outbox)',
    what: 'the runtime path after a commit: Deliverer.deliver([reply]) -> cloudChannel -> client -> outbox update, on a memory: store (replies committed before the window)',
  },
  {
    name: 'fetch',
    label: 'floor: bare fetch POST, same body',
    what: "global fetch (Node's undici), response read and JSON.parse; no limiter, no retry",
  },
  {
    name: 'http',
    label: 'floor: node:http keep-alive POST, same body',
    what: 'http.request with a keep-alive Agent (maxSockets = concurrency), response read and JSON.parse',
  },
];

/** The wire body the client sends for the text message (docs/replies.md), for the floors. */
const wireBody = (to) =>
  JSON.stringify({
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'text',
    text: { body: TEXT },
  });

export async function createSender(name, { baseUrl, numbers, users, concurrency, prepare }) {
  const pick = (i) => ({ from: numbers[i % numbers.length], to: users[i % users.length] });
  if (name === 'client' || name === 'client-fetch') {
    const client = createCloudApiClient({
      baseUrl,
      accessToken: TOKEN,
      ...(name === 'client' ? { fetch: createNodeFetch({ maxSockets: concurrency }) } : {}),
    });
    return {
      send(i) {
        const { from, to } = pick(i);
        return client.send({ from, to, message: { type: 'text', text: TEXT } }).then(
          () => ({ ok: true }),
          (e) => ({ ok: false, code: e.code ?? 'ERROR' }),
        );
      },
      close() {},
    };
  }
  if (name === 'deliverer') {
    const client = createCloudApiClient({ baseUrl, accessToken: TOKEN, fetch: createNodeFetch() });
    const store = await openStore('memory:');
    let failed = 0;
    const deliverer = new Deliverer({
      store,
      channels: { cloud: cloudChannel(client) },
      recoveryIntervalMs: 0,
      count: (outcome) => {
        if (outcome !== 'sent') failed++;
      },
    });
    // Replies committed by transitions before the window: the Deliverer's input, as the dispatcher
    // hands it over after each commit.
    const replies = [];
    for (let i = 0; i < prepare; i++) {
      const { from, to } = pick(i);
      const r = await store.transition(to, (s) => {
        s.send({ channel: 'cloud', from, to, message: { type: 'text', text: TEXT } });
      });
      replies.push(r.replies[0]);
    }
    return {
      prepared: replies.length,
      async send(i) {
        const reply = replies[i];
        if (reply === undefined) return { ok: false, code: 'NOT_PREPARED' };
        const before = failed;
        await deliverer.deliver([reply]);
        return failed === before ? { ok: true } : { ok: false, code: 'DELIVERY_FAILED' };
      },
      async close() {
        await deliverer.close();
        await store.close();
      },
    };
  }
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  if (name === 'fetch') {
    return {
      async send(i) {
        const { from, to } = pick(i);
        try {
          const res = await fetch(`${baseUrl}/${from}/messages`, {
            method: 'POST',
            headers,
            body: wireBody(to),
          });
          JSON.parse(await res.text());
          return res.status === 200 ? { ok: true } : { ok: false, code: res.status };
        } catch {
          return { ok: false, code: 'NETWORK' };
        }
      },
      close() {},
    };
  }
  if (name === 'http') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
    const { hostname, port, pathname } = new URL(baseUrl);
    return {
      send(i) {
        const { from, to } = pick(i);
        const body = wireBody(to);
        return new Promise((resolve) => {
          const req = http.request(
            {
              agent,
              hostname,
              port,
              path: `${pathname}/${from}/messages`,
              method: 'POST',
              headers: { ...headers, 'content-length': Buffer.byteLength(body) },
            },
            (res) => {
              const chunks = [];
              res.on('data', (c) => chunks.push(c));
              res.on('end', () => {
                JSON.parse(Buffer.concat(chunks).toString('utf8'));
                resolve(res.statusCode === 200 ? { ok: true } : { ok: false, code: res.statusCode });
              });
            },
          );
          req.on('error', () => resolve({ ok: false, code: 'NETWORK' }));
          req.end(body);
        });
      },
      close() {
        agent.destroy();
      },
    };
  }
  throw new Error(`unknown sender ${name}`);
}
