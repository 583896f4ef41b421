// The webhook drain's bursts on Redis: several messages of one user handled under one lease
// (`store.withLease` + `transition(..., { lease })`, as src/runtime/dispatcher.ts does). Five
// transitions of the bench's step per lease, 64 in flight, 1,000 users; per transition: rate,
// Node CPU, redis-server CPU and the commands run inside the scripts (INFO commandstats, EVALSHA
// and EVAL themselves not counted). Uses the built dist/ (`npm run build` first).
//
//   node bench/diag/redis-bursts.mjs [--n 3000] [--rounds 3]     (n: bursts per round)
//
// docs/redis.md ("What limits the rate now") compares this build with the one before held leases
// used the read cache (now the store's session copies).
import { openStore } from '../lib/chatstate.mjs';
import { redisDiag } from '../lib/redis-diag.mjs';
import { CHATSTATE_OPTIONS, nextMessageId, stepHandler, userIds, writeSeed } from '../lib/workload.mjs';

const BURST = 5;
const diag = await redisDiag({ n: 3000 });
const store = await openStore(diag.url, CHATSTATE_OPTIONS);
const users = userIds(1000);
for (let i = 0; i < users.length; i += 64)
  await Promise.all(users.slice(i, i + 64).map((id) => store.transition(id, writeSeed)));

const commandsInScripts = async () => {
  let n = 0;
  for (const m of (await diag.admin.info('commandstats')).matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm))
    if (!['info', 'evalsha', 'eval'].includes(m[1])) n += Number(m[2]);
  return n;
};

async function round(bursts) {
  const k0 = await commandsInScripts();
  const r = await diag.inFlight(async (worker, i) => {
    const user = users[(worker + 64 * i) % users.length];
    await store.withLease(user, async (lease) => {
      for (let j = 0; j < BURST; j++) {
        const result = await store.transition(user, stepHandler, { lease, claim: nextMessageId(user) });
        if (result.status !== 'committed') throw new Error(`transition was ${result.status}`);
      }
    });
  }, bursts);
  const n = bursts * BURST;
  const commands = (await commandsInScripts()) - k0;
  return { rate: (n / r.wallMs) * 1000, node: r.nodeUs / n, server: r.serverUs / n, commands: commands / n };
}

await round(500);
const rows = [];
for (let r = 0; r < diag.rounds; r++) rows.push(await round(diag.n));
await store.close();
await diag.finish();
const m = (k) => diag.median(rows, k);
console.log(
  `${BURST} transitions per lease, 64 leases in flight, ${diag.n} per round, median of ${diag.rounds} rounds.\n`,
);
console.log(
  '| transitions/s | Node CPU us / transition | redis-server CPU us / transition | commands in scripts / transition |',
);
console.log('| ---: | ---: | ---: | ---: |');
console.log(
  `| ${Math.round(m('rate')).toLocaleString('en-US')} | ${m('node').toFixed(1)} | ${m('server').toFixed(1)} | ${m('commands').toFixed(1)} |`,
);
