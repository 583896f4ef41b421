// Where a stored seed session's bytes go in Redis, and what each layout change would save.
//
//   node bench/diag/redis-memory.mjs [--sessions 100000]
//
// (dist/ must exist: `npm run build`.) Every row runs on a fresh redis-server started on a free
// port (bench/lib/servers.mjs) and stores N sessions: row 1 through chatstate's store.transition
// (the seed mapping of docs/benchmarks.md, no lease, no claim), the others with HSET + PEXPIREAT
// (pipelined) of the same hash with one change each, so each row isolates one change. Per row:
// used_memory delta / N, MEMORY STATS' split (keyspace dict + expires dict bucket arrays, the rest
// = dataset), MEMORY USAGE … SAMPLES 0 of one session and the listpack's own length, computed from
// the fields with the listpack encoding rules (and checked against MEMORY USAGE).
// Prints markdown. Not run by `npm run bench` (it takes a minute per 100,000-session row).

import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { openStore } from '../lib/chatstate.mjs';
import { seedUsers } from '../lib/chatstate-subject.mjs';
import { settleRedis } from '../lib/server-stats.mjs';
import { startRedis } from '../lib/servers.mjs';
import { CHATSTATE_OPTIONS, userIds } from '../lib/workload.mjs';

const { values: args } = parseArgs({ options: { sessions: { type: 'string', default: '100000' } } });
const N = Number(args.sessions);
const NOW = Date.now();
const TTL = 86_400_000;
const GRACE = 60_000;

// ---- listpack length (Redis 7.0 listpack.c) ----------------------------------------------------------

/** Bytes one listpack entry takes: encoding + data + backlen. Integers are stored as integers. */
function entryBytes(value) {
  const s = String(value);
  let body;
  if (/^(0|-?[1-9][0-9]*)$/.test(s) && s.length <= 20 && BigInt(s) >= -(2n ** 63n) && BigInt(s) < 2n ** 63n) {
    const v = BigInt(s);
    if (v >= 0n && v <= 127n) body = 1;
    else if (v >= -4096n && v <= 4095n) body = 2;
    else if (v >= -32768n && v <= 32767n) body = 3;
    else if (v >= -8388608n && v <= 8388607n) body = 4;
    else if (v >= -2147483648n && v <= 2147483647n) body = 5;
    else body = 9;
  } else {
    const len = Buffer.byteLength(s);
    body = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  }
  const backlen = body <= 127 ? 1 : body < 16383 ? 2 : 3;
  return body + backlen;
}

/** Total listpack bytes for a flat [field, value, …] list: 6-byte header + entries + end byte. */
const listpackBytes = (flat) => 7 + flat.reduce((n, x) => n + entryBytes(x), 0);

/** jemalloc's small size classes (what an allocation of n bytes really takes). */
function sizeClass(n) {
  const classes = [8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512];
  return classes.find((c) => c >= n) ?? n;
}

// ---- measuring --------------------------------------------------------------------------------------

const used = async (r) => Number(/^used_memory:(\d+)/m.exec(await r.info('memory'))?.[1]);

/** MEMORY STATS as an object (nested db.0 flattened). */
async function memoryStats(r) {
  const flat = await r.call('MEMORY', 'STATS');
  const out = {};
  for (let i = 0; i < flat.length; i += 2) {
    const v = flat[i + 1];
    if (Array.isArray(v)) for (let j = 0; j < v.length; j += 2) out[`${flat[i]}.${v[j]}`] = Number(v[j + 1]);
    else out[flat[i]] = Number(v);
  }
  return out;
}

