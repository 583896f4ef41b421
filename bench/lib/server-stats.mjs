// What the servers themselves count, for the Redis and Memcached rows: commands per transition
// (round trips) and bytes per stored session. Nothing here is timed.
//
// Redis round trips: INFO commandstats counts every command, including the ones a Lua script runs
// (Redis 7: `cmdstat_hget` grows when a script calls HGET), so `calls` alone cannot tell a round
// trip from a command inside a script. MONITOR can: it names the source of every command
// (`127.0.0.1:port` for a client, `lua` for a script). So a round-trip count runs N transitions
// with MONITOR on every master and counts the commands from client connections (this admin
// connection excluded); the commandstats delta over the same window is printed beside it
// (evalsha / eval calls, and all calls including the ones inside scripts) as the cross-check.
import { Redis } from 'ioredis';
import { HOST, memcachedStats, startMemcached, startRedis } from './servers.mjs';

// ---- redis ----------------------------------------------------------------------------------------

/** CPU redis-server has used so far (user + system), in microseconds, from `INFO cpu`. */
export async function redisServerCpuUs(admin) {
  const info = await admin.info('cpu');
  const f = (k) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return (f('used_cpu_user') + f('used_cpu_sys')) * 1e6;
}

/** `INFO commandstats` as { name: calls }. */
async function commandStats(admin) {
  const info = await admin.info('commandstats');
  return Object.fromEntries(
    [...info.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]),
  );
}

const sumStats = (list) => {
  const out = {};
  for (const stats of list) for (const [k, v] of Object.entries(stats)) out[k] = (out[k] ?? 0) + v;
  return out;
};

const ADMIN_COMMANDS = new Set(['info', 'echo', 'client|info', 'monitor', 'ping']);

/**
 * Runs `run(n)` (n untimed transitions, one at a time) with MONITOR on every port and returns the
 * commands per transition: { perTransition (client commands = round trips), byCommand,
 * inScripts, commandstats: { evalsha, eval, all } } (all per transition).
 */
export async function redisRoundTrips(ports, run, n) {
  const admins = ports.map((port) => new Redis({ host: HOST, port, lazyConnect: false }));
  const monitors = [];
  try {
    const adminAddrs = new Set();
    for (const admin of admins) {
      adminAddrs.add(/addr=(\S+)/.exec(String(await admin.call('CLIENT', 'INFO')))?.[1]);
    }
    const topLevel = {};
    let inScripts = 0;
    const marker = `bench-marker-${Date.now()}`;
    let markersSeen = 0;
    for (const admin of admins) {
      const monitor = await admin.monitor();
      monitors.push(monitor);
      monitor.on('monitor', (_time, args, source) => {
        const cmd = String(args[0]).toLowerCase();
        if (adminAddrs.has(source)) {
          if (cmd === 'echo' && args[1] === marker) markersSeen++;
          return;
        }
        if (source === 'lua') inScripts++;
        else topLevel[cmd] = (topLevel[cmd] ?? 0) + 1;
      });
    }
    const before = sumStats(await Promise.all(admins.map(commandStats)));
    await run(n);
    const after = sumStats(await Promise.all(admins.map(commandStats)));
    // MONITOR lines arrive asynchronously: a marker sent after the run shows every earlier line arrived.
    await Promise.all(admins.map((a) => a.echo(marker)));
    const deadline = Date.now() + 5000;
    while (markersSeen < admins.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const delta = Object.fromEntries(
      Object.keys(after)
        .filter((k) => !ADMIN_COMMANDS.has(k))
        .map((k) => [k, (after[k] - (before[k] ?? 0)) / n])
        .filter(([, v]) => v > 0),
    );
    const clientCommands = Object.values(topLevel).reduce((a, b) => a + b, 0);
    return {
      source: 'server',
      perTransition: clientCommands / n,
      n,
      byCommand: Object.fromEntries(Object.entries(topLevel).map(([k, v]) => [k, v / n])),
      inScripts: inScripts / n,
      commandstats: {
        evalsha: delta.evalsha ?? 0,
        eval: delta.eval ?? 0,
        all: Object.values(delta).reduce((a, b) => a + b, 0),
      },
    };
  } finally {
    for (const m of monitors) m.disconnect();
    for (const a of admins) a.disconnect();
  }
}

const usedMemory = async (admin) => Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))?.[1]);

