// The request pool of the webhook benchmark: pre-signed Cloud API bodies, one text message each,
// every one with a distinct message id, spread round-robin over the users. Built once per run so
// signing costs the load generator nothing during a round. The bodies live in one Buffer (offsets
// per request) to keep the bench process's heap small and its GC quiet.
import { createHmac } from 'node:crypto';
import { nextMessageId, userIds } from '../lib/workload.mjs';

export const APP_SECRET = 'bench-webhook-app-secret';
export const PHONE_NUMBER_ID = '106540352242922';

/** The Cloud API body of one inbound text message (Meta's documented webhook shape). */
export function cloudTextBody({ id, from, text, timestamp, phoneNumberId = PHONE_NUMBER_ID }) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA1',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name: `User ${from}` }, wa_id: from }],
              messages: [{ from, id, timestamp: String(timestamp), type: 'text', text: { body: text } }],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
}

export const sign = (bytes, secret = APP_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;

/**
 * `size` signed bodies over `users` users. Message i is from user i % users; timestamps rise per
 * user (one second per pass over the users), as a real conversation's do.
 */
export function buildPool({ size, users: userCount, secret = APP_SECRET }) {
  const users = userIds(userCount);
  const startSec = Math.floor(Date.now() / 1000) - Math.ceil(size / userCount);
  const parts = [];
  const offsets = new Uint32Array(size + 1);
  const signatures = new Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    const from = users[i % userCount];
    const body = Buffer.from(
      cloudTextBody({
        id: nextMessageId(from),
        from,
        text: `message ${i} to the lead-gen bot`,
        timestamp: startSec + Math.floor(i / userCount),
      }),
    );
    signatures[i] = sign(body, secret);
    parts.push(body);
    offsets[i] = total;
    total += body.length;
  }
  offsets[size] = total;
  const all = Buffer.concat(parts, total);
  return {
    size,
    users: userCount,
    bytes: total,
    meanBodyBytes: total / size,
    body: (i) => all.subarray(offsets[i], offsets[i + 1]),
    signature: (i) => signatures[i],
  };
}