async function measure(label, { write, keyOf, note = '' }) {
  const server = await startRedis();
  const r = new Redis(server.url);
  try {
    const ids = userIds(N);
    const writer = await write(server.url, r);
    await settleRedis(r);
    const s0 = await memoryStats(r);
    const before = await used(r);
    await writer.run(ids);
    await settleRedis(r);
    const after = await used(r);
    const s1 = await memoryStats(r);
    await writer.close?.();
    const key = keyOf(ids[0]);
    const type = await r.type(key);
    const flat = type === 'hash' ? await r.hgetall(key) : null;
    const lp = flat ? listpackBytes(Object.entries(flat).flat()) : null;
    const row = {
      label,
      perSession: (after - before) / N,
      mainDict: (s1['db.0.overhead.hashtable.main'] - (s0['db.0.overhead.hashtable.main'] ?? 0)) / N,
      expiresDict: (s1['db.0.overhead.hashtable.expires'] - (s0['db.0.overhead.hashtable.expires'] ?? 0)) / N,
      memoryUsage: Number(await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')),
      encoding: await r.object('ENCODING', key),
      keyBytes: Buffer.byteLength(key),
      listpack: lp,
      listpackAlloc: lp ? sizeClass(lp) : null,
      hasTtl: (await r.pttl(key)) > 0,
      fields: flat,
      debug: String(await r.call('DEBUG', 'OBJECT', key)),
      dbsize: await r.dbsize(),
      note,
    };
    console.error(
      `[redis-memory] ${label}: ${row.perSession.toFixed(1)} B/session, MEMORY USAGE ${row.memoryUsage}`,
    );
    return row;
  } finally {
    r.disconnect();
    await server.stop();
  }
}

/** HSET + PEXPIREAT of `fields(i)` under `key(id)`, 1,000 commands per pipeline. */
const direct = (key, fields, { ttl = true } = {}) => ({
  async write(_url, r) {
    return {
      async run(ids) {
        for (let from = 0; from < ids.length; from += 1000) {
          const p = r.pipeline();
          for (const id of ids.slice(from, from + 1000)) {
            p.hset(key(id), fields(id));
            if (ttl) p.pexpireat(key(id), NOW + TTL + GRACE);
          }
          await p.exec();
        }
      },
    };
  },
  keyOf: key,
});

// chatstate's fields for the seed session, as store.transition writes them (row 1 checks it).
const chatstateFields = () => ({
  v: '1',
  e: String(NOW + TTL),
  c: String(NOW),
  u: String(NOW),
  s: '2',
  r: '1',
  n: 'awaiting_email',
  f: 'onboarding_v2',
  'x:name': '"John Doe"',
});
const without = (obj, ...names) =>
  Object.fromEntries(Object.entries(obj).filter(([k]) => !names.includes(k)));
const tag = (id) => `{cs:${id}}`;
const sec = (ms) => String(Math.floor(Number(ms) / 1000));

const rows = [];
rows.push(
  await measure('chatstate as shipped (store.transition)', {
    async write(url) {
      const store = await openStore(url, { ...CHATSTATE_OPTIONS, clock: () => NOW, sweepIntervalMs: 0 });
      return { run: (ids) => seedUsers(store, ids, { lease: false }), close: () => store.close() };
    },
    keyOf: tag,
  }),
);
/** chatstate through store.transition, with an optional `?prefix=` on the store URL. */
const throughStore = (prefix, key) => ({
  async write(url) {
    const query = prefix === undefined ? '' : `/?prefix=${prefix}`;
    const store = await openStore(`${url}${query}`, {
      ...CHATSTATE_OPTIONS,
      clock: () => NOW,
      sweepIntervalMs: 0,
    });
    return { run: (ids) => seedUsers(store, ids, { lease: false }), close: () => store.close() };
  },
  keyOf: key,
});
rows.push(
  await measure(
    'chatstate, store URL `?prefix=` (config only; key `{12025550123}`, 13 chars)',
    throughStore('', (id) => `{${id}}`),
  ),
);
rows.push(
  await measure(
    'chatstate, store URL `?prefix=c` (config only; key `{c12025550123}`, 14 chars)',
    throughStore('c', (id) => `{c${id}}`),
  ),
);
const base = chatstateFields();
const bare = (id) => `{${id}}`;
const offsets = (f) => ({ ...f, u: String(Number(f.u) - Number(f.c)) });
const variants = [
  ['same hash by HSET + PEXPIREAT (calibration for the rows below)', tag, () => base],
  ['no `e` field (expiry read from the key: PEXPIRETIME - grace)', tag, () => without(base, 'e')],
  [
    'c, u, e in seconds (10 digits: listpack int32, 6 B instead of 10)',
    tag,
    () => ({ ...base, c: sec(base.c), u: sec(base.u), e: sec(base.e) }),
  ],
  ['u, e as offsets from c (u - c = 0, e - c = TTL)', tag, () => ({ ...offsets(base), e: String(TTL) })],
  [
    'no `s` field (schema written only when it differs from the store default)',
    tag,
    () => without(base, 's'),
  ],
  ['var value without JSON quotes (`John Doe`)', tag, () => ({ ...base, 'x:name': 'John Doe' })],
  ['var prefix `:` instead of `x:`', tag, () => ({ ...without(base, 'x:name'), ':name': '"John Doe"' })],
  ['no `e` + u as offset from c', tag, () => offsets(without(base, 'e'))],
  [
    'no `e` + u as offset from c + no `s` (listpack 92 B: the 96 B class)',
    tag,
    () => offsets(without(base, 'e', 's')),
  ],
  ['key `{12025550123}` + no `e`', bare, () => without(base, 'e')],
  ['key `{12025550123}` + no `e` + u as offset + no `s`', bare, () => offsets(without(base, 'e', 's'))],
];
for (const [label, key, fields] of variants) rows.push(await measure(label, direct(key, fields)));
rows.push(
  await measure(
    'no TTL on the key (no expires dict entry; not an option with native TTL)',
    direct(tag, () => base, { ttl: false }),
  ),
);

const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : Number(x).toFixed(d).replace(/\.0$/, ''));
const shipped = rows[0];
console.log(
  `Redis memory per stored seed session, ${N.toLocaleString('en-US')} sessions per row, fresh redis-server per row.\n`,
);
console.log(
  '| layout | used_memory / session | vs shipped | keyspace dict | expires dict | MEMORY USAGE | listpack bytes (alloc) | key bytes | encoding |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const row of rows) {
  console.log(
    `| ${row.label} | ${fmt(row.perSession)} | ${row === shipped ? '' : fmt(row.perSession - shipped.perSession)} | ${fmt(row.mainDict)} | ${fmt(row.expiresDict)} | ${row.memoryUsage} | ${row.listpack ?? '—'} (${row.listpackAlloc ?? '—'}) | ${row.keyBytes} | ${row.encoding} |`,
  );
}
console.log(`\nFields of one shipped session (HGETALL ${tag(userIds(1)[0])}):\n`);
console.log('| field | value | listpack bytes (field + value) |');
console.log('| --- | --- | ---: |');
for (const [k, v] of Object.entries(shipped.fields))
  console.log(`| \`${k}\` | \`${v}\` | ${entryBytes(k)} + ${entryBytes(v)} |`);
