import { Hono } from 'hono';
import type { SessionStore } from '../store/session-store.js';

export interface AppOptions {
  store: SessionStore;
  /** True while the server is shutting down: /readyz answers 503 so load balancers stop sending. */
  draining?: () => boolean;
}

/**
 * The HTTP surface as a Web-standard fetch handler (Request -> Response), so the same app runs on
 * Node (server/node.ts) and on edge runtimes. Hono is the router: it is built on the Fetch API,
 * runs unchanged on every runtime, and adds little per request.
 */
export function createApp(options: AppOptions): Hono {
  const app = new Hono();
  const { store } = options;

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    if (options.draining?.()) return c.json({ status: 'draining' }, 503);
    try {
      await store.ping();
      return c.json({ status: 'ready', store: store.driver.name });
    } catch (error) {
      return c.json(
        { status: 'store_unreachable', store: store.driver.name, error: (error as Error).message },
        503,
      );
    }
  });

  return app;
}
