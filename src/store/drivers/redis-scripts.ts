import { type Cluster, Command, type Redis } from 'ioredis';
import { LUA_SCRIPTS, type LuaScript } from '../lua/generated/scripts.js';
import { setDeadline } from './redis-deadlines.js';
import { encodeEvalSha } from './redis-request.js';

export type RedisClient = Redis | Cluster;
export type ScriptArg = string | Buffer;

/**
 * Runs a script by SHA (EVALSHA: the body is not resent on every call). The scripts are loaded at
 * connect; after a server restart or SCRIPT FLUSH the first call gets NOSCRIPT and is resent once
 * as EVAL, which also loads it. Buffer replies keep binary history entries byte-exact.
 */
export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: string[],
  args: ScriptArg[],
): Promise<unknown> {
  try {
    return await sendScript(client, script, keys, args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return evalScript(client, script, keys, args);
  }
}

/**
 * The EVALSHA of runScript alone, for a caller that awaits it itself and handles NOSCRIPT with
 * `isNoScript` and `evalScript` (one async layer less on the path of every transition).
 */
export function sendScript(
  client: RedisClient,
  script: LuaScript,
  keys: string[],
  args: ScriptArg[],
): Promise<unknown> {
  batchWrites(client);
  return client.sendCommand(new EvalSha(script.sha1, keys, args)) as Promise<unknown>;
}

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** The script sent whole (EVAL), which also loads it: after NOSCRIPT. */
export function evalScript(client: RedisClient, script: LuaScript, keys: string[], args: ScriptArg[]) {
  batchWrites(client);
  return client.callBuffer('eval', script.source, keys.length, ...keys, ...args);
}

/**
 * EVALSHA, written to the socket as the driver encoded it. ioredis's generic path costs about 6 us
 * of CPU per command with ~30 arguments (flattening and checking every argument, then building the
 * request from many small strings and Buffers); this one is written once, as bytes
 * (redis-request.ts). ioredis still sends it, times it out, matches its reply and, on a cluster,
 * routes it: it keeps the SHA, key count and keys as its arguments, which is where ioredis finds
 * the keys (the slot).
 */
export class EvalSha extends Command {
  readonly #request: Buffer;
  /** The script's ARGV (for tools that inspect what was sent; ioredis's `args` hold SHA, count, keys). */
  readonly scriptArgs: ScriptArg[];

  constructor(sha: string, keys: string[], args: ScriptArg[]) {
    // The arguments are set after the base constructor, which would copy them once more (`flat()`).
    super('evalsha', [], { replyEncoding: null });
    this.args = [sha, String(keys.length), ...keys];
    this.scriptArgs = args;
    this.#request = encodeEvalSha(this.args as string[], args);
  }

  override toWritable(): Buffer {
    return this.#request;
  }

  #timed = false;
  /** ioredis calls this with the client's commandTimeout: one shared timer instead of one per command (redis-deadlines.ts). */
  override setTimeout(ms: number): void {
    if (this.#timed) return;
    this.#timed = true;
    setDeadline(this, ms);
  }
}

/**
 * ioredis writes every command to the socket on its own: one syscall each, and on the server one
 * read each. With many transitions in flight, the replies of one socket read resume their
 * transitions together, and their next commands are sent within one tick of the event loop. Those
 * go out in batches instead: the socket is corked and flushed after BATCH commands or at the end of
 * the tick, whichever comes first, so nothing waits longer than that tick.
 *
 * Why not the whole tick: redis-server runs a batch to the end before it answers any of it, and
 * Node handles a batch of replies to the end before it sends anything. One batch per tick makes
 * the two processes take turns, each idle while the other works. Smaller batches let Redis start
 * on the first commands while Node is still preparing the rest. Measured at 64 transitions in
 * flight on 2 cores (docs/redis.md, "Transition cost"): a batch per tick 10.5–11.3k transitions/s,
 * batches of 4, 8 or 16 commands 13.4–14.9k/s, one write per command 9.2–12.4k/s.
 */
const BATCH = 8;

interface Batch {
  streams: Array<Redis['stream'] | undefined>;
  count: number;
}
const batches = new WeakMap<RedisClient, Batch>();

function flush(client: RedisClient, batch: Batch): void {
  if (batches.get(client) !== batch) return;
  batches.delete(client);
  // A stream replaced by a reconnect since is closed, and uncorking it is harmless.
  for (const stream of batch.streams) if (stream?.writableCorked) stream.uncork();
}

function batchWrites(client: RedisClient): void {
  const open = batches.get(client);
  if (open) {
    if (open.count < BATCH) {
      open.count++;
      return;
    }
    flush(client, open);
  }
  const streams = client.isCluster
    ? (client as Cluster).nodes('master').map((node) => node.stream)
    : [(client as Redis).stream];
  let corked = false;
  for (const stream of streams) {
    if (stream?.writable) {
      stream.cork();
      corked = true;
    }
  }
  if (!corked) return;
  const batch: Batch = { streams, count: 1 };
  batches.set(client, batch);
  process.nextTick(flush, client, batch);
}

/** Loads every script on every given node (all masters of a cluster), so EVALSHA hits at once. */
export async function loadScripts(nodes: Redis[]): Promise<void> {
  await Promise.all(
    nodes.flatMap((node) =>
      Object.values(LUA_SCRIPTS).map(async (script) => {
        const sha = await node.script('LOAD', script.source);
        if (sha !== script.sha1)
          throw new Error(`${script.name}: server SHA ${String(sha)} differs from ${script.sha1}`);
      }),
    ),
  );
}

export { LUA_SCRIPTS };
