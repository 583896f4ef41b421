import { defineCommand } from 'citty';
import { ChatstateError } from '../errors.js';
import { startNodeServer } from '../server/node.js';
import { DEFAULT_STORE_URL } from '../store/open.js';

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Start the HTTP server (webhooks, health, metrics) on a store.' },
  args: {
    store: { type: 'string', description: `Store URL (env CHATSTATE_STORE, default ${DEFAULT_STORE_URL})` },
    port: { type: 'string', description: 'Port to listen on (env PORT, default 3000)' },
    host: { type: 'string', description: 'Interface to bind (env HOST, default 0.0.0.0)' },
    role: {
      type: 'string',
      description:
        'all (default): record and process messages; ingest: only record them (webhooks, inbox, 200); worker: only process the inbox (env CHATSTATE_ROLE)',
    },
    bot: {
      type: 'string',
      description:
        'Bot module: its default export is the bot (env CHATSTATE_BOT; default: a bot that only remembers messages)',
    },
  },
  async run({ args }) {
    const env = { ...process.env };
    if (args.store) env.CHATSTATE_STORE = args.store;
    if (args.bot) env.CHATSTATE_BOT = args.bot;
    if (args.port) env.PORT = args.port;
    if (args.role) env.CHATSTATE_ROLE = args.role;
    try {
      const server = await startNodeServer({ env, host: args.host ?? process.env.HOST ?? '0.0.0.0' });
      const stop = async (signal: string) => {
        console.error(`chatstate: ${signal} received, finishing in-flight work`);
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    } catch (error) {
      if (error instanceof ChatstateError) {
        console.error(`${error.message} (code ${error.code})`);
        process.exit(2);
      }
      throw error;
    }
  },
});
