// How far chatstate's Redis transition is from the least its two scripts can cost, and from keyv,
// in one process against one server, rounds alternated. Four subjects, 64 in flight, 1,000 users:
//   store              chatstate's SessionStore on redis:// (the bench's transition)
//   scripts, ioredis   begin.lua + commit.lua of the same transition (claim, lease, cached-copy
//                      check, history, TTL, event) sent through the driver's own EVALSHA path on
//                      ioredis, arguments built by the driver's codec: no SessionStore, no session code
//   scripts, node-redis  the same two calls through node-redis (the client @keyv/redis uses)
//   keyv               keyv + @keyv/redis bare get + set (issue 3's peer)
// store minus "scripts, ioredis" is chatstate's own JavaScript; the two script rows differ by the
// client alone; "scripts" against keyv says whether the scripts' work leaves room to match keyv.
// Uses the built dist/ (`npm run build` first).
//
//   node bench/diag/redis-floors.mjs [--n 20000] [--rounds 5]

// How far chatstate's Redis transition is from the least its two scripts can cost, and from keyv,
// in one process against one server, rounds alternated. Four subjects, 64 in flight, 1,000 users:
//   store              chatstate's SessionStore on redis:// (the bench's transition)
//   scripts, ioredis   begin.lua + commit.lua of the same transition (claim, lease, cached-copy
//                      check, history, TTL, event) sent through the driver's own EVALSHA path on
//                      ioredis, arguments built by the driver's codec: no SessionStore, no session code
//   scripts, node-redis  the same two calls through node-redis (the client @keyv/redis uses)
//   keyv               keyv + @keyv/redis bare get + set (issue 3's peer)
// store minus "scripts, ioredis" is chatstate's own JavaScript; the two script rows differ by the
// client alone; "scripts" against keyv says whether the scripts' work leaves room to match keyv.
// Uses the built dist/ (`npm run build` first).
//
//   node bench/diag/redis-floors.mjs [--n 20000] [--rounds 5]
import KeyvRedis, { createClient } from '@keyv/redis';
import { Redis } from 'ioredis';
import Keyv from 'keyv';
import { openStore } from '../lib/chatstate.mjs';
import { redisDiag } from '../lib/redis-diag.mjs';
import { scriptTransition } from '../lib/script-transition.mjs';
import {
  CHATSTATE_OPTIONS,
  nextMessageId,
  SEED,
  SESSION_TTL_MS,
  stepHandler,
  stepPlain,
  userIds,
  writeSeed,
} from '../lib/workload.mjs';

const { LUA_SCRIPTS } = await import('../../dist/store/lua/generated/scripts.js');
const { sendScript } = await import('../../dist/store/drivers/redis-scripts.js');

const diag = await redisDiag({ n: 20000, rounds: 5 });
const users = userIds(1000);

const store = await openStore(diag.url, CHATSTATE_OPTIONS);
for (let i = 0; i < users.length; i += 64)
  await Promise.all(users.slice(i, i + 64).map((id) => store.transition(id, writeSeed)));

const keyv = new Keyv({ store: new KeyvRedis(diag.url) });
for (const id of users) await keyv.set(id, { ...SEED, id }, SESSION_TTL_MS);

const ioredis = new Redis(diag.url);
const nodeRedis = await createClient({ url: diag.url }).connect();

// The scripts rows keep their own sessions (prefixes `floor:` and `floor-nr:`), version and writer
// token per user, as the store's session copies do.
const floorScripts = { begin: LUA_SCRIPTS.begin, commit: LUA_SCRIPTS.commit };

const viaIoredis = (script, keys, args) => sendScript(ioredis, script, keys, args);
const viaNodeRedis = (script, keys, args) =>
  nodeRedis.sendCommand(['EVALSHA', script.sha1, String(keys.length), ...keys, ...args], {
    typeMapping: { 36: Buffer },
  });

const subjects = {
  store: async (id) => {
    const result = await store.transition(id, stepHandler, { claim: nextMessageId(id) });
    if (result.status !== 'committed') throw new Error(`transition was ${result.status}`);
  },
  'scripts, ioredis (driver path)': scriptTransition(viaIoredis, floorScripts, 'floor:'),
  'scripts, node-redis': scriptTransition(viaNodeRedis, floorScripts, 'floor-nr:'),
  'keyv + @keyv/redis bare get + set': async (id) => {
    const session = await keyv.get(id);
    await keyv.set(id, stepPlain(session, Date.now()), SESSION_TTL_MS);
  },
};

const run = (step, n) => diag.inFlight((worker, i) => step(users[(worker + 64 * i) % users.length]), n);
for (const step of Object.values(subjects)) await run(step, 3000);
const results = await diag.alternate(subjects, async (step) => {
  const m = await run(step, diag.n);
  return { rate: (diag.n / m.wallMs) * 1000, node: m.nodeUs / diag.n, server: m.serverUs / diag.n };
});

const keyvRates = results['keyv + @keyv/redis bare get + set'].map((row) => row.rate);
console.log(
  `64 in flight, ${diag.n.toLocaleString('en-US')} transitions per round, median of ${diag.rounds} rounds (rounds alternated).\n`,
);
diag.table(
  [
    'subject',
    'transitions/s',
    'vs keyv (median of per-round ratios)',
    'Node CPU us / transition',
    'redis-server CPU us / transition',
  ],
  Object.entries(results).map(([name, rows]) => {
    const m = (k) => diag.median(rows, k);
    const ratio = diag.median(
      rows.map((row, i) => ({ ratio: row.rate / keyvRates[i] })),
      'ratio',
    );
    return [
      name,
      Math.round(m('rate')).toLocaleString('en-US'),
      `${ratio.toFixed(2)}x`,
      m('node').toFixed(1),
      m('server').toFixed(1),
    ];
  }),
);
await store.close();
await keyv.disconnect();
ioredis.disconnect();
await nodeRedis.quit();
await diag.finish();