console.log(`| header + end byte | | 7 |`);
console.log(`| total | | ${shipped.listpack} (allocated: ${shipped.listpackAlloc}) |`);
console.log(`\nDEBUG OBJECT ${tag(userIds(1)[0])}: \`${shipped.debug}\``);

// Where the shipped session's used_memory goes (jemalloc size classes; dictEntry is 24 B, robj 16 B).
const keySds = 1 + shipped.keyBytes + 1; // sdshdr5 (keys under 32 chars) + chars + NUL
const parts = [
  ['listpack (the hash value)', `${shipped.listpack} B used`, shipped.listpackAlloc],
  ['key name sds `{cs:12025550123}`', `${keySds} B used`, sizeClass(keySds)],
  ['value robj (redisObject)', '16 B', 16],
  ['keyspace dictEntry', '24 B', sizeClass(24)],
  ['expires dictEntry (the TTL)', '24 B', sizeClass(24)],
  ['keyspace dict buckets (8 B per slot)', 'MEMORY STATS', shipped.mainDict - 40],
  ['expires dict buckets (8 B per slot)', 'MEMORY STATS', shipped.expiresDict - 24],
];
const accounted = parts.reduce((n, p) => n + p[2], 0);
console.log("\nWhere one shipped session's bytes go:\n");
console.log('| part | size | allocated per session |');
console.log('| --- | --- | ---: |');
for (const [name, size, alloc] of parts) console.log(`| ${name} | ${size} | ${fmt(alloc)} |`);
console.log(`| accounted | | ${fmt(accounted)} |`);
console.log(
  `| rest (connection buffers, Lua, allocator; measured - accounted) | | ${fmt(shipped.perSession - accounted)} |`,
);
console.log(`| used_memory delta / session | | ${fmt(shipped.perSession)} |`);
