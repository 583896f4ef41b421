// Test-side access to a Redis (or Redis Cluster) holding chatstate data: an independent ioredis
// connection, as another process or an operator would have, never the driver under test.
import { Cluster, Redis } from 'ioredis';
import { quarantinePattern, sessionKeys } from '../../src/store/drivers/redis-keys.js';

export type Admin = Redis | Cluster;

export function adminFor(url: string): Admin {
  if (url.startsWith('redis+cluster://')) {
    const nodes = url
      .slice('redis+cluster://'.length)
      .split(',')
      .map((hp) => ({ host: hp.split(':')[0] ?? '', port: Number(hp.split(':')[1]) }));
    return new Cluster(nodes, { scaleReads: 'master' });
  }
  return new Redis(url);
}

export function mastersOf(admin: Admin): Redis[] {
  return admin instanceof Cluster ? admin.nodes('master') : [admin];
}

export async function flushAll(admin: Admin): Promise<void> {
  if (admin instanceof Cluster && admin.status !== 'ready') await new Promise((r) => admin.once('ready', r));
  await Promise.all(mastersOf(admin).map((n) => n.flushall()));
}

/** Writes something that is not a session under the session hash key: a plain string. */
export async function writeGarbage(admin: Admin, key: string): Promise<void> {
  const { hash } = sessionKeys(key);
  await admin.del(hash);
  await admin.set(hash, 'not a session');
}

/** Raw bytes quarantined for `key`, oldest first. */
export async function quarantinedRaw(admin: Admin, key: string): Promise<Uint8Array[]> {
  const names: string[] = [];
  for (const node of mastersOf(admin)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', quarantinePattern(key), 'COUNT', 1000);
      names.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  const records = await Promise.all(
    names.map(async (n) => ({
      at: Number(await admin.hget(n, 'at')),
      raw: await admin.hgetBuffer(n, 'raw'),
    })),
  );
  return records.sort((a, b) => a.at - b.at).flatMap((r) => (r.raw ? [new Uint8Array(r.raw)] : []));
}
