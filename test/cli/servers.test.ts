// The CLI against real Redis and Memcached servers: driver warnings and a store that cannot list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { type MemcachedServer, type RedisServer, startMemcached, startRedis } from '../support/servers.js';
import { cli, ensureBuilt } from './support.js';

let redis: RedisServer;
let memcached: MemcachedServer;
const env = { WHATSAPP_APP_SECRET: '0123456789abcdef0123456789abcdef', WHATSAPP_VERIFY_TOKEN: 'v' };

beforeAll(async () => {
  ensureBuilt();
  [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
});

afterAll(async () => {
  await Promise.all([redis?.stop(), memcached?.stop()]);
});

describe('on Redis', () => {
  it('doctor prints the capabilities and the driver warnings (test server has persistence off)', async () => {
    const r = await cli(['doctor', '--store', redis.url], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ store redis:\/\/127\.0\.0\.1:\d+ is reachable \(redis, ping/);
    expect(r.stdout).toMatch(/✔ capabilities: model fields, TTL native, list yes, change events yes/);
    expect(r.stdout).toContain('! redis: persistence is off');
  });

  it('session get / list / clear work across processes', async () => {
    const s = await openStore(redis.url);
    await s.transition('5511999', (d) => void d.goto('menu').set('n', 1).send({ text: 'hello' }));
    await s.close();
    const got = await cli(['session', 'get', '5511999', '--store', redis.url, '--json']);
    expect(got.code).toBe(0);
    const out = JSON.parse(got.stdout);
    expect(out.session).toMatchObject({ node: 'menu', vars: { n: 1 } });
    expect(out.outbox).toMatchObject([{ state: 'pending', envelope: { text: 'hello' } }]);
    const listed = await cli(['session', 'list', '--store', redis.url]);
    expect(listed.stdout.split('\n')).toContain('5511999');
    expect((await cli(['session', 'clear', '5511999', '--store', redis.url])).stdout).toBe(
      'cleared session 5511999\n',
    );
  });
});

describe('on Memcached', () => {
  it('session list exits 2 naming the missing "scan" capability', async () => {
    const r = await cli(['session', 'list', '--store', memcached.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the memcached store cannot list sessions (it has no "scan" capability)');
    expect(r.stderr).toContain('CAPABILITY_MISSING');
  });

  it('doctor shows the driver warnings and the text view shows the outbox kept in the session value', async () => {
    const r = await cli(['doctor', '--store', memcached.url], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('! [chatstate] [memcached] memcached may evict sessions');
    expect(r.stdout).toContain('list no');
    const s = await openStore(memcached.url);
    await s.transition(
      'u1',
      (d) => void d.goto('x').send({ channel: 'cloud', message: { type: 'text', text: 'pending reply' } }),
    );
    await s.close();
    const got = await cli(['session', 'get', 'u1', '--store', memcached.url]);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain('outbox    (latest 1, newest first)');
    expect(got.stdout).toContain('pending reply');
  });
});
