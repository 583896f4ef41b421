// A real memcached process for integration tests, on a free loopback port.
import { HOST, rawExchange, ServerProcess, startOnFreePort } from './proc.js';

export interface MemcachedOptions {
  /** Cache memory in MB (default 64). */
  memoryMb?: number;
  extraArgs?: string[];
}

export interface MemcachedServer {
  /** memcached://127.0.0.1:PORT */
  url: string;
  port: number;
  /**
   * Stops the process and waits for exit. Uses SIGKILL: memcached (without a memory file) has nothing to flush,
   * and on SIGTERM it only exits at its next 1 s clock tick.
   */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) and waits for exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** (Re)starts on the same port with the same arguments (memcached keeps no data across restarts). */
  start(): Promise<void>;
}

/** Sends raw text-protocol bytes and resolves with the reply once it ends with `terminator`. */
export async function memcachedRaw(
  port: number,
  payload: string,
  terminator: RegExp = /\r\n$/,
  timeoutMs = 5000,
): Promise<string> {
  const buf = await rawExchange(port, payload, (b) => terminator.test(b.toString('utf8')), timeoutMs);
  return buf.toString('utf8');
}

export async function startMemcached(opts: MemcachedOptions = {}): Promise<MemcachedServer> {
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
          String(opts.memoryMb ?? 64),
          // memcached refuses to run as root without -u; 'root' avoids a setuid/setgroups step in containers.
          ...(asRoot ? ['-u', 'root'] : []),
          ...(opts.extraArgs ?? []),
        ],
        probe: async () => (await memcachedRaw(p, 'version\r\n', /\r\n$/, 1000)).startsWith('VERSION '),
      }),
  );
  return {
    url: `memcached://${HOST}:${port}`,
    port,
    stop: () => proc.signal('SIGKILL'),
    kill: (signal = 'SIGKILL') => proc.signal(signal),
    start: () => proc.start(),
  };
}
