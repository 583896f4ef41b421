import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecByName } from '../../src/session/codec.js';
import { writeFrame } from '../../src/session/frame.js';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { SessionStore } from '../../src/store/session-store.js';
import { type RedisServer, startRedis } from '../support/servers.js';

// The measurements behind docs/redis.md (layout decisions). Prints a table; asserts only the
// encodings the decisions rely on. For the documented figures run:
//   CHATSTATE_REDIS_MEMORY_SESSIONS=100000 npx vitest run test/store/redis.memory.test.ts
const N = Number(process.env.CHATSTATE_REDIS_MEMORY_SESSIONS ?? 5000);
const SEED_VARS = { name: 'John Doe', flow: 'onboarding_v2', retry_count: 1 };
const NOW = 1715602400000;
const msgpack = codecByName('msgpack');
const entry = (i: number) => msgpack.encode([i % 2, NOW + i, `message number ${i} from the user`]);

let server: RedisServer;
let r: Redis;
const rows: string[] = [];
beforeAll(async () => {
  server = await startRedis();
  r = new Redis(server.url);
});
afterAll(async () => {
  console.log(
    `\nRedis ${(await r.info('server')).match(/redis_version:(\S+)/)?.[1]}, ${N} sessions per layout\n${rows.join('\n')}`,
  );
  r?.disconnect();
  await server?.stop();
});

/** used_memory growth per session while `write` stores N sessions (after a FLUSHALL). */
async function perSession(write: () => Promise<void>): Promise<number> {
  await r.flushall();
  const used = async () => Number(/^used_memory:(\d+)/m.exec(await r.info('memory'))?.[1]);
  const before = await used();
  await write();
  return Math.round(((await used()) - before) / N);
}

/** Exact MEMORY USAGE (SAMPLES 0: every field counted, not estimated from 5). */
const usage = async (key: string) => Number(await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));

async function pipelined(make: (p: ReturnType<Redis['pipeline']>, i: number) => void): Promise<void> {
  for (let from = 0; from < N; from += 1000) {
    const p = r.pipeline();
    for (let i = from; i < Math.min(N, from + 1000); i++) make(p, i);
    await p.exec();
  }
}

// The fields the driver writes for a new session at schema 1 (src/session/fields.ts): version,
// createdAt, updatedAt as an offset from it, retries, node; the last pair varies per session.
const base = (i: number) => [
  'v',
  '1',
  'c',
  String(NOW),
  'd',
  '0',
  'r',
  '0',
  'n',
  'awaiting_email',
  'x',
  String(i),
];

