import { type ServerType, serve } from '@hono/node-server';
import { openStore } from '../store/open.js';
import type { StoreOptions } from '../store/options.js';
import type { SessionStore } from '../store/session-store.js';
import { createApp } from './app.js';

export interface NodeServerOptions {
  storeUrl: string;
  port: number;
  host?: string;
  storeOptions?: StoreOptions;
  log?: (message: string) => void;
}

export interface RunningServer {
  url: string;
  store: SessionStore;
  close(): Promise<void>;
}

/** Starts the HTTP server on Node: opens the store, serves the fetch handler, shuts down gracefully. */
export async function startNodeServer(options: NodeServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((m: string) => console.log(m));
  const store = await openStore(options.storeUrl, options.storeOptions);
  let draining = false;
  const app = createApp({ store, draining: () => draining });
  const host = options.host ?? '0.0.0.0';
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: host }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
  log(`chatstate listening on ${url} (store: ${store.driver.name})`);
  return {
    url,
    store,
    async close() {
      draining = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
