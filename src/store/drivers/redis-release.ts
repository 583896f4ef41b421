import { sessionKeys } from './redis-keys.js';
import { LUA_SCRIPTS, type RedisClient, runScript } from './redis-scripts.js';

const MAX_PENDING = 10_000;
const KEEP_MS = 10 * 60_000;

/**
 * Lease releases that failed because the server could not be reached. Without them a user whose
 * lease was held when Redis went down stays blocked for the rest of the lease TTL after Redis is
 * back (tested: about 25 s of the default 30 s), although its holder gave up long ago. They are
 * sent again when the connection is ready again. Safe: release.lua frees a lease only for the
 * token it was granted with, so a lease taken over since (a new token) is left alone.
 */
export class PendingReleases {
  readonly #client: RedisClient;
  readonly #pending = new Map<string, { token: number; at: number }>();
  readonly #onReady = () => void this.flush();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: RedisClient) {
    this.#client = client;
    client.on('ready', this.#onReady);
  }

  get size(): number {
    return this.#pending.size;
  }

  add(key: string, token: number): void {
    this.#pending.delete(`${key}\n${token}`);
    if (this.#pending.size >= MAX_PENDING) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
    }
    this.#pending.set(`${key}\n${token}`, { token, at: Date.now() });
    // A timeout on a live connection brings no 'ready' event: try again in a second.
    if (this.#client.status === 'ready' && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, 1000);
      this.#timer.unref?.();
    }
  }

  /** Sends every pending release once; those that fail again wait for the next reconnect. */
  async flush(): Promise<void> {
    const now = Date.now();
    const batch = [...this.#pending];
    await Promise.all(
      batch.map(async ([id, { token, at }]) => {
        if (now - at > KEEP_MS) {
          this.#pending.delete(id);
          return;
        }
        const key = id.slice(0, id.lastIndexOf('\n'));
        try {
          await runScript(this.#client, LUA_SCRIPTS.release, [sessionKeys(key).lease], [String(token)]);
          this.#pending.delete(id);
        } catch {
          // still unreachable: the next 'ready' tries again
        }
      }),
    );
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#client.off('ready', this.#onReady);
    this.#pending.clear();
  }
}
