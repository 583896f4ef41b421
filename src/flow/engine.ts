import type { Session, Vars } from '../session/types.js';
import { FLOW_VARS, type Nav, NodeContext, nodeOf, type Step } from './context.js';
import type { FlowRuntime, Handler } from './define.js';
import { FlowError } from './errors.js';
import type { CommandHandler, ExpiredSession, FlowContext } from './types.js';

/** What the engine needs from the bot definition (resolved and checked by defineBot). */
export interface BotRuntime {
  flows: ReadonlyMap<string, FlowRuntime>;
  start: FlowRuntime;
  commands: ReadonlyMap<string, CommandHandler>;
  maxRetries: number;
}

interface Position {
  flow: FlowRuntime;
  node: string;
}

/** Node entries one message may cause; more means a goto cycle (a prompt that always moves on). */
const MAX_HOPS = 32;

/** How a typed command is compared: trimmed, any case, with or without a leading slash. */
export function commandKey(text: string): string {
  return text.trim().toLowerCase().replace(/^\//, '');
}

/** Runs one handler with its own context; whatever it throws becomes a FlowError naming where. */
async function call(
  ctx: NodeContext,
  handler: (ctx: FlowContext) => void | Promise<void>,
  what: string,
): Promise<Nav | null> {
  try {
    await handler(ctx);
  } catch (error) {
    if (error instanceof FlowError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new FlowError(
      'FLOW_HANDLER_FAILED',
      `${what} of flow "${ctx.flow}", node "${ctx.node}" threw: ${message}`,
      { cause: error, details: { flow: ctx.flow, node: ctx.node } },
    );
  } finally {
    ctx.close();
  }
  return ctx.next;
}

async function prompt(step: Step, at: Position): Promise<Nav | null> {
  const handler = nodeOf(at.flow, at.node).prompt;
  return handler ? call(new NodeContext(step, at.flow, at.node), handler, 'the prompt') : null;
}

/** Puts the user at a node. Retries reset when the node changes (or on a fallback: `fresh`). */
function moveTo(step: Step, at: Position, fresh: boolean): void {
  const { rec } = step;
  const flowChanged = rec.flow !== at.flow.name;
  if (flowChanged) rec.setFlow(at.flow.name);
  if (flowChanged || rec.vars[FLOW_VARS.version] !== at.flow.version) {
    rec.set(FLOW_VARS.version, at.flow.version);
  }
  if (flowChanged || rec.node !== at.node) {
    rec.goto(at.node);
    rec.resetRetries();
  } else if (fresh && rec.retries !== 0) rec.resetRetries();
}

/**
 * Acts on what a handler asked for, then on what the next node's prompt asks for, and so on:
 * `goto` enters a node (running its prompt in this same step), `invalid` counts a retry and
 * re-prompts or falls back, `end` leaves the flow.
 */
async function settle(bot: BotRuntime, step: Step, first: Nav | null, from: Position): Promise<void> {
  let nav = first;
  let at = from;
  for (let hops = 0; nav; hops++) {
    if (hops >= MAX_HOPS) {
      throw new FlowError(
        'FLOW_LOOP',
        `one message went through ${MAX_HOPS} nodes (last: flow "${at.flow.name}", node "${at.node}"): a prompt keeps moving on; make one of them wait for input.`,
        { details: { flow: at.flow.name, node: at.node } },
      );
    }
    if (nav.type === 'end') {
      const { rec } = step;
      rec.setFlow(null);
      rec.goto(null);
      rec.resetRetries();
      rec.unset(FLOW_VARS.version);
      return;
    }
    if (nav.type === 'goto') {
      at = { flow: nav.flow, node: nav.node };
      moveTo(step, at, false);
      nav = await prompt(step, at);
      continue;
    }
    const node = nodeOf(at.flow, at.node);
    const count = step.rec.incr('retries');
    if (count >= (node.maxRetries ?? at.flow.maxRetries ?? bot.maxRetries)) {
      at = { flow: at.flow, node: node.fallback ?? at.flow.fallback ?? at.flow.start };
      moveTo(step, at, true);
      nav = await prompt(step, at);
      continue;
    }
    if (nav.message) new NodeContext(step, at.flow, at.node).say(nav.message);
    nav = node.reprompt ? await prompt(step, at) : null;
  }
}

async function run(
  bot: BotRuntime,
  step: Step,
  at: Position,
  handler: Handler | undefined,
  what: string,
): Promise<void> {
  if (!handler) return;
  const next = await call(new NodeContext(step, at.flow, at.node), handler, what);
  await settle(bot, step, next, at);
}

function userVars(vars: Readonly<Vars>): Vars {
  return Object.fromEntries(Object.entries(vars).filter(([key]) => !key.startsWith('_')));
}

/** Replaces the flow's own variables, keeping the engine's (`_`-prefixed). */
function replaceVars(step: Step, next: Vars): void {
  for (const key of Object.keys(userVars(step.rec.vars))) if (!(key in next)) step.rec.unset(key);
  for (const [key, value] of Object.entries(next)) if (value !== undefined) step.rec.set(key, value);
}

/**
 * The user is in the middle of a flow whose code changed version since they entered it. Returns
 * true when the message should still go to the user's node (migrated in place).
 */
async function changeVersion(bot: BotRuntime, step: Step, flow: FlowRuntime, node: string): Promise<boolean> {
  const policy = flow.onVersionChange;
  if (policy !== 'restart') {
    const old = {
      version: step.rec.vars[FLOW_VARS.version],
      node,
      vars: structuredClone(userVars(step.rec.vars)),
    };
    let result: ReturnType<typeof policy>;
    try {
      result = policy(old);
    } catch (error) {
      throw new FlowError(
        'FLOW_HANDLER_FAILED',
        `onVersionChange of flow "${flow.name}" threw: ${String(error)}`,
        {
          cause: error,
          details: { flow: flow.name, node },
        },
      );
    }
    if (result !== 'restart') {
      replaceVars(step, result.vars as Vars);
      const target = result.node ?? (flow.nodes.has(node) ? node : flow.start);
      nodeOf(flow, target);
      if (target === node) {
        step.rec.set(FLOW_VARS.version, flow.version);
        return true;
      }
      await settle(bot, step, { type: 'goto', flow, node: target }, { flow, node: target });
      return false;
    }
  }
  replaceVars(step, {});
  const at = { flow, node: flow.start };
  moveTo(step, at, true);
  await settle(bot, step, await prompt(step, at), at);
  return false;
}

/**
 * One inbound message: a command if the text is one, nothing while a human has the conversation,
 * the expiry greeting for a returning user, a fresh start for a new one, the version policy for a
 * user whose flow changed, else the input handler of the user's node.
 */
export async function runStep(bot: BotRuntime, step: Step, expired: Readonly<Session> | null): Promise<void> {
  const { rec, event } = step;
  const current = rec.flow === null ? undefined : bot.flows.get(rec.flow);
  const here: Position | null =
    current && rec.node !== null && current.nodes.has(rec.node) ? { flow: current, node: rec.node } : null;
  const start: Position = { flow: bot.start, node: bot.start.start };

  const command = event.kind === 'text' ? bot.commands.get(commandKey(event.text)) : undefined;
  if (command) return run(bot, step, here ?? start, command, 'command');
  if (rec.vars[FLOW_VARS.handoff] !== undefined) return;

  if (expired && rec.flow === null) {
    const last: ExpiredSession = {
      flow: expired.flow,
      node: expired.node,
      vars: structuredClone(expired.vars),
      updatedAt: expired.updatedAt,
      expiresAt: expired.expiresAt,
    };
    const flow = expired.flow === null ? undefined : bot.flows.get(expired.flow);
    const onExpire = flow?.onExpire;
    if (flow && onExpire) {
      const node = expired.node !== null && flow.nodes.has(expired.node) ? expired.node : flow.start;
      const ctx = new NodeContext(step, flow, node);
      const next = await call(ctx, (c) => onExpire(c, last), 'onExpire');
      if (next) return settle(bot, step, next, { flow, node });
    }
  }
  if (!current || rec.node === null) return settle(bot, step, { type: 'goto', ...start }, start);
  if (rec.vars[FLOW_VARS.version] !== current.version || !here) {
    if (!(await changeVersion(bot, step, current, rec.node))) return;
  }
  const at = here ?? { flow: current, node: current.start };
  const node = nodeOf(at.flow, at.node);
  return run(bot, step, at, node.input ?? node.prompt, node.input ? 'the input handler' : 'the prompt');
}
