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
import { parseArgs } from 'node:util';
import { createClient } from '@keyv/redis';
import { Redis } from 'ioredis';
import { redisServerCpuUs } from '../lib/server-stats.mjs';
import { sharedRedis, stopSharedServers } from '../lib/servers.mjs';
import { median } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: { n: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } },
});
const N = Number(args.n);
const server = await sharedRedis();
if (server.skipped) {
  console.log(`skipped: ${server.skipped}`);
  process.exit(0);
}
const admin = new Redis(server.url);
const ioredis = new Redis(server.url);
const pipelined = new Redis(server.url, { enableAutoPipelining: true });
const nodeRedis = await createClient({ url: server.url }).connect();
const serverCpu = () => redisServerCpuUs(admin);

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
  let issued = 0;
  const c0 = process.cpuUsage();
  const s0 = await serverCpu();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async (_, w) => {
      for (let i = 0; issued < n; i++) {
        issued++;
        await step(`diag:${(w + 64 * i) % KEYS}`);
      }
    }),
  );
  const wall = performance.now() - t0;
  const s1 = await serverCpu();
  const c = process.cpuUsage(c0);
  return { rate: (n / wall) * 1000, node: (c.user + c.system) / n, server: (s1 - s0) / n };
}

const results = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
for (let r = 0; r < Number(args.rounds); r++) {
  for (const [name, step] of Object.entries(subjects)) {
    await round(step, 2000);
    results[name].push(await round(step, N));
  }
}
console.log(`64 in flight, ${N.toLocaleString('en-US')} pairs per round, median of ${args.rounds} rounds.\n`);
console.log('| client: pair of commands | pairs/s | Node CPU us / pair | redis-server CPU us / pair |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, rows] of Object.entries(results)) {
  const m = (k) => median(rows.map((row) => row[k]));
  console.log(
    `| ${name} | ${Math.round(m('rate')).toLocaleString('en-US')} | ${m('node').toFixed(1)} | ${m('server').toFixed(1)} |`,
  );
}
await admin.flushall();
admin.disconnect();
ioredis.disconnect();
pipelined.disconnect();
await nodeRedis.quit();
await stopSharedServers();
