import { defineCommand } from 'citty';
import { ChatstateError } from '../errors.js';
import { startNodeServer } from '../server/node.js';
import { DEFAULT_STORE_URL, redact } from '../store/open.js';

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Start the HTTP server (webhooks, health, metrics) on a store.' },
  args: {
    store: { type: 'string', description: `Store URL (env CHATSTATE_STORE, default ${DEFAULT_STORE_URL})` },
    port: { type: 'string', description: 'Port to listen on (env PORT, default 3000)' },
    host: { type: 'string', description: 'Interface to bind (env HOST, default 0.0.0.0)' },
  },
  async run({ args }) {
    const storeUrl = args.store ?? process.env.CHATSTATE_STORE ?? DEFAULT_STORE_URL;
    const port = parsePort(args.port ?? process.env.PORT ?? '3000');
    try {
      const server = await startNodeServer({
        storeUrl,
        port,
        host: args.host ?? process.env.HOST ?? '0.0.0.0',
      });
      const stop = async (signal: string) => {
        console.log(`chatstate: ${signal} received, finishing in-flight work`);
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    } catch (error) {
      if (error instanceof ChatstateError) {
        console.error(`${error.message}\n(code ${error.code}; store ${redact(storeUrl)})`);
        process.exit(2);
      }
      throw error;
    }
  },
});

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(
      `[chatstate] [cli] invalid port "${value}": use an integer between 0 and 65535 (PORT or --port).`,
    );
    process.exit(2);
  }
  return port;
}
