// Where a webhook message's CPU time goes in chatstate, piece by piece, in one process (no HTTP,
// no load generator): the same dist/ modules `chatstate serve` runs, the same SQLite store options
// and Prometheus observers, the same rememberBot. Prints microseconds per message (median of the
// rounds) so the HTTP benchmark's totals can be split into parts.
// usage: node bench/webhook/diag-costs.mjs [--rounds 5] [--n 5000] [--only drain]   (dist/ must be built)
// Profile one piece: node --cpu-prof --cpu-prof-dir /tmp/p bench/webhook/diag-costs.mjs --only drain
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createApp,
  Dispatcher,
  loadConfig,
  openStore,
  parseCloudApiPayload,
  rememberBot,
} from '../../dist/index.js';
import { verifyMetaSignatureNode } from '../../dist/server/node-verify.js';
import { createPrometheus } from '../../dist/server/prometheus.js';
import { decodeJsonBody } from '../../dist/webhook/body.js';
import { isMessageEvent } from '../../dist/webhook/events.js';
import { fmtNum, median } from '../lib/stats.mjs';
import { markdownTable } from '../lib/table.mjs';
import { APP_SECRET, buildPool } from './pool.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    n: { type: 'string', default: '5000' },
    only: { type: 'string' }, // a substring of the piece names, e.g. --only drain (for --cpu-prof)
  },
});
const ROUNDS = Number(values.rounds);
const N = Number(values.n);
const USERS = 1000;
const tmp = mkdtempSync(join(os.tmpdir(), 'chatstate-webhook-diag-'));
let files = 0;
// Every piece takes fresh messages (7 pieces, N each, plus the drain rounding up to whole passes).
const pool = buildPool({ size: (7 * N + USERS) * ROUNDS, users: USERS });
let cursor = 0;
const nextBody = () => {
  const i = cursor++;
  return { raw: pool.body(i), sig: pool.signature(i) };
};

async function freshStore() {
  const prometheus = createPrometheus({ defaultMetrics: false });
  const observer = {
    ...prometheus.store,
    operation: (op, ...rest) => {
      countOp?.(op);
      prometheus.store.operation(op, ...rest);
    },
  };
  const store = await openStore(`sqlite:${join(tmp, `diag-${files++}.db`)}`, { observer });
  return { store, prometheus };
}
let countOp = null;

// Driver calls per drained message, by operation (the store's observer does not see inbox calls,
// so the inbox is wrapped too). Filled by the drain piece of the last round.
const calls = new Map();
function countCalls(store) {
  const count = (op) => calls.set(op, (calls.get(op) ?? 0) + 1);
  countOp = count;
  const real = store.inbox;
  const wrapped = {};
  for (const op of ['add', 'peek', 'remove', 'users'])
    wrapped[op] = (...args) => {
      count(`inbox.${op}`);
      return real[op](...args);
    };
  Object.defineProperty(store, 'inbox', { get: () => wrapped });
}

const messagesOf = (raw) => {
  const { events } = parseCloudApiPayload(decodeJsonBody(raw));
  return events.filter(isMessageEvent);
};
const toInbox = (e) => ({
  id: e.messageId,
  userId: e.userId,
  at: e.timestamp,
  payload: JSON.stringify({ ...e, raw: undefined }),
});

/** us per message for `count` messages handled by `run(i)` (awaited), after `before()`. */
async function timed(count, run) {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await run(i);
  return ((performance.now() - t0) * 1000) / count;
}

