// How much of redis-server's work in chatstate's Redis transition each part of the two scripts
// costs, and how much is the two script calls themselves. The bench's transition (claim, lease,
// cached-copy check, fields, history, TTL, event), sent as the driver sends it (its EVALSHA path on
// ioredis, arguments built by its codec), 64 in flight over 1,000 users, with variants of
// begin.lua + commit.lua that each leave one part out:
//   as shipped
//   without the lease        no SET NX PX in begin, no GET check and no DEL release in commit
//   without the claim        no EXISTS in begin, no SET NX PX in commit
//   without the event        no PUBLISH
//   both return at once      the same keys and arguments, no command run: the cost of the two calls
// and, for scale, the peer's two commands: GET + SET PX of the session as one JSON string (what
// keyv + @keyv/redis sends; ioredis with auto-pipelining, which writes once per tick as node-redis does).
// A variant without a part is not a correct store: it bounds what dropping or moving that part
// could save (docs/redis.md, "What limits the rate now", its session 15 part).
//
// Every variant runs once over all users before it is measured, so each measured transition takes
// the common path (a kept session copy still current), as in `npm run bench`.
//
//   node bench/diag/redis-script-floor.mjs [--n 20000] [--rounds 3]
//     redis-server CPU per transition (INFO cpu), rounds alternated, medians: moves with the host.
//   node bench/diag/redis-script-floor.mjs --callgrind [--n 2000]
//     redis-server runs under valgrind's callgrind; instructions per transition, which the host's
//     noise does not move (repeats agreed within 0.5%). Needs valgrind; about 25 s.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { scriptTransition } from '../lib/script-transition.mjs';
import { redisServerCpuUs } from '../lib/server-stats.mjs';
import { missingPrograms, sharedRedis, startRedis, stopSharedServers } from '../lib/servers.mjs';
import { median } from '../lib/stats.mjs';
import { SESSION_TTL_MS, userIds } from '../lib/workload.mjs';

const { LUA_SCRIPTS } = await import('../../dist/store/lua/generated/scripts.js');
const { sendScript } = await import('../../dist/store/drivers/redis-scripts.js');

const { values } = parseArgs({
  options: {
    n: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    callgrind: { type: 'boolean', default: false },
  },
});
const callgrind = values.callgrind;
const n = Number(values.n ?? (callgrind ? 2000 : 20000));
const rounds = callgrind ? 1 : Number(values.rounds);

/** `source` with `from` replaced by `to`; throws when `from` is not there (the scripts changed). */
function without(source, from, to = '') {
  if (!source.includes(from)) throw new Error(`the script no longer contains:\n${from}`);
  return source.replace(from, to);
}

const BEGIN = LUA_SCRIPTS.begin.source;
const COMMIT = LUA_SCRIPTS.commit.source;
/** The text of `source` from `from` up to `to` (not included); throws when either is not there. */
function between(source, from, to) {
  const start = source.indexOf(from);
  const end = source.indexOf(to, start);
  if (start < 0 || end < 0) throw new Error(`the script no longer contains:\n${start < 0 ? from : to}`);
  return source.slice(start, end);
}

const BEGIN_LEASE = between(
  BEGIN,
  "  if not redis.call('SET', KEYS[3]",
  "elseif ARGV[6] and redis.call('GET', KEYS[3])",
);
const variants = {
  'as shipped': [BEGIN, COMMIT],
  'without the lease': [
    without(BEGIN, BEGIN_LEASE),
    without(
      without(COMMIT, "if ARGV[2] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[2] then\n  return {2}\nend\n"),
      "  redis.call('DEL', KEYS[3])\n",
    ),
  ],
  'without the claim': [
    without(BEGIN, "if ARGV[1] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then", 'if false then'),
    without(
      COMMIT,
      "if ARGV[4] ~= '' and not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[4]) then",
      'if false then',
    ),
  ],
  'without the event': [
    BEGIN,
    without(
      COMMIT,
      "  if ARGV[10] ~= '' then\n    redis.call('PUBLISH'",
      "  if false then\n    redis.call('PUBLISH'",
    ),
  ],
  'both return at once': ["return {4, '1'}", 'return {0}'],
};

