import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChatstateError } from '../errors.js';
import { DEFAULT_STORE_URL, openStore } from '../store/open.js';
import type { SessionStore } from '../store/session-store.js';

/**
 * Exit codes shared by every command, so a script can tell "the answer is no" (1) from "could not
 * get an answer" (2) — `chatstate session get` exiting 1 must never mean the store was down.
 */
export const EXIT = { ok: 0, no: 1, error: 2 } as const;

/**
 * Ends an admin command once its answer is printed. Exiting explicitly means a timer a driver
 * leaves behind (ioredis keeps one for about 2 s after a refused connection) cannot keep a
 * script waiting; exiting only after stdout and stderr have flushed means a long `session list`
 * piped on macOS (where pipe writes are asynchronous) is never cut short.
 */
export function finish(code: number): Promise<never> {
  process.exitCode = code;
  return new Promise(() => {
    let open = 2;
    const flushed = () => {
      if (--open === 0) process.exit(code);
    };
    process.stdout.write('', flushed);
    process.stderr.write('', flushed);
  });
}

/** The `--store` flag, declared once so every command documents it the same way. */
export const storeArg = {
  type: 'string',
  description: `Store URL (env CHATSTATE_STORE, default ${DEFAULT_STORE_URL})`,
  valueHint: 'url',
} as const;

export const jsonArg = { type: 'boolean', description: 'Print JSON on stdout (for scripts)' } as const;

/** The same precedence as `chatstate serve`: flag, then environment, then the embedded default. */
export function storeUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.CHATSTATE_STORE?.trim() || DEFAULT_STORE_URL;
}

/**
 * Opens the store, runs `fn`, and always closes it: a Redis or Memcached connection left open
 * would keep the process alive after the answer was printed.
 */
export async function withStore<T>(url: string, fn: (store: SessionStore) => Promise<T>): Promise<T> {
  const file = missingSqliteFile(url);
  if (file) {
    throw new ChatstateError(
      'STORE_OPEN_FAILED',
      `there is no SQLite database at ${file}: run the command where \`chatstate serve\` runs, or pass --store sqlite:/path/to/chatstate.db (or set CHATSTATE_STORE).`,
      { component: 'cli' },
    );
  }
  // No sweeper: an admin command must not delete rows as a side effect of reading them.
  const store = await openStore(url, { sweepIntervalMs: 0 });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * The absolute path of a `sqlite:` store whose file does not exist, else null. Opening would
 * create an empty database, so `session get` run in the wrong directory would answer "not found"
 * instead of "wrong store". Same path rules as the SQLite loader in store/open.ts.
 */
export function missingSqliteFile(url: string): string | null {
  if (!/^sqlite:/i.test(url)) return null;
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\.|\/)/, '');
  const path = decodeURIComponent(rest.split('?')[0] || './data/chatstate.db');
  if (path === ':memory:') return null;
  return existsSync(path) ? null : resolve(path);
}

/** Positive integer flag, or a usage error that names the flag (exit 2 via the runner). */
export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`--${flag} must be a positive integer, got "${value}".`);
  return n;
}

/** A wrong flag value: printed with the command's help, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Milliseconds as a short human duration: `23h 59m`, `4m 10s`, `850 ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.floor(ms / 1000);
  const units: Array<[number, string]> = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ];
  const first = units.findIndex(([n]) => n > 0);
  return units
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}
