import { ChatstateError } from '../errors.js';
import type { Driver } from './contract.js';
import type { StoreOptions } from './options.js';
import { SessionStore } from './session-store.js';

/**
 * Opens a driver from its URL. The loader parses the URL itself because some store URLs are not
 * WHATWG URLs (`redis+cluster://h1:1,h2:2`). Loaders import their client library only when used.
 */
export type DriverLoader = (url: string) => Promise<{ driver: Driver; defaultPrefix: string }>;

const loaders = new Map<string, DriverLoader>();

/** Adds (or replaces) the driver for a URL scheme, e.g. `registerDriver('redis', ...)`. */
export function registerDriver(scheme: string, loader: DriverLoader): void {
  loaders.set(scheme.replace(/:$/, ''), loader);
}

registerDriver('memory', async (url) => {
  const { memoryDriver } = await import('./drivers/memory.js');
  const max = new URLSearchParams(url.split('?')[1] ?? '').get('max');
  return { driver: memoryDriver(max ? { maxEntries: positiveInt(max, 'max') } : {}), defaultPrefix: '' };
});

registerDriver('sqlite', async (raw) => {
  const { sqliteDriver } = await import('./drivers/sqlite.js');
  // `sqlite:./data/x.db`, `sqlite:/abs/x.db`, `sqlite://./x.db` and `sqlite::memory:` all work: the
  // path is the text after the scheme, so relative paths stay relative to the working directory.
  const rest = raw.slice('sqlite:'.length).replace(/^\/\/(?=\.|\/)/, '');
  const [path = '', query = ''] = rest.split('?');
  // ?checkpoint=inline|background&checkpointIntervalMs=N&mmap=BYTES (docs/architecture.md, README).
  const params = new URLSearchParams(query);
  const checkpoint = params.get('checkpoint');
  if (checkpoint !== null && checkpoint !== 'inline' && checkpoint !== 'background') {
    throw new ChatstateError(
      'STORE_URL_INVALID',
      `checkpoint=${checkpoint} in the sqlite: URL is not an option: use checkpoint=background (the default) or checkpoint=inline.`,
      { component: 'store' },
    );
  }
  const interval = params.get('checkpointIntervalMs');
  const mmap = params.get('mmap');
  return {
    driver: sqliteDriver({
      path: decodeURIComponent(path || './data/chatstate.db'),
      ...(checkpoint === null ? {} : { checkpoint }),
      ...(interval === null ? {} : { checkpointIntervalMs: positiveInt(interval, 'checkpointIntervalMs') }),
      ...(mmap === null ? {} : { mmapBytes: mmap === '0' ? 0 : positiveInt(mmap, 'mmap') }),
    }),
    defaultPrefix: '',
  };
});

// redis://, rediss:// (TLS), redis+cluster:// and rediss+cluster://: one driver, loaded (with
// ioredis) only when such a URL is opened. Query options are documented in docs/redis.md.
for (const scheme of ['redis', 'rediss', 'redis+cluster', 'rediss+cluster']) {
  registerDriver(scheme, async (url) => {
    const { redisDriver } = await import('./drivers/redis.js');
    const driver = await redisDriver({ url });
    return { driver, defaultPrefix: driver.prefix };
  });
}

// memcached://host:port[,host:port...]: consistent hashing over the servers (docs/memcached.md).
registerDriver('memcached', async (url) => {
  const { openMemcached } = await import('./drivers/memcached.js');
  return { driver: await openMemcached(url), defaultPrefix: 'cs:' };
});

/** The default store URL: the embedded SQLite file. */
export const DEFAULT_STORE_URL = 'sqlite:./data/chatstate.db';

/** Opens a session store from a URL: `memory:`, `sqlite:./path.db`, and the schemes drivers register. */
export async function openStore(
  url: string = DEFAULT_STORE_URL,
  options: StoreOptions = {},
): Promise<SessionStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (!scheme) {
    throw new ChatstateError(
      'STORE_URL_INVALID',
      `cannot parse store URL "${redact(String(url))}": use a URL such as sqlite:./data/chatstate.db, memory:, or redis://host:6379.`,
      { component: 'store' },
    );
  }
  const loader = loaders.get(scheme);
  if (!loader) {
    throw new ChatstateError(
      'STORE_SCHEME_UNKNOWN',
      `no store driver for "${scheme}:" in "${redact(url)}": use one of ${[...loaders.keys()].map((s) => `${s}:`).join(', ')}.`,
      { component: 'store' },
    );
  }
  const { driver, defaultPrefix } = await loader(url);
  return new SessionStore(driver, options, defaultPrefix);
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new ChatstateError(
      'STORE_URL_INVALID',
      `store URL parameter ${name}=${value} must be a positive integer.`,
      {
        component: 'store',
      },
    );
  }
  return n;
}

/** Hides the password of a URL before it reaches an error message or a log. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@/]*)@/, '//$1:***@');
}
