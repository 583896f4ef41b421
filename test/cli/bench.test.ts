// `chatstate bench` as users run it (the built CLI in a child process) on every kind of store:
// the JSON contract, the progress on stderr, and that nothing the bench wrote stays behind.
// Phases are capped at a few hundred transitions; no figure is asserted beyond sanity.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { memcachedRaw } from '../support/memcached-server.js';
import { makeTempDir, removeTempDir } from '../support/proc.js';
import { resp } from '../support/redis-server.js';
import { type MemcachedServer, type RedisServer, startMemcached, startRedis } from '../support/servers.js';
import { cli, ensureBuilt } from './support.js';

const QUICK = ['--users', '200', '--concurrency', '16', '--duration', '0.3', '--transitions', '300'];
const REAL_USER = '4915100000001';
const REQUIRED = [
  'store',
  'transitions',
  'concurrency',
  'p50_us',
  'p99_us',
  'per_second',
  'round_trips_per_transition',
  'bytes_per_session',
  'capacity',
];

let dir: string;
let redis: RedisServer;
let memcached: MemcachedServer;

beforeAll(async () => {
  ensureBuilt();
  dir = await makeTempDir('cli-bench');
  [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
});

afterAll(async () => {
  await Promise.all([redis?.stop(), memcached?.stop()]);
  await removeTempDir(dir);
});

/** Runs the bench with --json and parses stdout, which must be one JSON object and nothing else. */
async function benchJson(store: string, extra: string[] = []) {
  // A flag in `extra` replaces QUICK's (the CLI would join repeated values).
  const quick = QUICK.filter((_, i) => !extra.includes(QUICK[i - (i % 2)] as string));
  const r = await cli(['bench', '--store', store, ...quick, ...extra, '--json']);
  expect(r.stderr, 'progress and messages').toContain('chatstate bench:');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(r.stdout.trim().startsWith('{') && r.stdout.trim().endsWith('}')).toBe(true);
  return { out, stderr: r.stderr };
}

/** The figures every store reports, checked for sanity (not speed). */
function expectSane(out: Record<string, unknown> & { capacity: Record<string, unknown> }) {
  for (const field of REQUIRED) expect(out, field).toHaveProperty(field);
  expect(out.transitions).toBeGreaterThan(0);
  expect(out.concurrency).toBe(16);
  expect(out.p50_us).toBeGreaterThan(0);
  expect(out.p50_us as number).toBeLessThanOrEqual(out.p99_us as number);
  expect(out.per_second).toBeGreaterThan(0);
  expect(out.bytes_per_session).toBeGreaterThan(0);
  expect(out.bytes_per_session).toBeLessThan(1024);
  expect(typeof out.bytes_method).toBe('string');
  expect(out.capacity.dau).toBe(100_000);
  expect(out.capacity.storage_bytes).toBeGreaterThan(0);
  expect(out.capacity.saturation_messages_per_second).toBeGreaterThan(0);
  expect((out.capacity.assumptions as string[]).length).toBeGreaterThan(3);
}

describe('chatstate bench on SQLite', () => {
  it('reports on a file with real sessions, null round trips, and leaves the real session alone', async () => {
    const url = `sqlite:${join(dir, 'real.db')}`;
    const s = await openStore(url);
    await s.transition(REAL_USER, (d) => d.setFlow('signup').goto('ask_name').set('lang', 'de'));
    await s.close();

    // About 10 transitions per user: each user's row overflows its recent claims into cs_user_claims.
    const { out, stderr } = await benchJson(url, ['--transitions', '2000']);
    expectSane(out);
    expect(out.round_trips_per_transition).toBeNull();
    expect(out.round_trips_method).toContain('no server');
    expect(out.bytes_method).toContain('page_count');
    expect(out.capacity.medium).toBe('disk');
    expect(stderr).toMatch(/one at a time: \d[\d,]* transitions/);
    expect(stderr).toMatch(/cleanup: [\d,]+ keys or rows under "bench:[0-9a-f]+:" deleted/);

    const after = await openStore(url, { sweepIntervalMs: 0 });
    try {
      expect((await after.get(REAL_USER))?.vars).toEqual({ lang: 'de' });
      expect((await after.list({ prefix: 'bench:' })).ids).toEqual([]);
      expect((await after.list({ limit: 10 })).ids).toEqual([REAL_USER]);
    } finally {
      await after.close();
    }
    // Every claim the bench made is gone too: they sat in the users' rows and cs_user_claims, under
    // the bench's prefix.
    const db = new Database(join(dir, 'real.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM cs_user_claims').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT COUNT(*) AS n FROM cs_claim_ids').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it('removes a database file it had to create', async () => {
    const path = join(dir, 'fresh.db');
    const { out } = await benchJson(`sqlite:${path}`);
    expect(out.transitions).toBeGreaterThan(0);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('prints a table on stdout without --json, progress on stderr only', async () => {
    const r = await cli(['bench', '--store', `sqlite:${join(dir, 'table.db')}`, ...QUICK]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^chatstate bench: sqlite:/);
    expect(r.stdout).toMatch(/one at a time\s+[\d,]+\s+[\d.,]+\s+[\d.,]+\s+[\d.,]+/);
    expect(r.stdout).toMatch(/bytes per session\s+[\d.]+ B/);
    expect(r.stdout).toMatch(/disk for 100,000 DAU\s+[\d.]+ [KMG]iB/);
    expect(r.stdout).toContain('assumptions');
    expect(r.stdout).not.toContain('seeding');
    expect(r.stderr).toContain('seeding 200 users');
  });
});

describe('chatstate bench on memory:', () => {
  it('is allowed as a floor: encoded body bytes, no round trips', async () => {
    const { out } = await benchJson('memory:');
    expectSane(out);
    expect(out.driver).toBe('memory');
    expect(out.round_trips_per_transition).toBeNull();
    expect(out.capacity.replicas).toBe(0);
  });
});

describe('chatstate bench on Redis', () => {
  it('counts 2 round trips per transition and deletes every key it wrote', async () => {
    const s = await openStore(redis.url);
    await s.transition(REAL_USER, (d) => d.goto('menu').set('n', 1).remember({ dir: 'in', text: 'hi' }));
    await s.close();
    const keysBefore = ((await resp(redis.port, ['KEYS', '*'])) as string[]).sort();

    const { out } = await benchJson(redis.url);
    expectSane(out);
    expect(out.round_trips_per_transition).toBe(2);
    expect(out.round_trips_method).toContain('MONITOR');
    expect(out.bytes_method).toContain('MEMORY USAGE');
    expect(out.capacity.replicas).toBe(1);
    expect(out.deleted).toBeGreaterThan(200);

    expect(await resp(redis.port, ['KEYS', '{bench:*'])).toEqual([]);
    expect(((await resp(redis.port, ['KEYS', '*'])) as string[]).sort()).toEqual(keysBefore);
    const after = await openStore(redis.url);
    try {
      const real = await after.get(REAL_USER);
      expect(real).toMatchObject({ node: 'menu', vars: { n: 1 }, version: 1 });
      expect(real?.history.map((h) => h.text)).toEqual(['hi']);
    } finally {
      await after.close();
    }
  });

  it('Ctrl-C stops the run, removes what it wrote and exits 130', async () => {
    const child = spawn(
      process.execPath,
      [
        resolve(import.meta.dirname, '../../dist/cli/main.js'),
        'bench',
        '--store',
        redis.url,
        '--users',
        '200',
      ],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (b) => (stdout += b));
    const code = await new Promise<number | null>((done) => {
      child.stderr.on('data', (b) => {
        stderr += b;
        // Seeding is done (the line prints when it ends): interrupt during the timed phases.
        if (/seeding 200 users: done/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => done(c));
    });
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted: removing what the bench wrote');
    expect(stderr).toMatch(/cleanup: [\d,]+ keys or rows under "bench:/);
    expect(stdout).toBe('');
    expect(await resp(redis.port, ['KEYS', '{bench:*'])).toEqual([]);
  });
});

describe('chatstate bench on Memcached', () => {
  const items = async () =>
    Number(/STAT curr_items (\d+)/.exec(await memcachedRaw(memcached.port, 'stats\r\n', /END\r\n$/))?.[1]);

  it('counts at most 3 round trips per transition and deletes sessions, leases and claims', async () => {
    const s = await openStore(memcached.url);
    await s.transition(REAL_USER, (d) => d.goto('menu'));
    await s.close();
    const before = await items();

    const { out } = await benchJson(memcached.url);
    expectSane(out);
    expect(out.round_trips_per_transition).toBeGreaterThan(0);
    expect(out.round_trips_per_transition).toBeLessThanOrEqual(3);
    expect(out.bytes_method).toContain('stats slabs');

    // The bench added over a thousand items (sessions, claims, leases): none is left. Not an exact
    // match: memcached's LRU crawler may reclaim the real user's released (expired) lease item meanwhile.
    expect(await items()).toBeLessThanOrEqual(before);
    const after = await openStore(memcached.url);
    const benchView = await openStore(memcached.url, { prefix: out.prefix });
    try {
      expect((await after.get(REAL_USER))?.node).toBe('menu');
      expect(await benchView.get('12025550123')).toBeNull();
    } finally {
      await Promise.all([after.close(), benchView.close()]);
    }
  });
});

describe('chatstate bench --session', () => {
  it('a shape with bigger vars stores more bytes per session than the seed', async () => {
    const file = join(dir, 'big.json');
    await writeFile(
      file,
      JSON.stringify({
        flow: 'checkout',
        node: 'ask_address',
        vars: {
          name: 'Maria da Silva',
          cart: { items: ['sku-1', 'sku-2', 'sku-3'], total: 129.9 },
          notes: 'x'.repeat(200),
        },
        history: [{ dir: 'in', text: 'I want to order' }],
        retries: 0,
      }),
    );
    const seed = await benchJson('memory:');
    const big = await benchJson('memory:', ['--session', file]);
    expect(big.out.session).toBe(file);
    expect(big.out.bytes_per_session).toBeGreaterThan(seed.out.bytes_per_session + 200);
  });

  it("accepts the suite's seed shape {uid, st, ts, vars, v} and measures it like the default", async () => {
    const file = join(dir, 'seed.json');
    const seedJson = {
      uid: '12025550123',
      st: 'awaiting_email',
      ts: 1715602400,
      vars: { name: 'John Doe', flow: 'onboarding_v2', retry_count: 1 },
      v: 2,
    };
    await writeFile(file, JSON.stringify(seedJson));
    const fromFile = await benchJson('memory:', ['--session', file]);
    const builtIn = await benchJson('memory:');
    expect(fromFile.out.bytes_per_session).toBe(builtIn.out.bytes_per_session);
  });

  it('an invalid file exits 2 naming the field', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ node: 'a', history: [{ dir: 'sideways', text: 'x' }] }));
    const r = await cli(['bench', '--store', 'memory:', '--session', file, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`--session ${file}: history.0.dir`);
    expect(r.stderr).toContain('CONFIG_INVALID');

    await writeFile(file, JSON.stringify({ nodes: 'typo' }));
    const typo = await cli(['bench', '--store', 'memory:', '--session', file]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('"nodes"');

    await writeFile(file, '{ not json');
    const broken = await cli(['bench', '--store', 'memory:', '--session', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('not valid JSON');
  });
});

describe('chatstate bench errors', () => {
  it('an unreachable store exits 2 with the driver message', async () => {
    const r = await cli(['bench', '--store', 'redis://127.0.0.1:1', ...QUICK, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('STORE_OPEN_FAILED');
  });

  it('a bad flag value exits 2 naming the flag', async () => {
    const r = await cli(['bench', '--store', 'memory:', '--users', '10', '--concurrency', '64']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--concurrency 64 is more than --users 10');
    const d = await cli(['bench', '--store', 'memory:', '--duration', 'soon']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--duration must be a positive number of seconds');
  });
});
