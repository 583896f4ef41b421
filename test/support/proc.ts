// Shared plumbing for the real-server test helpers: ports, temp dirs, child process lifecycle, raw sockets.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------------------
// Cleanup if the test process goes away without stopping its servers.

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

function cleanupSync(): void {
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

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupSync();
      process.removeListener(sig, onSignal);
      // Keep the default behaviour (die by this signal) unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

export async function makeTempDir(prefix: string): Promise<string> {
  installExitHooks();
  const dir = await mkdtemp(join(tmpdir(), `chatstate-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  tempDirs.add(dir);
}

export async function removeTempDir(dir: string): Promise<void> {
  tempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------
// Ports.

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it: listen on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isFinite(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

const handedOut = new Set<number>();

/**
 * A free port for a server we are about to start. Picked below the kernel's ephemeral range when possible, so
 * that a client's outgoing connection can never occupy it while the server is down for a restart. With
 * `busOffset` (Redis Cluster: 10000) port + busOffset must be free and valid too.
 */
export async function pickServerPort(busOffset = 0): Promise<number> {
  const lo = 10_000;
  const hi = Math.min(ephemeralLow(), 65_536) - 1 - busOffset;
  for (let i = 0; i < 200; i++) {
    const port =
      hi - lo >= 1000 ? lo + Math.floor(Math.random() * (hi - lo + 1)) : await freePort().catch(() => 0);
    if (port <= 0 || port + busOffset > 65_535 || handedOut.has(port) || handedOut.has(port + busOffset)) {
      continue;
    }
    if (!(await canListen(port)) || (busOffset > 0 && !(await canListen(port + busOffset)))) continue;
    handedOut.add(port);
    if (busOffset > 0) handedOut.add(port + busOffset);
    return port;
  }
  throw new Error('could not find a free port on 127.0.0.1');
}

// ---------------------------------------------------------------------------------------------------------
// Raw socket exchange.

/** Connects to 127.0.0.1:port, writes `payload`, and resolves with what was read once `done(buffer)` says so. */
export function rawExchange(
  port: number,
  payload: string | Buffer,
  done: (received: Buffer) => boolean,
  timeoutMs = 5000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: HOST, port });
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(received);
    };
    const timer = setTimeout(
      () => finish(new Error(`timeout after ${timeoutMs} ms talking to ${HOST}:${port}`)),
      timeoutMs,
    );
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        if (done(received)) finish(undefined);
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () =>
      finish(new Error(`connection to ${HOST}:${port} closed after ${received.length} bytes`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// One server child process that can be started, signalled and restarted with the same command line.

export interface ServerProcessSpec {
  command: string;
  args: string[];
  /** One readiness probe; resolve true when the server answers. Errors count as "not yet". */
  probe: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<string> = Promise.resolve('not started');
  private output = '';

  constructor(readonly spec: ServerProcessSpec) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last `max` characters the server wrote to stdout/stderr. */
  tail(max = 3000): string {
    return this.output.slice(-max);
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.spec.command} is already running (pid ${this.child.pid})`);
    installExitHooks();
    const { command, args } = this.spec;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    liveChildren.add(child);
    const append = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    let exitReason: string | undefined;
    this.exited = new Promise((resolve) => {
      const done = (reason: string): void => {
        if (exitReason !== undefined) return;
        exitReason = reason;
        liveChildren.delete(child);
        if (this.child === child) this.child = undefined;
        resolve(reason);
      };
      child.once('exit', (code, signal) => done(signal ? `killed by ${signal}` : `exited with code ${code}`));
      child.once('error', (err) => done(`failed to spawn: ${err.message}`));
    });

    const timeoutMs = this.spec.readyTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitReason !== undefined) break;
      if (await this.spec.probe().catch(() => false)) return;
      await sleep(50);
    }
    const why = exitReason ?? `not ready after ${timeoutMs} ms`;
    if (exitReason === undefined) await this.signal('SIGKILL');
    throw new Error(
      `${command} ${args.join(' ')}: ${why}\n--- output tail ---\n${this.tail() || '(no output)'}`,
    );
  }

  /** Sends `sig` and waits for the process to exit (SIGKILL after `graceMs`). No-op when not running. */
  async signal(sig: NodeJS.Signals, graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(sig);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => {
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

/** Starts a server on a freshly picked port, retrying on a new port if another process grabbed it first. */
export async function startOnFreePort(
  make: (port: number) => ServerProcess,
  busOffset = 0,
): Promise<{ port: number; proc: ServerProcess }> {
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
