// Real redis-server / Redis Cluster processes for integration tests, on free loopback ports.
import { execFile } from 'node:child_process';
import {
  ensureDir,
  HOST,
  makeTempDir,
  rawExchange,
  removeTempDir,
  ServerProcess,
  startOnFreePort,
} from './proc.js';

// ---------------------------------------------------------------------------------------------------------
// Minimal RESP2 client (one command per connection): enough for readiness checks and test assertions.

export type RespValue = string | number | null | RespValue[];

export class RespError extends Error {
  override name = 'RespError';
}

type Parsed = { value: RespValue | RespError; next: number } | undefined;

function parseResp(buf: Buffer, offset: number): Parsed {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = buf[offset];
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, next };
    case 0x2d: // -
      return { value: new RespError(line), next };
    case 0x3a: // :
      return { value: Number(line), next };
    case 0x24: {
      // $
      const len = Number(line);
      if (len < 0) return { value: null, next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), next: next + len + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        if (item.value instanceof RespError) throw item.value;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new Error(`unexpected RESP reply: ${JSON.stringify(buf.toString('utf8', offset, offset + 80))}`);
  }
}

export function encodeResp(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Sends one command over a raw socket to 127.0.0.1:port; error replies reject with RespError. */
export async function resp(port: number, args: readonly string[], timeoutMs = 5000): Promise<RespValue> {
  const buf = await rawExchange(port, encodeResp(args), (b) => parseResp(b, 0) !== undefined, timeoutMs);
  const parsed = parseResp(buf, 0);
  if (!parsed) throw new Error('incomplete RESP reply');
  if (parsed.value instanceof RespError) throw parsed.value;
  return parsed.value;
}

/** Runs `redis-cli -h 127.0.0.1 -p <port> ...args` and returns its stdout. */
export function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', HOST, '-p', String(port), ...args],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// Single node.

export interface RedisOptions {
  appendonly?: boolean;
  appendfsync?: 'everysec' | 'always' | 'no';
  extraArgs?: string[];
}

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The server's --dir (AOF files, nodes.conf). */
  dir: string;
  /** Graceful stop (SIGTERM, waits for exit). Removes `dir` unless keepData: true. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** Sends a signal (default SIGKILL: a crash) and waits for exit. Keeps `dir` so start() finds the data. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** (Re)starts on the same port, dir and config; resolves when PING answers PONG. */
  start(): Promise<void>;
}

function redisArgs(port: number, dir: string, opts: RedisOptions & { cluster?: boolean }): string[] {
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--dir', dir];
  args.push('--daemonize', 'no', '--protected-mode', 'no');
  // Replicas sync at once instead of after the default 5 s diskless-sync delay.
  args.push('--repl-diskless-sync-delay', '0');
  if (opts.appendonly) args.push('--appendonly', 'yes', '--appendfsync', opts.appendfsync ?? 'everysec');
  else args.push('--appendonly', 'no');
  if (opts.cluster) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
    args.push('--cluster-node-timeout', '2000');
  }
  return [...args, ...(opts.extraArgs ?? [])];
}

async function launchRedis(opts: RedisOptions & { cluster?: boolean; keepDirOnStop?: boolean }) {
  const dir = await makeTempDir(opts.cluster ? 'redis-cluster' : 'redis');
  try {
    const { port, proc } = await startOnFreePort(
      (p) =>
        new ServerProcess({
          command: 'redis-server',
          args: redisArgs(p, dir, opts),
          probe: async () => (await resp(p, ['PING'], 1000)) === 'PONG',
        }),
      opts.cluster ? 10_000 : 0,
    );
    const server: RedisServer = {
      url: `redis://${HOST}:${port}`,
      port,
      dir,
      async stop(stopOpts) {
        await proc.signal('SIGTERM');
        if (!(stopOpts?.keepData ?? opts.keepDirOnStop)) await removeTempDir(dir);
      },
      kill: (signal = 'SIGKILL') => proc.signal(signal),
      async start() {
        await ensureDir(dir);
        await proc.start();
      },
    };
    return server;
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

/** Starts a standalone redis-server on a free 127.0.0.1 port with its own temp dir. */
export function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  return launchRedis(opts);
}

// ---------------------------------------------------------------------------------------------------------
// Cluster.

export interface RedisClusterOptions {
  /** Number of masters, at least 3 (default 3). */
  masters?: number;
  /** Replicas per master (default 0; use 1 for failover tests). */
  replicasPerMaster?: number;
  /** Extra redis-server arguments for every node. */
  extraArgs?: string[];
}

export interface RedisClusterNode {
  host: '127.0.0.1';
  port: number;
  url: string;
  dir: string;
  /** Graceful stop; keeps nodes.conf so start() rejoins the cluster. */
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}

export interface RedisCluster {
  nodes: RedisClusterNode[];
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,... (all nodes) */
  url: string;
  /** Stops every node and removes their dirs. */
  stop(): Promise<void>;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Waits until every node reports cluster_state:ok, knows all nodes, and (with replicas) every link is up. */
export async function waitForClusterOk(ports: number[], replicas: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      let ok = true;
      let linkedReplicas = 0;
      for (const port of ports) {
        const info = String(await resp(port, ['CLUSTER', 'INFO'], 2000));
        last = `${port}: ${info.replace(/\r\n/g, ' ')}`;
        if (
          infoField(info, 'cluster_state') !== 'ok' ||
          infoField(info, 'cluster_slots_ok') !== '16384' ||
          infoField(info, 'cluster_known_nodes') !== String(ports.length)
        ) {
          ok = false;
          break;
        }
        if (replicas > 0) {
          const repl = String(await resp(port, ['INFO', 'replication'], 2000));
          if (infoField(repl, 'role') === 'slave' && infoField(repl, 'master_link_status') === 'up') {
            linkedReplicas++;
          }
        }
      }
      if (ok && linkedReplicas === replicas) return;
      if (ok) last = `${linkedReplicas}/${replicas} replicas linked to their master`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Redis Cluster not ok after ${timeoutMs} ms; last: ${last}`);
}

/** Starts masters × (1 + replicasPerMaster) cluster-enabled nodes and joins them with redis-cli --cluster create. */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicasPerMaster = opts.replicasPerMaster ?? 0;
  if (masters < 3) throw new Error('Redis Cluster needs at least 3 masters');
  const total = masters * (1 + replicasPerMaster);
  const launched = await Promise.allSettled(
    Array.from({ length: total }, () =>
      launchRedis({ cluster: true, keepDirOnStop: true, extraArgs: opts.extraArgs }),
    ),
  );
  const servers = launched.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop({ keepData: false })));
  };
  try {
    const failed = launched.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const addrs = servers.map((s) => `${HOST}:${s.port}`);
    const first = servers[0];
    if (!first) throw new Error('no nodes');
    await redisCli(
      first.port,
      '--cluster',
      'create',
      ...addrs,
      '--cluster-replicas',
      String(replicasPerMaster),
      '--cluster-yes',
    );
    await waitForClusterOk(
      servers.map((s) => s.port),
      masters * replicasPerMaster,
    );
    return {
      nodes: servers.map((s) => ({
        host: HOST,
        port: s.port,
        url: s.url,
        dir: s.dir,
        stop: () => s.stop({ keepData: true }),
        kill: (signal) => s.kill(signal),
        start: () => s.start(),
      })),
      url: `redis+cluster://${addrs.join(',')}`,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
