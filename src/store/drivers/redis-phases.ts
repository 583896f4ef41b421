import type { Redis } from 'ioredis';
import type { LuaScript } from '../lua/generated/scripts.js';
import type { RedisClient } from './redis-scripts.js';

/** One command or script call of a multi-step operation (inbox, outbox). Replies are strings. */
export type Step =
  | { script: LuaScript; keys: string[]; args: string[] }
  | { command: string; args: string[] };

/** Sends one step on its own (EVALSHA, resent as EVAL after NOSCRIPT). */
export async function callStep(client: RedisClient, step: Step): Promise<unknown> {
  if ('command' in step) return client.call(step.command, ...step.args);
  const { script, keys, args } = step;
  try {
    return await client.call('evalsha', script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.call('eval', script.source, keys.length, ...keys, ...args);
  }
}

/**
 * Runs phases in order: one pipeline on a single server (one connection executes them in order),
 * phase after phase on a cluster, each phase in parallel over the nodes, because the order across
 * nodes is only kept by waiting. Every step must be idempotent: after NOSCRIPT the whole pipeline
 * is run again with EVAL.
 */
export async function runPhases(client: RedisClient, phases: Step[][]): Promise<unknown[][]> {
  if (client.isCluster) {
    const out: unknown[][] = [];
    for (const phase of phases) out.push(await Promise.all(phase.map((step) => callStep(client, step))));
    return out;
  }
  const steps = phases.flat();
  if (steps.length === 0) return phases.map(() => []);
  const exec = async (load: boolean) => {
    const pipeline = (client as Redis).pipeline();
    for (const step of steps) {
      if ('command' in step) pipeline.call(step.command, ...step.args);
      else if (load) pipeline.call('eval', step.script.source, step.keys.length, ...step.keys, ...step.args);
      else pipeline.call('evalsha', step.script.sha1, step.keys.length, ...step.keys, ...step.args);
    }
    return (await pipeline.exec()) ?? [];
  };
  let replies = await exec(false);
  if (replies.some(([e]) => e instanceof Error && e.message.startsWith('NOSCRIPT')))
    replies = await exec(true);
  const failed = replies.find(([e]) => e);
  if (failed) throw failed[0];
  const values = replies.map(([, value]) => value);
  const out: unknown[][] = [];
  let at = 0;
  for (const phase of phases) {
    out.push(values.slice(at, at + phase.length));
    at += phase.length;
  }
  return out;
}
