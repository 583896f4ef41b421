// Where a Redis transition's time goes at 64 in flight: CPU of this Node process vs CPU of
// redis-server, per transition, for chatstate and the Redis peers (the same subject files as
// `npm run bench`).
//
//   node bench/diag/redis-cpu.mjs [--subjects redis,keyv-redis,redis-json,floor-redis-lua] [--n 20000] [--rounds 3]
//
// Per subject and round: N transitions with 64 in flight; wall time, process.cpuUsage() of Node,
// INFO cpu (used_cpu_user + used_cpu_sys) of redis-server and INFO commandstats usec (time spent
// executing commands, scripts included). On 2 cores, two busy processes each get about one core,
// so whichever side spends more CPU per transition sets the transitions/s. Medians over rounds.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { concurrent, warmUp } from '../lib/measure.mjs';
import { redisServerCpuUs } from '../lib/server-stats.mjs';
import { sharedRedis, stopSharedServers } from '../lib/servers.mjs';
import { median } from '../lib/stats.mjs';
import { userIds } from '../lib/workload.mjs';

const { values: args } = parseArgs({
  options: {
    subjects: { type: 'string', default: 'redis,keyv-redis,redis-json,redis-getset,floor-redis-lua' },
    n: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(args.n);
const names = args.subjects.split(',');
const users = userIds(1000);

// chatstate variants, to see what each part of a transition costs (not options the figure uses):
//   redis:autopipeline  the same store on an adopted ioredis client with enableAutoPipelining (the
//                       commands of one tick go out in one write; the driver's own client writes
//                       each command with its own syscall)
//   redis:events=0      no PUBLISH (and no cjson.encode) in commit.lua
//   redis:nolease       transition(..., { lease: false }): no lease GET/TIME/SET and release
//   redis:noclaim       no claim: no EXISTS in begin, no claim SET in commit
const VARIANTS = {
  'redis:autopipeline': { label: 'chatstate redis://, ioredis enableAutoPipelining', autopipeline: true },
  'redis:events=0': { label: 'chatstate redis://?events=0', query: '?events=0' },
  'redis:nolease': { label: 'chatstate redis://, lease: false', options: { lease: false } },
  'redis:noclaim': { label: 'chatstate redis://, no claim', noClaim: true },
};

async function variant(name) {
  const v = VARIANTS[name];
  const { openStore, SessionStore } = await import('../lib/chatstate.mjs');
  const { seedUsers } = await import('../lib/chatstate-subject.mjs');
  const { CHATSTATE_OPTIONS, stepHandler } = await import('../lib/workload.mjs');
  return {
    label: v.label,
    async setup({ users: ids }) {
      const url = (await sharedRedis()).url;
      let store;
      if (v.autopipeline) {
        const { redisDriver } = await import('../../dist/store/drivers/redis.js');
        // ioredis 5 drops the command name when call()/callBuffer() goes through auto-pipelining
        // (the pipeline gets callBuffer(sha, ...) and sends the SHA as the command), so route the
        // driver's callBuffer('evalsha', ...) to evalshaBuffer(...), which pipelines correctly.
        class AutoPipelined extends Redis {
          callBuffer(command, ...rest) {
            if (command === 'evalsha') return this.evalshaBuffer(...rest);
            if (command === 'eval') return this.evalBuffer(...rest);
            return super.callBuffer(command, ...rest);
          }
        }
        const client = new AutoPipelined(url, { enableAutoPipelining: true, maxRetriesPerRequest: 0 });
        const driver = await redisDriver({ client });
        store = new SessionStore(driver, CHATSTATE_OPTIONS, driver.prefix);
        store.adopted = client;
      } else {
        store = await openStore(`${url}${v.query ?? ''}`, CHATSTATE_OPTIONS);
      }
      await seedUsers(store, ids, { lease: true });
      return { store };
    },
    async transition(ctx, userId, msgId) {
      const opts = { ...(v.noClaim ? {} : { claim: msgId }), ...v.options };
      const result = await ctx.store.transition(userId, stepHandler, opts);
      if (result.status !== 'committed') throw new Error(`${name}: ${result.status}`);
    },
    async teardown(ctx) {
      await ctx.store.close();
      ctx.store.adopted?.disconnect();
    },
  };
}

async function load(name) {
  if (VARIANTS[name]) return variant(name);
  for (const dir of ['stores', 'peers']) {
    try {
      return (await import(new URL(`../${dir}/${name}.mjs`, import.meta.url).href)).default;
    } catch (error) {
      if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error(`no subject ${name}`);
}

const server = await sharedRedis();
if (server.skipped) {
  console.log(`skipped: ${server.skipped}`);
  process.exit(0);
}
const admin = new Redis(server.url);
const serverCpu = () => redisServerCpuUs(admin);
const commandUsec = async () =>
  [...(await admin.info('commandstats')).matchAll(/^cmdstat_(\S+?):calls=\d+,usec=(\d+)/gm)]
    .filter((m) => m[1] !== 'info')
    .reduce((n, m) => n + Number(m[2]), 0);

const rows = [];
const entries = [];
for (const name of names) {
  const subject = await load(name);
  const ctx = await subject.setup({ users, tmp: () => '' });
  await warmUp(subject, ctx, users, { count: 5000, budgetMs: 10_000 });
  entries.push({ name, subject, ctx, rounds: [] });
}
for (let round = 0; round < Number(args.rounds); round++) {
  for (const e of entries) {
    const c0 = process.cpuUsage();
    const [s0, u0] = [await serverCpu(), await commandUsec()];
    const r = await concurrent(e.subject, e.ctx, users, { iterations: N, budgetMs: 60_000, concurrency: 64 });
    const [s1, u1] = [await serverCpu(), await commandUsec()];
    const c1 = process.cpuUsage(c0);
    e.rounds.push({
      tps: r.opsPerSec,
      nodeUs: (c1.user + c1.system) / r.n,
      serverUs: (s1 - s0) / r.n,
      commandUs: (u1 - u0) / r.n,
    });
    console.error(`[redis-cpu] round ${round + 1} ${e.name}: ${Math.round(r.opsPerSec)}/s`);
  }
}
for (const e of entries) {
  await e.subject.teardown(e.ctx);
  const m = (k) => median(e.rounds.map((r) => r[k]));
  rows.push([e.subject.label, m('tps'), m('nodeUs'), m('serverUs'), m('commandUs')]);
}
admin.disconnect();
await stopSharedServers();

const f = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
console.log(
  `64 in flight, ${N.toLocaleString('en-US')} transitions per round, median of ${args.rounds} rounds.\n`,
);
console.log(
  '| subject | transitions/s | Node CPU us / transition | redis-server CPU us / transition | of which executing commands (commandstats usec) |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [label, tps, node, srv, cmd] of rows)
  console.log(`| ${label} | ${f(tps)} | ${f(node)} | ${f(srv)} | ${f(cmd)} |`);

// Server side of one chatstate transition: SLOWLOG at threshold 0 times every top-level command
// (each EVALSHA, scripts included), INFO commandstats the commands inside them.
if (names.includes('redis')) {
  const server2 = await (await import('../lib/servers.mjs')).startRedis();
  const r = new Redis(server2.url);
  const { openStore } = await import('../lib/chatstate.mjs');
  const { seedUsers } = await import('../lib/chatstate-subject.mjs');
  const { CHATSTATE_OPTIONS } = await import('../lib/workload.mjs');
  const { LUA_SCRIPTS } = await import('../../dist/store/lua/generated/scripts.js');
  const store = await openStore(server2.url, CHATSTATE_OPTIONS);
  await seedUsers(store, users, { lease: true });
  const subject = await load('redis');
  const ctx = { store };
  await warmUp(subject, ctx, users, { count: 5000, budgetMs: 20_000 });
  const T = 1000;
  await r.config('SET', 'slowlog-log-slower-than', '0');
  await r.config('SET', 'slowlog-max-len', String(4 * T));
  await r.call('SLOWLOG', 'RESET');
  await r.config('RESETSTAT');
  const { untimed } = await import('../lib/measure.mjs');
  await untimed(subject, ctx, users, T);
  const log = await r.call('SLOWLOG', 'GET', String(4 * T));
  const stats = await r.info('commandstats');
  await store.close();
  r.disconnect();
  await server2.stop();
  const bySha = { begin: [], commit: [] };
  for (const [, , us, argv] of log) {
    const sha = String(argv[1]);
    if (sha === LUA_SCRIPTS.begin.sha1) bySha.begin.push(us);
    else if (sha === LUA_SCRIPTS.commit.sha1) bySha.commit.push(us);
  }
  console.log(
    `\nServer time of one chatstate transition (one at a time, ${T} transitions, SLOWLOG threshold 0):\n`,
  );
  console.log(`- begin.lua: median ${median(bySha.begin)} us; commit.lua: median ${median(bySha.commit)} us`);
  console.log('\n| command (inside the scripts) | calls / transition | usec / call | usec / transition |');
  console.log('| --- | ---: | ---: | ---: |');
  const cmds = [...stats.matchAll(/^cmdstat_(\S+?):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/gm)]
    .filter((m) => !['evalsha', 'info', 'config', 'slowlog'].includes(m[1].split('|')[0]))
    .map((m) => [m[1], Number(m[2]) / T, Number(m[4]), Number(m[3]) / T])
    .sort((x, y) => y[3] - x[3]);
  for (const [name, calls, per, total] of cmds)
    console.log(`| ${name} | ${f(calls)} | ${f(per)} | ${f(total)} |`);
}
