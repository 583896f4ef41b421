import type { Cluster, Redis } from 'ioredis';
import { LUA_SCRIPTS, type LuaScript } from '../lua/generated/scripts.js';

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
    return await client.callBuffer('evalsha', script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.callBuffer('eval', script.source, keys.length, ...keys, ...args);
  }
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
