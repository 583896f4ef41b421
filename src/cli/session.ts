import { defineCommand } from 'citty';
import { listIds } from './session-list.js';
import { reportJson, reportText, type SessionReport } from './session-view.js';
import { EXIT, finish, jsonArg, positiveInt, storeArg, storeUrl, withStore } from './shared.js';

const idArg = {
  type: 'positional',
  description: 'User id (the wa_id, e.g. 4915112345678)',
  required: true,
} as const;

const getCommand = defineCommand({
  meta: {
    name: 'get',
    description:
      'Print a session (state, vars, history, TTL left, latest replies). Exit 0 found, 1 not found, 2 error.',
  },
  args: {
    id: idArg,
    store: storeArg,
    json: jsonArg,
    outbox: { type: 'string', description: 'Latest outbox entries to show (default 10)', valueHint: 'n' },
  },
  async run({ args }) {
    const outboxLimit = positiveInt(args.outbox, 'outbox', 10);
    const report = await withStore(storeUrl(args.store), async (store): Promise<SessionReport | null> => {
      const session = await store.get(args.id);
      if (!session) return null;
      const now = Date.now();
      return {
        session,
        ttlMs: session.expiresAt === null ? null : Math.max(0, session.expiresAt - now),
        outbox: store.outbox ? await store.outbox.forUser(args.id, outboxLimit) : null,
      };
    });
    if (!report) {
      if (args.json) console.log(JSON.stringify({ found: false, id: args.id }));
      console.error(`chatstate: no session for ${args.id} (never stored, expired or cleared).`);
      return finish(EXIT.no);
    }
    console.log(args.json ? JSON.stringify(reportJson(report), null, 2) : reportText(report, Date.now()));
    return finish(EXIT.ok);
  },
});

const clearCommand = defineCommand({
  meta: {
    name: 'clear',
    description: 'Delete a session: the user starts over. Exit 0 (existed or not), 2 error.',
  },
  args: { id: idArg, store: storeArg, json: jsonArg },
  async run({ args }) {
    const existed = await withStore(storeUrl(args.store), (store) => store.delete(args.id));
    if (args.json) console.log(JSON.stringify({ id: args.id, existed }));
    else console.log(existed ? `cleared session ${args.id}` : `no session for ${args.id}: nothing to clear`);
    return finish(EXIT.ok);
  },
});

const listCommand = defineCommand({
  meta: {
    name: 'list',
    description: 'Print session ids, one per line (SQLite, Redis). Exit 0, 2 error or store cannot list.',
  },
  args: {
    prefix: { type: 'string', description: 'Only ids that start with this', valueHint: 'text' },
    limit: { type: 'string', description: 'Stop after this many ids (default: all)', valueHint: 'n' },
    'page-size': { type: 'string', description: 'Ids fetched per store call (default 1000)', valueHint: 'n' },
    store: storeArg,
    json: jsonArg,
  },
  async run({ args }) {
    const options = {
      prefix: args.prefix ?? '',
      limit: positiveInt(args.limit, 'limit', Number.POSITIVE_INFINITY),
      pageSize: positiveInt(args['page-size'], 'page-size', 1000),
      json: Boolean(args.json),
    };
    await withStore(storeUrl(args.store), (store) => listIds(store, options));
    return finish(EXIT.ok);
  },
});

export const sessionCommand = defineCommand({
  meta: { name: 'session', description: 'Inspect and clear user sessions in a store.' },
  subCommands: { get: getCommand, clear: clearCommand, list: listCommand },
});
