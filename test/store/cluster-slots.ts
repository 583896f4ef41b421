// Slot-level operations on a real Redis Cluster, over raw RESP (no client-side slot cache involved).
import { type RedisClusterNode, resp } from '../support/servers.js';

export async function keySlot(port: number, key: string): Promise<number> {
  return Number(await resp(port, ['CLUSTER', 'KEYSLOT', key]));
}

export async function nodeId(port: number): Promise<string> {
  return String(await resp(port, ['CLUSTER', 'MYID']));
}

/** The master node that serves `slot`, from CLUSTER NODES as seen by `port`. */
export async function slotOwner(nodes: RedisClusterNode[], slot: number): Promise<RedisClusterNode> {
  const first = nodes[0] as RedisClusterNode;
  const text = String(await resp(first.port, ['CLUSTER', 'NODES']));
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (!parts[2]?.includes('master')) continue;
    const port = Number(/:(\d+)@/.exec(parts[1] ?? '')?.[1]);
    for (const range of parts.slice(8)) {
      if (range.startsWith('[')) continue; // a migration in progress
      const [lo, hi = lo] = range.split('-').map(Number) as [number, number?];
      if (slot >= lo && slot <= (hi ?? lo)) {
        const node = nodes.find((n) => n.port === port);
        if (node) return node;
      }
    }
  }
  throw new Error(`no master owns slot ${slot}`);
}

/**
 * Moves one slot with its keys, the way `redis-cli --cluster reshard` does: IMPORTING on the
 * target, MIGRATING on the source, MIGRATE the keys in batches, then assign the slot everywhere.
 */
export async function migrateSlot(
  nodes: RedisClusterNode[],
  slot: number,
  from: RedisClusterNode,
  to: RedisClusterNode,
): Promise<number> {
  const [fromId, toId] = await Promise.all([nodeId(from.port), nodeId(to.port)]);
  await resp(to.port, ['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId]);
  await resp(from.port, ['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId]);
  let moved = 0;
  for (;;) {
    const keys = (await resp(from.port, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '200'])) as string[];
    if (keys.length === 0) break;
    await resp(from.port, ['MIGRATE', to.host, String(to.port), '', '0', '5000', 'KEYS', ...keys]);
    moved += keys.length;
  }
  for (const node of [to, from, ...nodes.filter((n) => n !== to && n !== from)]) {
    await resp(node.port, ['CLUSTER', 'SETSLOT', String(slot), 'NODE', toId]);
  }
  return moved;
}

/** The replica of `master` (from CLUSTER NODES), for a manual failover; waits for the view to settle. */
export async function replicaOf(
  nodes: RedisClusterNode[],
  master: RedisClusterNode,
  timeoutMs = 10_000,
): Promise<RedisClusterNode> {
  const masterId = await nodeId(master.port);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = String(await resp(master.port, ['CLUSTER', 'NODES']));
    for (const line of text.split('\n')) {
      const parts = line.trim().split(' ');
      if (!parts[2]?.includes('slave') || parts[2].includes('fail') || parts[3] !== masterId) continue;
      const node = nodes.find((n) => n.port === Number(/:(\d+)@/.exec(parts[1] ?? '')?.[1]));
      if (node) return node;
    }
    if (Date.now() > deadline) throw new Error(`no replica of ${master.port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `CLUSTER FAILOVER` on a replica once its link to the master is up (graceful: the replica takes
 * over only after it has every write the master acknowledged), then waits for it to lead. Redis
 * gives up a manual failover silently after 5 s (the replica did not reach the master's offset in
 * time, as on a loaded machine): it is asked again then, until the deadline.
 */
export async function failover(replica: RedisClusterNode, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const replication = async () => String(await resp(replica.port, ['INFO', 'replication']));
  while (!/^master_link_status:up/m.test(await replication())) {
    if (Date.now() > deadline) throw new Error(`${replica.port} never linked to its master`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let askedAt = 0;
  while (!/^role:master/m.test(await replication())) {
    if (Date.now() > deadline) throw new Error(`${replica.port} did not become master`);
    if (Date.now() - askedAt > 6000) {
      await resp(replica.port, ['CLUSTER', 'FAILOVER']);
      askedAt = Date.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