/**
 * Waits until no keyspace or expires dict of db 0 is rehashing. While a dict grows, Redis keeps both
 * bucket arrays until serverCron has moved every entry, which for a moment adds up to 8 B x the old
 * table size per dict: measuring then would count a transient as bytes per session.
 */
export async function settleRedis(admin, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stats = String(await admin.call('DEBUG', 'HTSTATS', '0'));
    if (!/rehashing target/i.test(stats)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Bytes per stored session in Redis, on a fresh redis-server: `open(url)` returns
 * { write(ids) (stores every id's seed session), close() }, `keysOf(id)` names one session's keys.
 * Returns used_memory delta / n, MEMORY USAGE … SAMPLES 0 of the first session's keys (exact), the
 * encoding of each key and DBSIZE (so stray lease / claim keys would show).
 */
export async function redisBytes({ n, ids, open, keysOf }) {
  const server = await startRedis();
  const admin = new Redis(server.url);
  try {
    const writer = await open(server.url);
    // After the writer connected (and, for chatstate, loaded its scripts): only the sessions count.
    await settleRedis(admin);
    const before = await usedMemory(admin);
    await writer.write(ids);
    await settleRedis(admin);
    const after = await usedMemory(admin);
    const dbsize = await admin.dbsize();
    const keys = {};
    for (const key of keysOf(ids[0])) {
      if ((await admin.type(key)) === 'none') continue;
      keys[key] = {
        memoryUsage: Number(await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')),
        encoding: await admin.object('ENCODING', key),
        type: await admin.type(key),
        debug: String(await admin.call('DEBUG', 'OBJECT', key)),
      };
    }
    await writer.close();
    return {
      kind: 'redis',
      n,
      dbsize,
      usedMemoryDelta: after - before,
      perSession: (after - before) / n,
      memoryUsage: Object.values(keys).reduce((a, k) => a + k.memoryUsage, 0),
      keys,
    };
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

// ---- memcached ------------------------------------------------------------------------------------

const MEMCACHED_COUNTERS = [
  'cmd_get',
  'cmd_set',
  'cmd_touch',
  'cas_hits',
  'cas_misses',
  'cas_badval',
  'delete_hits',
  'delete_misses',
  'get_hits',
  'get_misses',
];

/** The server's own counters per transition over `run(n)` (cmd_get counts keys read, cmd_set stores). */
export async function memcachedCounters(port, run, n) {
  const before = await memcachedStats(port);
  await run(n);
  const after = await memcachedStats(port);
  return Object.fromEntries(
    MEMCACHED_COUNTERS.map((k) => [k, ((after.get(k) ?? 0) - (before.get(k) ?? 0)) / n]),
  );
}

/**
 * Bytes per stored session in memcached, on a fresh memcached (-m 128, default slab settings):
 * `stats` bytes / curr_items (the item size memcached accounts: header + key + value), the chunk
 * size of the slab class holding the sessions (what an item really occupies) and total_malloced / n.
 */
export async function memcachedBytes({ n, ids, open }) {
  const server = await startMemcached({ memoryMb: 128 });
  try {
    const writer = await open(server.url, server.port);
    const slabsBefore = await memcachedStats(server.port, 'stats slabs');
    await writer.write(ids);
    await writer.close();
    const general = await memcachedStats(server.port);
    const slabs = await memcachedStats(server.port, 'stats slabs');
    const items = general.get('curr_items') ?? 0;
    const classes = [...slabs]
      .filter(([k, v]) => k.endsWith(':used_chunks') && v > 0)
      .map(([k, used]) => {
        const id = k.split(':')[0];
        return { id, used, chunkSize: slabs.get(`${id}:chunk_size`) ?? 0 };
      })
      .sort((a, b) => b.used - a.used);
    const main = classes[0];
    return {
      kind: 'memcached',
      n,
      items,
      evictions: general.get('evictions') ?? 0,
      itemBytes: (general.get('bytes') ?? 0) / Math.max(1, items),
      chunkSize: main?.chunkSize ?? null,
      slabClass: main ? Number(main.id) : null,
      chunksInClass: main?.used ?? 0,
      mallocedPerSession: ((slabs.get('total_malloced') ?? 0) - (slabsBefore.get('total_malloced') ?? 0)) / n,
    };
  } finally {
    await server.stop();
  }
}

/** Runs `fn` over `ids` with `width` calls in flight. */
export async function inBatches(ids, width, fn) {
  for (let i = 0; i < ids.length; i += width) await Promise.all(ids.slice(i, i + width).map(fn));
}
