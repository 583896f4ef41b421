import type { Redis } from 'ioredis';

/** What the server configuration means for chatstate, read once at connect. */
export interface ServerProfile {
  warnings: string[];
  persistent: boolean;
  evicts: boolean;
}

export interface RedisServerStats {
  /** `used_memory`, summed over masters. */
  usedMemoryBytes: number;
  /** `evicted_keys` since the server started (non-zero means sessions, leases or claims were lost). */
  evictedKeys: number;
  /** `expired_keys` since the server started. */
  expiredKeys: number;
}

/**
 * Reads `appendonly`, `appendfsync`, `save` and `maxmemory-policy` from every master and turns
 * risky settings into warnings (docs/redis.md explains each). Managed services often disable
 * CONFIG: that is a warning too, never a failure.
 */
export async function profileServers(nodes: Redis[], cluster: boolean): Promise<ServerProfile> {
  const warnings: string[] = [];
  let persistent = false;
  let evicts = false;
  for (const node of nodes) {
    const name = cluster ? `${node.options.host}:${node.options.port}: ` : '';
    let cfg: Record<string, string>;
    try {
      cfg = await readConfig(node, ['appendonly', 'appendfsync', 'save', 'maxmemory-policy']);
    } catch (error) {
      warnings.push(
        `${name}could not read the server configuration (${(error as Error).message.split('\n')[0]}); CONFIG is often disabled on managed Redis: make sure the provider keeps AOF persistence on and uses maxmemory-policy noeviction.`,
      );
      persistent = true;
      evicts = true;
      continue;
    }
    const aof = cfg.appendonly === 'yes';
    const rdb = (cfg.save ?? '').trim() !== '';
    persistent ||= aof || rdb;
    if (!aof && !rdb) {
      warnings.push(
        `${name}persistence is off (appendonly no, save ""): a restart loses every session, lease and claim. Set appendonly yes and appendfsync everysec.`,
      );
    } else if (!aof) {
      warnings.push(
        `${name}only RDB snapshots are on (save "${cfg.save}"): a crash loses the writes since the last snapshot, claims included, so messages may be processed twice. Set appendonly yes and appendfsync everysec.`,
      );
    } else if (cfg.appendfsync === 'no') {
      warnings.push(
        `${name}appendfsync no leaves flushing to the OS (about 30 s of writes at risk on a power loss). Use appendfsync everysec.`,
      );
    }
    const policy = cfg['maxmemory-policy'] ?? '';
    if (policy !== 'noeviction') {
      evicts = true;
      warnings.push(
        `${name}maxmemory-policy is ${policy || 'unknown'}: every chatstate key has a TTL, so ${policy.startsWith('allkeys') ? 'this policy' : 'volatile-* policies'} can evict live sessions, leases and claims under memory pressure (lost state, duplicate processing). Use noeviction and size maxmemory for the sessions you keep.`,
      );
    }
  }
  return { warnings, persistent, evicts };
}

async function readConfig(node: Redis, names: string[]): Promise<Record<string, string>> {
  // One CONFIG GET per parameter: Redis before 7 accepts only one pattern per call.
  const replies = await Promise.all(names.map((n) => node.config('GET', n) as Promise<string[]>));
  const out: Record<string, string> = {};
  for (const reply of replies)
    for (let i = 0; i + 1 < reply.length; i += 2) out[reply[i] as string] = reply[i + 1] as string;
  return out;
}

/** Memory and key counters from INFO, summed over masters (for the metrics layer). */
export async function serverStats(nodes: Redis[]): Promise<RedisServerStats> {
  const infos = await Promise.all(
    nodes.map(async (n) => `${await n.info('memory')}\n${await n.info('stats')}`),
  );
  const sum = (field: string) =>
    infos.reduce(
      (total, info) => total + Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1] ?? 0),
      0,
    );
  return {
    usedMemoryBytes: sum('used_memory'),
    evictedKeys: sum('evicted_keys'),
    expiredKeys: sum('expired_keys'),
  };
}
