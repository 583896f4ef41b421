// What redis-server spends on one script call, by what the call carries: a script that does
// nothing with 5 or 35 arguments (the ARGV count of chatstate's commit is about 30), and the two
// ways to record a transition claim: a key per claim (EXISTS, then SET NX PX with a 7-day TTL, as
// commit.lua does) against one sorted set per user (ZSCORE, ZADD, ZREMRANGEBYSCORE of expired
// members, PEXPIREAT). 64 calls in flight from ioredis with enableAutoPipelining (so the client's
// writes do not dominate), 1,000 users, a fresh message id per call.
//
//   node bench/diag/redis-script-costs.mjs [--n 30000] [--rounds 3]
//
// Per variant: INFO commandstats usec per EVALSHA (time executing the script) and INFO cpu of
// redis-server per call (parsing, networking included). Medians over rounds; docs/redis.md.
import { Redis } from 'ioredis';
import { redisDiag } from '../lib/redis-diag.mjs';

const diag = await redisDiag({ n: 30000 });
const { admin } = diag;
const client = new Redis(diag.url, { enableAutoPipelining: true });
const evalsha = async () => {
  const m = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(await admin.info('commandstats'));
  return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
};

const WEEK = 7 * 86_400_000;
const filler = (n) => Array.from({ length: n - 1 }, (_, i) => `argument${i}`);
const variants = {
  'nothing, 4 keys + 5 arguments': {
    body: 'return 1',
    call: (user, msg) => [
      [`{${user}}`, `{${user}}:h`, `{${user}}:l`, `{${user}}:c:${msg}`],
      [msg, ...filler(5)],
    ],
  },
  'nothing, 4 keys + 35 arguments': {
    body: 'return 1',
    call: (user, msg) => [
      [`{${user}}`, `{${user}}:h`, `{${user}}:l`, `{${user}}:c:${msg}`],
      [msg, ...filler(35)],
    ],
  },
  'claim as a key: EXISTS + SET NX PX': {
    body: `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], '1', 'NX', 'PX', ${WEEK}) return 1`,
    call: (user, msg) => [[`{${user}}:c:${msg}`], []],
  },
  'claim in a sorted set: ZSCORE + ZADD + ZREMRANGEBYSCORE + PEXPIREAT': {
    body: `local now = tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return 0 end
redis.call('ZADD', KEYS[1], now + ${WEEK}, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIREAT', KEYS[1], now + ${WEEK}) return 1`,
    call: (user, msg) => [[`{${user}}:c`], [msg, String(Date.now())]],
  },
};

const users = Array.from({ length: 1000 }, (_, i) => `cs:${12025550123 + i}`);
let seq = 0;
async function round(variant, sha, n) {
  const e0 = await evalsha();
  const r = await diag.inFlight((worker, i) => {
    const user = users[(worker + 64 * i) % users.length];
    const msg = `wamid.HBgL${user.slice(3)}FQIAEhgU${(seq++).toString(16).toUpperCase().padStart(8, '0')}A==`;
    const [keys, argv] = variant.call(user, msg);
    return client.evalsha(sha, keys.length, ...keys, ...argv);
  }, n);
  const e1 = await evalsha();
  const calls = e1.calls - e0.calls;
  return { usec: (e1.usec - e0.usec) / calls, cpu: r.serverUs / calls };
}

const results = await diag.alternate(variants, async (variant) => {
  const sha = await admin.script('LOAD', variant.body);
  return round(variant, sha, diag.n);
});
console.log(
  `64 in flight, ${diag.n.toLocaleString('en-US')} calls per round, median of ${diag.rounds} rounds.\n`,
);
diag.table(
  ['script call', 'executing (commandstats usec / call)', 'redis-server CPU us / call'],
  Object.entries(results).map(([name, rows]) => {
    const m = (k) => diag.median(rows, k);
    return [name, m('usec').toFixed(2), m('cpu').toFixed(2)];
  }),
);
client.disconnect();
await diag.finish();
