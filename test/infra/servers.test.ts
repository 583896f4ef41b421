import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  memcachedRaw,
  type RespValue,
  redisCli,
  resp,
  startMemcached,
  startRedis,
  startRedisCluster,
  waitForClusterOk,
} from '../support/servers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Raw PING over a plain socket, no helper parsing involved. */
async function rawPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (data.endsWith('\r\n')) {
        socket.destroy();
        resolve(data);
      }
    });
    socket.once('error', reject);
  });
}

describe('freePort', () => {
  it('returns a loopback port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65_536);
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
});

describe('startRedis', () => {
  it('starts a real redis-server that answers PING on a raw socket, and stops it', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    expect(await rawPing(redis.port)).toBe('+PONG\r\n');
    expect(await resp(redis.port, ['SET', 'k', 'v'])).toBe('OK');
    expect(await resp(redis.port, ['GET', 'k'])).toBe('v');
    expect(await redisCli(redis.port, 'GET', 'k')).toBe('v\n');
    expect(existsSync(redis.dir)).toBe(true);

    await redis.stop();
    expect(await isListening(redis.port)).toBe(false);
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('restarts on the same port after stop() and after a crash', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const { port } = redis;

    await redis.stop({ keepData: true });
    expect(await isListening(port)).toBe(false);
    await redis.start();
    expect(redis.port).toBe(port);
    expect(await rawPing(port)).toBe('+PONG\r\n');

    await redis.kill();
    expect(await isListening(port)).toBe(false);
    await redis.start();
    expect(await rawPing(port)).toBe('+PONG\r\n');
  });

  it('keeps AOF data across a SIGKILL crash with appendfsync always', async () => {
    const redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    cleanups.push(() => redis.stop());
    expect(await resp(redis.port, ['CONFIG', 'GET', 'appendonly'])).toEqual(['appendonly', 'yes']);
    expect(await resp(redis.port, ['SET', 'durable', '42'])).toBe('OK');
    await redis.kill('SIGKILL');
    await redis.start();
    expect(await resp(redis.port, ['GET', 'durable'])).toBe('42');
  });

  it('reports the server output when redis-server cannot start', async () => {
    await expect(startRedis({ extraArgs: ['--no-such-option', 'x'] })).rejects.toThrow(/no-such-option/);
  });
});

describe('startMemcached', () => {
  it('supports set/get over the text protocol and restarts on the same port', async () => {
    const mc = await startMemcached({ memoryMb: 16 });
    cleanups.push(() => mc.stop());
    expect(mc.url).toBe(`memcached://127.0.0.1:${mc.port}`);

    expect(await memcachedRaw(mc.port, 'set greeting 5 0 5\r\nhello\r\n')).toBe('STORED\r\n');
    expect(await memcachedRaw(mc.port, 'get greeting\r\n', /END\r\n$/)).toBe(
      'VALUE greeting 5 5\r\nhello\r\nEND\r\n',
    );
    expect(await memcachedRaw(mc.port, 'get missing\r\n', /END\r\n$/)).toBe('END\r\n');

    await mc.kill();
    expect(await isListening(mc.port)).toBe(false);
    await mc.start();
    // memcached keeps no data across restarts
    expect(await memcachedRaw(mc.port, 'get greeting\r\n', /END\r\n$/)).toBe('END\r\n');
    await mc.stop();
    expect(await isListening(mc.port)).toBe(false);
  });
});

describe('startRedisCluster', () => {
  it('creates a 3-master cluster that reaches cluster_state:ok, then stops it', async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    cleanups.push(() => cluster.stop());
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.url).toBe(`redis+cluster://${cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`);

    for (const node of cluster.nodes) {
      const info = String(await resp(node.port, ['CLUSTER', 'INFO']));
      expect(info).toMatch(/^cluster_state:ok\r$/m);
      expect(info).toMatch(/^cluster_size:3\r$/m);
    }

    const first = cluster.nodes[0];
    if (!first) throw new Error('no nodes');
    const slots = (await resp(first.port, ['CLUSTER', 'SLOTS'])) as RespValue[][];
    expect(slots).toHaveLength(3);
    const covered = slots.reduce((sum, range) => sum + Number(range[1]) - Number(range[0]) + 1, 0);
    expect(covered).toBe(16_384);
    const masterPorts = slots.map((range) => Number((range[2] as RespValue[])[1])).sort();
    expect(masterPorts).toEqual(cluster.nodes.map((n) => n.port).sort());

    const nodesText = await redisCli(first.port, 'CLUSTER', 'NODES');
    const masters = nodesText.split('\n').filter((line) => / master /.test(line) || /,master /.test(line));
    expect(masters).toHaveLength(3);

    await cluster.stop();
    for (const node of cluster.nodes) expect(await isListening(node.port)).toBe(false);
  });

  it('with replicas: a killed master fails over to its replica and rejoins as a replica on restart', async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    cleanups.push(() => cluster.stop());
    expect(cluster.nodes).toHaveLength(6);
    const roles = await Promise.all(
      cluster.nodes.map(async (n) => (await resp(n.port, ['ROLE'])) as RespValue[]),
    );
    expect(roles.filter((r) => r[0] === 'master')).toHaveLength(3);
    expect(roles.filter((r) => r[0] === 'slave' && r[3] === 'connected')).toHaveLength(3);

    const replicaIdx = roles.findIndex((r) => r[0] === 'slave');
    const replica = cluster.nodes[replicaIdx];
    const masterPort = Number(roles[replicaIdx]?.[2]);
    const master = cluster.nodes.find((n) => n.port === masterPort);
    if (!replica || !master) throw new Error(`no replica/master pair in ${JSON.stringify(roles)}`);
    // A key in one of this master's slots (other keys answer MOVED), replicated before the crash.
    let key = '';
    for (let i = 0; !key; i++) {
      if (i > 1000) throw new Error('no key maps to the chosen master');
      const ok = await resp(master.port, ['SET', `k${i}`, 'v']).catch((err: Error) => {
        if (!err.message.startsWith('MOVED')) throw err;
      });
      if (ok === 'OK') key = `k${i}`;
    }
    expect(await resp(master.port, ['WAIT', '1', '5000'])).toBe(1);

    await master.kill();
    const deadline = Date.now() + 20_000;
    while (((await resp(replica.port, ['ROLE'])) as RespValue[])[0] !== 'master') {
      if (Date.now() > deadline) throw new Error('replica was not promoted within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    // The promoted replica now owns the master's slots: it answers for the key itself (no MOVED).
    // Whether the key survived is Redis's business, not this harness's: Redis Cluster does not
    // promise that an acknowledged write survives an automatic failover after a kill, even after
    // WAIT (https://redis.io/docs/latest/commands/wait/), and two clean-clone CI runs on the loaded
    // 2-core machine saw a promoted replica with replication offset 0 and without the key. That no
    // update is lost across a failover chatstate drives is test/store/cluster.failover.test.ts.
    const value = await resp(replica.port, ['GET', key]);
    expect(value === 'v' || value === null).toBe(true);
    await master.start();
    await waitForClusterOk(
      cluster.nodes.map((n) => n.port),
      3,
    );
    expect(((await resp(master.port, ['ROLE'])) as RespValue[])[0]).toBe('slave');
    // Above the sum of the deadlines inside (cluster start, 20 s promotion, 30 s waitForClusterOk),
    // so a slow step fails with its own message: it usually takes 8-10 s, once over 30 s under load.
  }, 120_000);
});
