// Real redis-server, Redis Cluster and memcached processes for the benchmark, on free 127.0.0.1
// ports, started by the bench and stopped after it. A plain-.mjs copy of the minimal parts of
// test/support/{proc,redis-server,memcached-server}.ts (same port picking, same flags), so the bench
// needs no TypeScript loader. Children are SIGKILLed if the bench exits without stopping them.
//
// The run's subjects share one lazily started server of each kind (sharedRedis(), sharedCluster(),
// sharedMemcached()); the bytes runs start a fresh one each (startRedis(), startMemcached()) so
// used_memory / stats start from an empty server. stopSharedServers() stops the shared ones.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const HOST = '127.0.0.1';

// ---- cleanup ------------------------------------------------------------------------------------

const liveChildren = new Set();
const tempDirs = new Set();
let hooksInstalled = false;

function cleanupSync() {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const onSignal = () => {
      cleanupSync();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function makeTempDir(prefix) {
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), `chatstate-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir) {
  tempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

// ---- programs -----------------------------------------------------------------------------------

/** Null when every program is on PATH, else the reason to skip ("redis-server not on PATH"). */
export function missingPrograms(...bins) {
  const missing = bins.filter(
    (bin) =>
      !(process.env.PATH ?? '').split(delimiter).some((dir) => {
        if (!dir) return false;
        try {
          accessSync(join(dir, bin), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
  return missing.length ? `${missing.join(', ')} not on PATH` : null;
}

/** `redis-server --version` / `memcached -V`, for the machine block of the results. */
export function programVersion(bin) {
  const flag = bin === 'memcached' ? '-V' : '--version';
  const out = spawnSync(bin, [flag], { encoding: 'utf8' });
  if (out.status !== 0) return null;
  return /v=(\S+)/.exec(out.stdout)?.[1] ?? out.stdout.trim().split(/\s+/).pop() ?? null;
}

// ---- ports --------------------------------------------------------------------------------------

function canListen(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

function ephemeralLow() {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isFinite(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

const handedOut = new Set();

/** A free port below the ephemeral range (and port + busOffset free too, for the cluster bus). */
async function pickServerPort(busOffset = 0) {
  const lo = 10_000;
  const hi = Math.min(ephemeralLow(), 65_536) - 1 - busOffset;
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (port + busOffset > 65_535 || handedOut.has(port) || handedOut.has(port + busOffset)) continue;
    if (!(await canListen(port)) || (busOffset > 0 && !(await canListen(port + busOffset)))) continue;
    handedOut.add(port);
    if (busOffset > 0) handedOut.add(port + busOffset);
    return port;
  }
  throw new Error('could not find a free port on 127.0.0.1');
}

// ---- raw sockets --------------------------------------------------------------------------------

/** Writes `payload` to 127.0.0.1:port and resolves with what was read once `done(buffer)`. */
export function rawExchange(port, payload, done, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: HOST, port });
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(received);
    };
    const timer = setTimeout(() => finish(new Error(`timeout talking to ${HOST}:${port}`)), timeoutMs);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      try {
        if (done(received)) finish();
      } catch (err) {
        finish(err);
      }
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`connection to ${HOST}:${port} closed`)));
  });
}

const resp = (args) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** One command, one reply line or bulk string (enough for PING and CLUSTER INFO). */
async function respText(port, args, timeoutMs = 2000) {
  const buf = await rawExchange(
    port,
    resp(args),
    (b) => {
      const s = b.toString('utf8');
      if (s[0] !== '$') return s.includes('\r\n');
      const nl = s.indexOf('\r\n');
      return nl > 0 && b.length >= nl + 2 + Number(s.slice(1, nl)) + 2;
    },
    timeoutMs,
  );
  const s = buf.toString('utf8');
  if (s[0] === '-') throw new Error(s.trim());
  return s[0] === '$' ? s.slice(s.indexOf('\r\n') + 2, -2) : s.slice(1).trim();
}

/** A memcached text-protocol exchange that ends with `terminator`. */
export async function memcachedRaw(port, payload, terminator = /\r\n$/, timeoutMs = 5000) {
  const buf = await rawExchange(port, payload, (b) => terminator.test(b.toString('utf8')), timeoutMs);
  return buf.toString('utf8');
}

/** `stats` / `stats slabs` / `stats items` as a Map of numbers (non-numbers kept as text). */
export async function memcachedStats(port, command = 'stats') {
  const text = await memcachedRaw(port, `${command}\r\n`, /END\r\n$/);
  return new Map(
    [...text.matchAll(/^STAT (\S+) (\S+)\r$/gm)].map((m) => [
      m[1],
      Number.isNaN(Number(m[2])) ? m[2] : Number(m[2]),
    ]),
  );
}

// ---- processes ----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class ServerProcess {
  constructor(spec) {
    this.spec = spec;
    this.child = undefined;
    this.exited = Promise.resolve('not started');
    this.output = '';
  }

  tail(max = 3000) {
    return this.output.slice(-max);
  }

  async start() {
    installExitHooks();
    const { command, args } = this.spec;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    liveChildren.add(child);
    const append = (chunk) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let exitReason;
    this.exited = new Promise((resolve) => {
      const done = (reason) => {
        if (exitReason !== undefined) return;
        exitReason = reason;
        liveChildren.delete(child);
        if (this.child === child) this.child = undefined;
        resolve(reason);
      };
      child.once('exit', (code, signal) => done(signal ? `killed by ${signal}` : `exited with code ${code}`));
      child.once('error', (err) => done(`failed to spawn: ${err.message}`));
    });
    const deadline = Date.now() + (this.spec.readyTimeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      if (exitReason !== undefined) break;
      if (await this.spec.probe().catch(() => false)) return;
      await sleep(50);
    }
    const why = exitReason ?? 'not ready in time';
    if (exitReason === undefined) await this.signal('SIGKILL');
    throw new Error(`${command} ${args.join(' ')}: ${why}\n${this.tail() || '(no output)'}`);
  }

  /** Sends `sig` to the child this object started and waits for it to exit (SIGKILL after graceMs). */
  async signal(sig, graceMs = 10_000) {
    const child = this.child;
    if (!child) return;
    child.kill(sig);
    let timer;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise((r) => {
        timer = setTimeout(() => r(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function startOnFreePort(make, busOffset = 0) {
  for (let attempt = 1; ; attempt++) {
    const port = await pickServerPort(busOffset);
    const proc = make(port);
    try {
      await proc.start();
      return { port, proc };
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(proc.tail())) throw err;
    }
  }
}

// ---- redis --------------------------------------------------------------------------------------

function redisArgs(port, dir, cluster) {
  // No persistence (the bench measures the store, not the disk); the rest as redis-server ships.
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
  args.push('--daemonize', 'no', '--protected-mode', 'no');
  // DEBUG HTSTATS (is the keyspace rehashing?) and DEBUG OBJECT for the bytes figures; loopback only.
  args.push('--enable-debug-command', 'local');
  if (cluster) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
    args.push('--cluster-node-timeout', '2000');
  }
  return args;
}

/**
 * A standalone redis-server on a free port with its own temp dir: { port, url, dir, pid, stop() }.
 * `wrap(dir)`: a command line to run it under (valgrind for bench/diag/redis-script-floor.mjs),
 * whose own files go in `dir`; such a server gets a minute to answer.
 */
export async function startRedis({ cluster = false, wrap } = {}) {
  const dir = makeTempDir(cluster ? 'redis-cluster' : 'redis');
  const runner = wrap ? wrap(dir) : [];
  try {
    const { port, proc } = await startOnFreePort(
      (p) =>
        new ServerProcess({
          command: runner[0] ?? 'redis-server',
          args: wrap
            ? [...runner.slice(1), 'redis-server', ...redisArgs(p, dir, cluster)]
            : redisArgs(p, dir, cluster),
          probe: async () => (await respText(p, ['PING'], 1000)) === 'PONG',
          readyTimeoutMs: wrap ? 60_000 : undefined,
        }),
      cluster ? 10_000 : 0,
    );
    return {
      port,
      url: `redis://${HOST}:${port}`,
      dir,
      pid: proc.child.pid,
      async stop() {
        await proc.signal('SIGTERM');
        removeTempDir(dir);
      },
    };
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
}

