// What one Redis command costs Node with each client, 64 in flight on one connection: ioredis
// (chatstate's client), ioredis with enableAutoPipelining, and node-redis (@redis/client, the
// client @keyv/redis uses, imported through it). Two workloads per client: GET + SET of a 167-byte
// value (keyv's bare read-modify-write without keyv), and two EVALSHA of a script doing one GET
// with 4 keys and 3 arguments (the shape of chatstate's begin + commit, without their work).
//
//   node bench/diag/redis-clients.mjs [--n 20000] [--rounds 3]
//
// Per client, workload and round: process.cpuUsage() of Node and INFO cpu of redis-server per
// pair of commands. Medians over rounds. docs/redis.md ("What limits the rate now") reads them.
import { createClient } from '@keyv/redis';
import { Redis } from 'ioredis';
import { redisDiag } from '../lib/redis-diag.mjs';

const diag = await redisDiag({ n: 20000 });
const { admin, url } = diag;
const ioredis = new Redis(url);
const pipelined = new Redis(url, { enableAutoPipelining: true });
const nodeRedis = await createClient({ url: url }).connect();

const KEYS = 1000;
const blob = Buffer.alloc(167, 7);
for (let i = 0; i < KEYS; i++) await admin.set(`diag:${i}`, blob);
const sha = await admin.script('LOAD', "redis.call('GET', KEYS[1]) return 1");
const keysOf = (k) => [k, `${k}:h`, `${k}:l`, `${k}:c`];
const PX = 86_400_000;
const subjects = {
  'ioredis: GET + SET PX': async (k) => {
    const b = await ioredis.getBuffer(k);
    await ioredis.set(k, b, 'PX', PX);
  },
  'ioredis, enableAutoPipelining: GET + SET PX': async (k) => {
    const b = await pipelined.getBuffer(k);
    await pipelined.set(k, b, 'PX', PX);
  },
  'node-redis: GET + SET PX': async (k) => {
    const b = await nodeRedis.get(k);
    await nodeRedis.set(k, b, { PX });
  },
  'ioredis: 2 x EVALSHA (4 keys, 3 args)': async (k) => {
    await ioredis.evalsha(sha, 4, ...keysOf(k), 'a', 'b', 'c');
    await ioredis.evalsha(sha, 4, ...keysOf(k), 'a', 'b', 'c');
  },
  'node-redis: 2 x EVALSHA (4 keys, 3 args)': async (k) => {
    await nodeRedis.evalSha(sha, { keys: keysOf(k), arguments: ['a', 'b', 'c'] });
    await nodeRedis.evalSha(sha, { keys: keysOf(k), arguments: ['a', 'b', 'c'] });
  },
};

async function round(step, n) {
  const r = await diag.inFlight((worker, i) => step(`diag:${(worker + 64 * i) % KEYS}`), n);
  return { rate: (n / r.wallMs) * 1000, node: r.nodeUs / n, server: r.serverUs / n };
}

const results = await diag.alternate(subjects, async (step) => {
  await round(step, 2000);
  return round(step, diag.n);
});
console.log(
  `64 in flight, ${diag.n.toLocaleString('en-US')} pairs per round, median of ${diag.rounds} rounds.\n`,
);
diag.table(
  ['client: pair of commands', 'pairs/s', 'Node CPU us / pair', 'redis-server CPU us / pair'],
  Object.entries(results).map(([name, rows]) => {
    const m = (k) => diag.median(rows, k);
    return [
      name,
      Math.round(m('rate')).toLocaleString('en-US'),
      m('node').toFixed(1),
      m('server').toFixed(1),
    ];
  }),
);
ioredis.disconnect();
pipelined.disconnect();
await nodeRedis.quit();
await diag.finish();
