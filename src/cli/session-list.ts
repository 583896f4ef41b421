import { ChatstateError } from '../errors.js';
import type { SessionStore } from '../store/session-store.js';

export interface ListOptions {
  prefix: string;
  /** Most ids to print (Infinity: all). */
  limit: number;
  pageSize: number;
  json: boolean;
}

/** Non-TTY stderr (CI logs, files) gets one progress line per this many pages, not one per page. */
const LOG_EVERY_PAGES = 10;

/**
 * Streams ids to stdout page by page, so listing a million sessions needs one page of memory and
 * the first ids appear at once. `--json` is streamed too: `{"ids":[...],"count":N,"more":bool}`.
 * Progress goes to stderr, keeping stdout clean for pipes.
 */
export async function listIds(store: SessionStore, o: ListOptions): Promise<void> {
  if (!store.capabilities.scan) {
    // Checked up front to name the missing capability; store.list would say the same less precisely.
    throw new ChatstateError(
      'CAPABILITY_MISSING',
      `the ${store.driver.name} store cannot list sessions (it has no "scan" capability): list from a SQLite or Redis store, or look a session up by id with \`chatstate session get <id>\`.`,
      { component: 'cli' },
    );
  }
  const out = process.stdout;
  const tty = process.stderr.isTTY === true;
  let count = 0;
  let pages = 0;
  let cursor: string | null = null;
  let progressShown = false;
  if (o.json) out.write('{"ids":[');
  do {
    const page = await store.list({ prefix: o.prefix, cursor, limit: Math.min(o.pageSize, o.limit - count) });
    // Some stores (Redis SCAN) may return a few more than asked: never print past --limit.
    const ids = page.ids.slice(0, o.limit - count);
    if (ids.length) {
      out.write(
        o.json ? (count ? ',' : '') + ids.map((id) => JSON.stringify(id)).join(',') : `${ids.join('\n')}\n`,
      );
    }
    count += ids.length;
    cursor = page.cursor;
    pages += 1;
    if (pages > 1 && cursor !== null) {
      progressShown = true;
      if (tty) process.stderr.write(`\rchatstate: listed ${count} ids (${pages} pages)…`);
      else if (pages % LOG_EVERY_PAGES === 0)
        console.error(`chatstate: listed ${count} ids (${pages} pages)…`);
    }
  } while (cursor !== null && count < o.limit);
  if (tty && progressShown) process.stderr.write('\n');
  if (o.json) out.write(`],"count":${count},"more":${cursor !== null}}\n`);
  if (!o.json && count === 0)
    console.error(`chatstate: no sessions${o.prefix ? ` with prefix "${o.prefix}"` : ''}.`);
}