function redisCli(port, ...args) {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', HOST, '-p', String(port), ...args],
      { timeout: 120_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`))
          : resolve(stdout),
    );
  });
}

async function waitForClusterOk(ports, timeoutMs = 30_000) {
  const field = (info, name) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      let ok = true;
      for (const port of ports) {
        const info = await respText(port, ['CLUSTER', 'INFO']);
        last = `${port}: ${info.replace(/\r\n/g, ' ')}`;
        if (
          field(info, 'cluster_state') !== 'ok' ||
          field(info, 'cluster_slots_ok') !== '16384' ||
          field(info, 'cluster_known_nodes') !== String(ports.length)
        ) {
          ok = false;
          break;
        }
      }
      if (ok) return;
    } catch (err) {
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`Redis Cluster not ok after ${timeoutMs} ms; last: ${last}`);
}

/** `masters` cluster-enabled nodes joined with `redis-cli --cluster create … --cluster-yes`. */
export async function startRedisCluster({ masters = 3 } = {}) {
  const launched = await Promise.allSettled(
    Array.from({ length: masters }, () => startRedis({ cluster: true })),
  );
  const nodes = launched.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    const failed = launched.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const addrs = nodes.map((n) => `${HOST}:${n.port}`);
    await redisCli(
      nodes[0].port,
      '--cluster',
      'create',
      ...addrs,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    );
    await waitForClusterOk(nodes.map((n) => n.port));
    return { nodes, ports: nodes.map((n) => n.port), url: `redis+cluster://${addrs.join(',')}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- memcached ----------------------------------------------------------------------------------

/** memcached on a free port (-m memoryMb, default slab settings): { port, url, stop() }. */
export async function startMemcached({ memoryMb = 64 } = {}) {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const { port, proc } = await startOnFreePort(
    (p) =>
      new ServerProcess({
        command: 'memcached',
        args: [
          '-l',
          HOST,
          '-p',
          String(p),
          '-U',
          '0',
          '-m',
          String(memoryMb),
          ...(asRoot ? ['-u', 'root'] : []),
        ],
        probe: async () => (await memcachedRaw(p, 'version\r\n', /\r\n$/, 1000)).startsWith('VERSION '),
      }),
  );
  return {
    port,
    url: `memcached://${HOST}:${port}`,
    // memcached has nothing to flush; on SIGTERM it would only exit at its next 1 s clock tick.
    stop: () => proc.signal('SIGKILL'),
  };
}

// ---- shared servers for the timed rounds ----------------------------------------------------------

const shared = new Map();

/**
 * One server of each kind for all the subjects of a run, started on first use. Resolves to the
 * server, or to { skipped: reason } when a program is missing or the server does not start (the
 * subjects then report "skipped: <reason>").
 */
function sharedServer(kind, programs, start) {
  if (!shared.has(kind)) {
    const missing = missingPrograms(...programs);
    shared.set(
      kind,
      missing
        ? Promise.resolve({ skipped: missing })
        : start().catch((err) => ({
            skipped: `${kind} did not start: ${String(err.message ?? err).split('\n')[0]}`,
          })),
    );
  }
  return shared.get(kind);
}

export const sharedRedis = () => sharedServer('redis-server', ['redis-server'], () => startRedis());
export const sharedCluster = () =>
  sharedServer('redis cluster', ['redis-server', 'redis-cli'], () => startRedisCluster({ masters: 3 }));
// Room for every claim item of the timed rounds (nothing may be evicted during the run).
export const sharedMemcached = () =>
  sharedServer('memcached', ['memcached'], () => startMemcached({ memoryMb: 1024 }));

/** Stops every shared server started so far (idempotent). */
export async function stopSharedServers() {
  const started = [...shared.values()];
  shared.clear();
  for (const p of started) {
    const server = await p;
    if (server.stop) await server.stop();
  }
}