const pieces = {
  'verify HMAC (node:crypto)': async () => {
    const items = Array.from({ length: N }, nextBody);
    return timed(N, (i) => {
      if (!verifyMetaSignatureNode(items[i].raw, items[i].sig, APP_SECRET)) throw new Error('bad signature');
    });
  },
  'decode + JSON.parse + parseCloudApiPayload': async () => {
    const items = Array.from({ length: N }, nextBody);
    return timed(N, (i) => {
      if (messagesOf(items[i].raw).length !== 1) throw new Error('expected one message');
    });
  },
  'inbox add, 1 message (1 SQLite write transaction)': async () => {
    const { store } = await freshStore();
    const msgs = Array.from({ length: N }, () => messagesOf(nextBody().raw).map(toInbox));
    const us = await timed(N, (i) => store.inbox.add(msgs[i]));
    await store.close();
    return us;
  },
  'drain, 1 waiting message per user (lease, peek, transition, remove)': async () => {
    const { store, prometheus } = await freshStore();
    calls.clear();
    countCalls(store);
    const dispatcher = new Dispatcher({
      store,
      bot: rememberBot,
      metrics: prometheus.runtime,
      recoveryIntervalMs: 0,
      recoverAfterMs: 0,
    });
    let total = 0;
    for (let done = 0; done < N; done += USERS) {
      // One message for each user, then one recovery pass drains them all.
      const msgs = [];
      for (let u = 0; u < USERS; u++) msgs.push(...messagesOf(nextBody().raw).map(toInbox));
      await store.inbox.add(msgs);
      calls.delete('inbox.add');
      const t0 = performance.now();
      await dispatcher.recover();
      await dispatcher.idle();
      total += performance.now() - t0;
    }
    await dispatcher.close();
    countOp = null;
    await store.close();
    drained = Math.ceil(N / USERS) * USERS;
    return (total * 1000) / drained;
  },
  'createApp().fetch(Request) + drains, in process (Hono, no socket)': async () => {
    const { store, prometheus } = await freshStore();
    const { config } = loadConfig({ WHATSAPP_APP_SECRET: APP_SECRET, CHATSTATE_STORE: 'memory:' });
    const app = createApp({
      store,
      config,
      bot: rememberBot,
      metrics: prometheus.runtime,
      verifySignature: verifyMetaSignatureNode,
      recoveryIntervalMs: 0,
    });
    const items = Array.from({ length: N }, nextBody);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const res = await app.fetch(
        new Request('http://127.0.0.1/webhooks/whatsapp', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': items[i].sig },
          body: items[i].raw,
        }),
      );
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }
    await app.dispatcher.idle();
    const us = ((performance.now() - t0) * 1000) / N;
    await app.drain();
    await store.close();
    return us;
  },
  'app.webhooks(), 64 deliveries in flight + drains, one inbox write per delivery': () => inFlight(false),
  'app.webhooks(), 64 deliveries in flight + drains, group commit (as chatstate serve)': () => inFlight(true),
};

/**
 * The receiver `chatstate serve` runs (app.webhooks: size, signature, parse, accept) with 64
 * deliveries outstanding, each arriving in its own event-loop turn as socket reads do, drains
 * included; no HTTP. CPU per message, so the machine's noise matters less than wall time.
 */
async function inFlight(groupCommit) {
  const { store, prometheus } = await freshStore();
  const { config } = loadConfig({ WHATSAPP_APP_SECRET: APP_SECRET, CHATSTATE_STORE: 'memory:' });
  const app = createApp({
    store,
    config,
    bot: rememberBot,
    metrics: prometheus.runtime,
    verifySignature: verifyMetaSignatureNode,
    recoveryIntervalMs: 0,
    groupCommit,
  });
  const items = Array.from({ length: N }, nextBody);
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const { raw, sig } = items[next++];
      await new Promise((resolve) => setImmediate(resolve));
      const answer = await app.webhooks('whatsapp', {
        header: (name) =>
          name === 'x-hub-signature-256' ? sig : name === 'content-length' ? String(raw.length) : null,
        body: async () => raw,
      });
      if (answer.status !== 200) throw new Error(`status ${answer.status}`);
    }
  };
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: 64 }, worker));
  await app.dispatcher.idle();
  const cpu = process.cpuUsage(cpu0);
  await app.drain();
  await store.close();
  return (cpu.user + cpu.system) / N;
}

let drained = 0;
const results = Object.fromEntries(Object.keys(pieces).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(pieces)) {
    if (!values.only || name.includes(values.only)) results[name].push(await run());
  }
  console.error(`[diag] round ${round + 1}/${ROUNDS} done`);
}
rmSync(tmp, { recursive: true, force: true });
console.log(
  markdownTable(
    ['Piece (one message per delivery)', 'us per message (median; the in-flight rows: CPU)', 'rounds'],
    Object.entries(results)
      .filter(([, list]) => list.length)
      .map(([name, list]) => [name, fmtNum(median(list)), list.map(fmtNum).join(' / ')]),
  ),
);
if (drained) {
  console.log('');
  console.log(
    markdownTable(
      ['Store call during the drain (sqlite; the inbox add is made by the ack)', 'calls per message'],
      [...calls].map(([op, n]) => [op, fmtNum(n / drained)]),
    ),
  );
}
