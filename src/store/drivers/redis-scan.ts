import type { Redis } from 'ioredis';
import { ChatstateError } from '../../errors.js';
import type { ScanPage } from '../contract.js';
import { keyOfHash, sessionPattern } from './redis-keys.js';
import type { RedisClient } from './redis-scripts.js';

/**
 * `scan()` over SCAN MATCH … TYPE hash on every master, in host:port order. SCAN returns batches
 * of any size, so the cursor carries the current node, its SCAN cursor and the keys found beyond
 * the page (base64url JSON): a page holds exactly `limit` keys and none is skipped. SCAN's own
 * guarantee applies: a session present for the whole listing is returned at least once.
 * Sessions past their logical expiry (kept for the grace period) are left out.
 */
interface Position {
  node: number;
  cursor: string;
  rest: string[];
}

export async function scanSessions(
  client: RedisClient,
  masters: () => Redis[],
  prefix: string,
  cursor: string | null,
  limit: number,
  now: number,
  graceMs: number,
): Promise<ScanPage> {
  const nodes = [...masters()].sort((a, b) => address(a).localeCompare(address(b)));
  const at = cursor === null ? { node: 0, cursor: '0', rest: [] } : decodeCursor(cursor);
  const found = [...at.rest];
  let { node, cursor: scanCursor } = at;
  const count = String(Math.min(1000, Math.max(100, limit * 2)));
  while (found.length < limit && node < nodes.length) {
    const target = nodes[node] as Redis;
    const [next, names] = (await target.scan(
      scanCursor,
      'MATCH',
      sessionPattern(prefix),
      'COUNT',
      count,
      'TYPE',
      'hash',
    )) as [string, string[]];
    const keys = names.map(keyOfHash).filter((k): k is string => k !== null && k.startsWith(prefix));
    found.push(...(await live(client, keys, now, graceMs)).sort());
    if (next === '0') {
      node += 1;
      scanCursor = '0';
    } else {
      scanCursor = next;
    }
  }
  const page = found.slice(0, limit);
  const rest = found.slice(limit);
  const done = node >= nodes.length && rest.length === 0;
  return { keys: page, cursor: done ? null : encodeCursor({ node, cursor: scanCursor, rest }) };
}

/**
 * Drops sessions past their expiry: a hash's expiry is the session's expiresAt + grace (commit.lua),
 * and the keys live on for the grace period. Also drops hashes deleted since SCAN listed them.
 */
async function live(client: RedisClient, keys: string[], now: number, graceMs: number): Promise<string[]> {
  const expiries = await Promise.all(keys.map((k) => expiryOf(client, `{${k}}`)));
  return keys.filter((_, i) => {
    const expiry = expiries[i] as number;
    return expiry === -1 || (expiry >= 0 && expiry - graceMs > now);
  });
}

/** PEXPIRETIME (Redis 7.0+), or the local clock plus PTTL on older servers. -1: none, -2: no key. */
async function expiryOf(client: RedisClient, key: string): Promise<number> {
  try {
    return await client.pexpiretime(key);
  } catch (error) {
    if (!(error instanceof Error) || !/unknown command/i.test(error.message)) throw error;
    const pttl = await client.pttl(key);
    return pttl < 0 ? pttl : Date.now() + pttl;
  }
}

function address(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.node, p.cursor, p.rest])).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const [node, scanCursor, rest] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (Number.isSafeInteger(node) && typeof scanCursor === 'string' && Array.isArray(rest)) {
      return { node: node as number, cursor: scanCursor, rest: rest.map(String) };
    }
  } catch {
    // fall through
  }
  throw new ChatstateError(
    'INVALID_ARGUMENT',
    `invalid list cursor "${cursor.slice(0, 40)}": pass back the cursor a previous page returned.`,
    { component: 'redis' },
  );
}
