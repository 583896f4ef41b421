// Splits a CPU profile of `chatstate serve` (bench/run-e2e.mjs --cpu-prof DIR) by the part of a
// message's life each sample belongs to: HTTP, verify + parse, inbox write, the drain (lease,
// begin, commit, inbox peek/remove), flow engine, outbound client, outbox update. A sample is
// charged to the frame nearest the leaf that names a part (better-sqlite3 and native frames count
// for their caller), so "inbox write" includes the SQLite work it triggered.
// usage: node bench/e2e/profile-parts.mjs <file.cpuprofile> [--messages N]  (N: messages processed, for us/message)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { markdownTable } from '../lib/table.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { messages: { type: 'string' } },
});
if (!positionals[0]) {
  console.error('usage: node bench/e2e/profile-parts.mjs <file.cpuprofile> [--messages N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const DIST = {
  'webhook/': 'ack: verify + parse (signature, decode, Cloud API payload)',
  'server/node-verify': 'ack: verify + parse (signature, decode, Cloud API payload)',
  'server/node-webhooks': 'ack: verify + parse (signature, decode, Cloud API payload)',
  'server/webhook-routes': 'ack: verify + parse (signature, decode, Cloud API payload)',
  'server/prometheus': 'metrics (prom-client)',
  'runtime/dispatcher': 'drain: dispatcher bookkeeping',
  'runtime/deliverer': 'outbound: Deliverer',
  'runtime/outbound': 'outbound: Deliverer',
  'runtime/bot': 'flow engine + bot',
  'flow/': 'flow engine + bot',
  'examples/': 'flow engine + bot',
  'channels/': 'outbound: Cloud API client + fetch (undici)',
  'store/session-store': 'drain: transition (session store, codec, patch)',
  'store/keyed-queue': 'drain: transition (session store, codec, patch)',
  'store/instrument': 'drain: transition (session store, codec, patch)',
  'session/': 'drain: transition (session store, codec, patch)',
};
const SQLITE_FN = {
  acquireLease: 'drain: lease acquire/release',
  releaseLease: 'drain: lease acquire/release',
  renewLease: 'drain: lease acquire/release',
  beginRead: 'drain: begin (claim check, session read)',
  begin: 'drain: begin (claim check, session read)',
  commit: 'drain: commit (session write, claim, outbox insert)',
};

// The SQLite driver's transactions are anonymous arrows: name a frame by the declaration it sits in.
const sourceLines = new Map();
function declaredName(url, line) {
  if (!sourceLines.has(url)) {
    try {
      sourceLines.set(url, readFileSync(new URL(url), 'utf8').split('\n'));
    } catch {
      sourceLines.set(url, []);
    }
  }
  const lines = sourceLines.get(url);
  for (let i = line; i >= 0 && i > line - 40; i--) {
    const m = /(?:const (\w+) = |^\s+(\w+): guard\()/.exec(lines[i] ?? '');
    if (m) return m[1] ?? m[2];
  }
  return '';
}
const SQLITE_DECL = {
  commitTx: 'drain: commit (session write, claim, outbox insert)',
  commit: 'drain: commit (session write, claim, outbox insert)',
  beginTx: 'drain: begin (claim check, session read)',
  beginRead: 'drain: begin (claim check, session read)',
  begin: 'drain: begin (claim check, session read)',
  acquireTx: 'drain: lease acquire/release',
  acquireLease: 'drain: lease acquire/release',
  releaseLease: 'drain: lease acquire/release',
  extendLease: 'drain: lease acquire/release',
  claimTx: 'drain: begin (claim check, session read)',
  claimed: 'drain: commit (session write, claim, outbox insert)',
};

function part(frame) {
  const { url, functionName, lineNumber } = frame.callFrame;
  if (!url) return null;
  if (url.includes('/dist/') && !url.includes('/node_modules/')) {
    const path = url.slice(url.indexOf('/dist/') + 6);
    if (path.startsWith('store/drivers/sqlite-inbox')) {
      if (/peek/i.test(functionName)) return 'drain: inbox peek';
      if (/remove|delete/i.test(functionName)) return 'drain: inbox remove';
      return 'ack: inbox write (group commit)';
    }
    if (path.startsWith('store/drivers/sqlite-outbox')) {
      if (functionName === 'insert') return 'drain: commit (session write, claim, outbox insert)';
      return 'outbound: outbox update after the send';
    }
    if (path.startsWith('store/drivers/sqlite')) {
      const name = SQLITE_FN[functionName] ?? SQLITE_DECL[declaredName(url, lineNumber)];
      // The guard wrapper and helpers say nothing: charge the caller.
      return name ?? null;
    }
    for (const [prefix, name] of Object.entries(DIST)) if (path.startsWith(prefix)) return name;
    return `other chatstate: ${path}`;
  }
  if (/undici|webstreams|abort_controller|js_transferable|internal\/fetch/.test(url))
    return 'outbound: Cloud API client + fetch (undici)';
  if (url.includes('/msgpackr/')) return 'drain: transition (session store, codec, patch)';
  if (url.includes('/prom-client/')) return 'metrics (prom-client)';
  if (url.includes('/pino')) return 'logging (pino)';
  if (url.includes('/hono/') || url.includes('@hono')) return 'HTTP: Hono (metrics, admin routes)';
  return null;
}

function classify(leaf) {
  const fn = leaf.callFrame.functionName;
  if (['(garbage collector)', '(idle)', '(program)'].includes(fn)) return fn;
  let http = false;
  for (let n = leaf; n; n = nodes.get(parent.get(n.id))) {
    const p = part(n);
    if (p) return p;
    if (
      /node:(_http|net|stream|internal\/streams|internal\/stream_base|internal\/http)/.test(n.callFrame.url)
    )
      http = true;
  }
  return http ? 'HTTP: node:http server, sockets' : 'Node internals (promises, timers, other)';
}

const byPart = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i + 1] ?? 0;
  const p = classify(nodes.get(profile.samples[i]));
  byPart.set(p, (byPart.get(p) ?? 0) + us);
  total += us;
}
const busy = total - (byPart.get('(idle)') ?? 0);
const messages = values.messages ? Number(values.messages) : null;
console.log(`profile: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle\n`);
console.log(
  markdownTable(
    ['part', 'share of busy time', ...(messages ? ['us per message'] : [])],
    [...byPart]
      .filter(([p]) => p !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([p, us]) => [
        p,
        `${((100 * us) / busy).toFixed(1)}%`,
        ...(messages ? [(us / messages).toFixed(0)] : []),
      ]),
  ),
);