const server = callgrind ? await startUnderCallgrind() : await sharedRedis();
if (server.skipped) {
  console.log(`skipped: ${server.skipped}`);
  process.exit(0);
}
const client = new Redis(server.url);
const admin = new Redis(server.url);
const script = (source) => ({ source, sha1: createHash('sha1').update(source).digest('hex') });
const loaded = {};
for (const [name, [begin, commit]] of Object.entries(variants)) {
  loaded[name] = [script(begin), script(commit)];
  await admin.script('LOAD', begin);
  await admin.script('LOAD', commit);
}

const users = userIds(1000);
const send = (script, keys, args) => sendScript(client, script, keys, args);

/** `count` transitions, 64 in flight, each worker on its own users in turn. */
async function inFlight(step, count) {
  let issued = 0;
  await Promise.all(
    Array.from({ length: 64 }, async (_, worker) => {
      for (let i = 0; issued < count; i++) {
        issued++;
        await step(users[(worker + 64 * i) % users.length]);
      }
    }),
  );
}

const steps = Object.fromEntries(
  Object.keys(variants).map((name, i) => {
    const [begin, commit] = loaded[name];
    return [name, scriptTransition(send, { begin, commit }, `floor${i}:`)];
  }),
);
const PEER = 'peer: GET + SET PX of a JSON string';
const pipelined = new Redis(server.url, { enableAutoPipelining: true });
const blob = JSON.stringify({
  value: { id: '', step: 'awaiting_email', retries: 0, vars: { d: 25 } },
  expires: 0,
});
steps[PEER] = async (id) => {
  const key = `peer:${id}`;
  const value = await pipelined.get(key);
  await pipelined.set(key, value ?? blob, 'PX', SESSION_TTL_MS);
};
for (const step of Object.values(steps)) await inFlight(step, users.length);

const results = Object.fromEntries(Object.keys(steps).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, step] of Object.entries(steps)) {
    const before = callgrind ? await server.zero() : await redisServerCpuUs(admin);
    await inFlight(step, n);
    const after = callgrind ? await server.instructions() : await redisServerCpuUs(admin);
    results[name].push((after - before) / n);
  }
}

const unit = callgrind ? 'redis-server instructions / transition' : 'redis-server CPU us / transition';
const shipped = median(results['as shipped']);
console.log(
  `64 in flight, 1,000 users, ${n.toLocaleString('en-US')} transitions per ${callgrind ? 'variant (redis-server under callgrind)' : `round, median of ${rounds} rounds (rounds alternated)`}.\n`,
);
console.log(`| variant | ${unit} | of as shipped |`);
console.log('| --- | ---: | ---: |');
for (const [name, list] of Object.entries(results)) {
  const m = median(list);
  const cell = callgrind ? `${(m / 1000).toFixed(1)}k` : m.toFixed(1);
  console.log(`| ${name} | ${cell} | ${((100 * m) / shipped).toFixed(0)}% |`);
}

client.disconnect();
pipelined.disconnect();
await admin.flushall();
admin.disconnect();
if (callgrind) await server.stop();
else await stopSharedServers();

/** redis-server under valgrind's callgrind on a free port: { url, zero(), instructions(), stop() }. */
async function startUnderCallgrind() {
  const missing = missingPrograms('valgrind', 'callgrind_control', 'redis-server');
  if (missing) return { skipped: missing };
  const redis = await startRedis({
    wrap: (dir) => ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.%p')}`],
  });
  const control = (flag) => {
    const r = spawnSync('callgrind_control', [flag, String(redis.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`callgrind_control ${flag}: ${r.stderr || r.stdout}`);
  };
  return {
    url: redis.url,
    stop: redis.stop,
    zero: async () => {
      control('-z');
      return 0;
    },
    /** Instructions counted since the last zero: the totals of the dump written now (cg.<pid>.<n>, the newest has the highest n). */
    instructions: async () => {
      control('-d');
      const dumps = readdirSync(redis.dir).filter((f) => f.startsWith('cg.'));
      dumps.sort((a, b) => a.length - b.length || a.localeCompare(b, 'en', { numeric: true }));
      const text = readFileSync(join(redis.dir, dumps[dumps.length - 1]), 'utf8');
      const m = /^(?:totals|summary): (\d+)/m.exec(text);
      if (!m) throw new Error('no totals in the callgrind dump');
      return Number(m[1]);
    },
  };
}
