import type { ChangeEvent } from '../contract.js';
import type { RedisClient } from './redis-scripts.js';

/**
 * Change events: commit.lua and delete.lua PUBLISH `{"key","version","type"}` on one channel; this
 * keeps one dedicated subscriber connection (a connection in subscribe mode cannot run commands)
 * shared by every listener of the driver, opened on the first subscribe and closed with the last.
 * In a cluster, plain PUBLISH is broadcast to every node, so one subscriber on any node hears all.
 */
export class ChangeFeed {
  readonly #open: () => RedisClient;
  readonly #channel: string;
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  #subscriber: RedisClient | undefined;
  #ready: Promise<void> | undefined;

  constructor(open: () => RedisClient, channel: string) {
    this.#open = open;
    this.#channel = channel;
  }

  async add(listener: (event: ChangeEvent) => void): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    try {
      this.#ready ??= this.#start();
      await this.#ready;
    } catch (error) {
      this.#listeners.delete(listener);
      await this.close();
      throw error;
    }
    return async () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) await this.close();
    };
  }

  async #start(): Promise<void> {
    const subscriber = this.#open();
    this.#subscriber = subscriber;
    // Errors surface through the reconnect cycle; without a listener ioredis would print them.
    subscriber.on('error', () => {});
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const event = parseEvent(message);
      if (!event) return;
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch {
          // One failing listener must not starve the others.
        }
      }
    });
    await subscriber.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#ready = undefined;
    if (!subscriber) return;
    await subscriber.quit().catch(() => subscriber.disconnect());
  }
}

function parseEvent(message: string): ChangeEvent | null {
  try {
    const e = JSON.parse(message) as { key?: unknown; version?: unknown; type?: unknown };
    if (typeof e.key !== 'string' || typeof e.version !== 'number') return null;
    if (e.type !== 'commit' && e.type !== 'delete' && e.type !== 'expire') return null;
    return { key: e.key, version: e.version, type: e.type };
  } catch {
    return null;
  }
}