describe('redis memory per session (docs/redis.md)', () => {
  it('seed session: chatstate layout vs vars in one field vs one blob', async () => {
    const driver = await redisDriver({ url: server.url });
    const store = new SessionStore(driver, {}, driver.prefix);
    const flattened = await perSession(async () => {
      for (let from = 0; from < N; from += 500) {
        await Promise.all(
          Array.from({ length: Math.min(500, N - from) }, (_, k) =>
            store.transition(
              String(12025550000 + from + k),
              (s) => {
                s.goto('awaiting_email');
                for (const [name, value] of Object.entries(SEED_VARS)) s.set(name, value);
              },
              { lease: false },
            ),
          ),
        );
      }
    });
    const hash = '{cs:12025550000}';
    expect(await r.object('ENCODING', hash)).toBe('listpack');
    const hashUsage = await usage(hash);
    await store.close();
    rows.push('| layout | MEMORY USAGE (bytes) | used_memory delta per session (bytes) |', '|---|---|---|');
    rows.push(`| chatstate layout written by store.transition | ${hashUsage} | ${flattened} |`);

    const flatVars = Object.entries(SEED_VARS).flatMap(([k, v]) => [`x:${k}`, JSON.stringify(v)]);
    const flatOneHset = await perSession(() =>
      pipelined((p, i) => {
        p.hset(`{cs:${12025550000 + i}}`, ...base(i).slice(0, -2), ...flatVars);
        p.pexpireat(`{cs:${12025550000 + i}}`, NOW * 2);
      }),
    );
    rows.push(`| same fields, vars flattened (x:<name>), one HSET | ${await usage(hash)} | ${flatOneHset} |`);

    const oneField = await perSession(() =>
      pipelined((p, i) => {
        p.hset(`{cs:${12025550000 + i}}`, ...base(i).slice(0, -2), 'x', JSON.stringify(SEED_VARS));
        p.pexpireat(`{cs:${12025550000 + i}}`, NOW * 2);
      }),
    );
    rows.push(`| hash, vars as one JSON field | ${await usage(hash)} | ${oneField} |`);

    const body = Buffer.from(
      writeFrame(
        'msgpack',
        false,
        msgpack.encode([1, null, 'awaiting_email', null, SEED_VARS, 0, [], NOW, NOW]),
      ),
    );
    const blob = await perSession(() =>
      pipelined((p, i) =>
        p.set(`cs:${12025550000 + i}`, Buffer.concat([body, Buffer.from(String(i))]), 'PXAT', NOW * 2),
      ),
    );
    rows.push(
      `| peer: one msgpack blob (GET/SET, ${body.length} bytes) | ${await usage('cs:12025550000')} | ${blob} |`,
    );
  }, 300_000);

  it('history: a capped list beside the hash vs entries inside the hash', async () => {
    const withList = await perSession(() =>
      pipelined((p, i) => {
        p.hset(`{cs:${i}}`, ...base(i));
        p.rpush(`{cs:${i}}:h`, ...[0, 1, 2, 3, 4].map((k) => Buffer.from(entry(k))));
        p.pexpireat(`{cs:${i}}`, NOW * 2);
        p.pexpireat(`{cs:${i}}:h`, NOW * 2);
      }),
    );
    const listUsage = (await usage('{cs:0}')) + (await usage('{cs:0}:h'));
    rows.push(`| seed + 5 history entries, list key {key}:h | ${listUsage} | ${withList} |`);
    const inHash = await perSession(() =>
      pipelined((p, i) => {
        p.hset(`{cs:${i}}`, ...base(i), ...[0, 1, 2, 3, 4].flatMap((k) => [`h${k}`, Buffer.from(entry(k))]));
        p.pexpireat(`{cs:${i}}`, NOW * 2);
      }),
    );
    rows.push(`| seed + 5 history entries inside the hash (h0..h4) | ${await usage('{cs:0}')} | ${inHash} |`);
    const longText = Buffer.from(msgpack.encode([0, NOW, 'x'.repeat(70)]));
    await r.hset('{cs:long}', ...base(0), 'h0', longText);
    expect(await r.object('ENCODING', '{cs:long}')).toBe('hashtable'); // one long message converts the hash
    await r.rpush('{cs:long}:h', longText);
    // A list packs entries in nodes of up to 8 KB (list-max-listpack-size -2): no per-entry limit.
    expect(['listpack', 'quicklist']).toContain(await r.object('ENCODING', '{cs:long}:h'));
    const long = (k: number) =>
      Buffer.from(
        msgpack.encode([
          k % 2,
          NOW + k,
          `${'a realistic message of about eighty characters, '.repeat(2).slice(0, 80)}`,
        ]),
      );
    await r.flushall();
    await r.hset('{cs:L}', ...base(0));
    await r.rpush('{cs:L}:h', ...[0, 1, 2, 3, 4].map(long));
    await r.hset('{cs:H}', ...base(0), ...[0, 1, 2, 3, 4].flatMap((k) => [`h${k}`, long(k)]));
    const listLong = (await usage('{cs:L}')) + (await usage('{cs:L}:h'));
    rows.push(
      `| seed + 5 entries of 80-char text: list / inside the hash (${await r.object('ENCODING', '{cs:H}')}) | ${listLong} / ${await usage('{cs:H}')} | |`,
    );
  }, 300_000);

  it('what one field over 64 bytes costs, and what flattening saves with longer vars', async () => {
    await r.flushall();
    await r.hset('{cs:64}', ...base(0), 'x:address', `"${'x'.repeat(62)}"`);
    await r.hset('{cs:65}', ...base(0), 'x:address', `"${'x'.repeat(63)}"`);
    expect(await r.object('ENCODING', '{cs:64}')).toBe('listpack');
    expect(await r.object('ENCODING', '{cs:65}')).toBe('hashtable');
    const [at64, at65] = [await usage('{cs:64}'), await usage('{cs:65}')];
    rows.push(
      `| seed + one 64-byte var (listpack) / 65-byte var (hashtable) | ${at64} / ${at65} (x${(Number(at65) / Number(at64)).toFixed(2)}) | |`,
    );
    const five = Object.fromEntries([1, 2, 3, 4, 5].map((k) => [`field${k}`, 'y'.repeat(40)]));
    await r.hset(
      '{cs:flat5}',
      ...base(0),
      ...Object.entries(five).flatMap(([k, v]) => [`x:${k}`, JSON.stringify(v)]),
    );
    await r.hset('{cs:json5}', ...base(0), 'x', JSON.stringify(five));
    expect(await r.object('ENCODING', '{cs:flat5}')).toBe('listpack');
    expect(await r.object('ENCODING', '{cs:json5}')).toBe('hashtable');
    rows.push(
      `| 5 vars of 40 chars: flattened / one JSON field | ${await usage('{cs:flat5}')} / ${await usage('{cs:json5}')} | |`,
    );
    await r.set(
      '{cs:12025550123}:c:cs:wamid.HBgLMTIwMjU1NTUwMTIzFQIAEhggQkE3RjQ5QjU3NjY0RkIwMjc3AA==',
      '1',
      'PX',
      604_800_000,
    );
    await r.set('{cs:12025550123}:l', '1715602400000000', 'PX', 30_000);
    const claim = await usage(
      '{cs:12025550123}:c:cs:wamid.HBgLMTIwMjU1NTUwMTIzFQIAEhggQkE3RjQ5QjU3NjY0RkIwMjc3AA==',
    );
    rows.push(
      `| one transition claim (real wamid) / one lease | ${claim} / ${await usage('{cs:12025550123}:l')} | |`,
    );
  });
});
