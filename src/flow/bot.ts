import { validateMessage } from '../channels/whatsapp-cloud/validate.js';
import { type Bot, type BotContext, describeEvent, replyEnvelope } from '../runtime/bot.js';
import type { SessionDraft } from '../session/draft.js';
import type { MessageEvent } from '../webhook/events.js';
import { FLOW_VARS, type Step } from './context.js';
import { type FlowRuntime, runtimeOf } from './define.js';
import { type BotRuntime, commandKey, runStep } from './engine.js';
import { FlowError, invalidDefinition } from './errors.js';
import { Recorder } from './recorder.js';
import { matchOption, readOptions } from './render.js';
import type { BotDefinition, CommandHandler, FlowErrorInfo, HandoffEvent } from './types.js';

const DEFAULT_ERROR_REPLY = 'Sorry, something went wrong. Please try again.';
const DEFAULT_GOODBYE = 'Goodbye! Send any message to start again.';

interface Resolved extends BotRuntime {
  errorReply: string;
  timeoutMs: number;
  history: 'both' | 'in' | 'none';
  onError: (error: FlowError, info: FlowErrorInfo) => void;
  onHandoff: ((event: HandoffEvent) => void | Promise<void>) | undefined;
}

function text(option: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  try {
    validateMessage({ type: 'text', text: value });
  } catch (error) {
    invalidDefinition(`${option}: ${(error as Error).message}`);
  }
  return value;
}

function resolve(d: BotDefinition): Resolved {
  if (!Array.isArray(d.flows) || d.flows.length === 0)
    invalidDefinition('defineBot() needs at least one flow.');
  const flows = new Map<string, FlowRuntime>();
  for (const flow of d.flows) {
    const runtime = runtimeOf(flow);
    if (flows.has(runtime.name))
      invalidDefinition(`two flows are named "${runtime.name}": flow names must be unique.`);
    flows.set(runtime.name, runtime);
  }
  const start = flows.get(d.start ?? runtimeOf(d.flows[0]).name);
  if (!start)
    invalidDefinition(`start: no flow is named "${d.start}" (flows: ${[...flows.keys()].join(', ')}).`);

  const goodbye = text('goodbye', d.goodbye, DEFAULT_GOODBYE);
  const defaults: Record<string, CommandHandler> = {
    reset: (ctx) => {
      ctx.reset();
      ctx.startFlow(start.name);
    },
    menu: (ctx) => {
      // Asking for the menu is asking for the bot: it ends a handoff.
      ctx.unset(FLOW_VARS.handoff);
      ctx.startFlow(start.name);
    },
    stop: (ctx) => {
      ctx.reset();
      ctx.say(goodbye);
    },
  };
  const commands = new Map<string, CommandHandler>();
  for (const [name, handler] of Object.entries({ ...defaults, ...d.commands })) {
    const key = commandKey(name);
    if (key === '') invalidDefinition('commands: a command name is empty.');
    if (handler === false) continue;
    if (typeof handler !== 'function')
      invalidDefinition(`commands.${name}: give a function, or false to remove it.`);
    commands.set(key, handler);
  }
  for (const key of Object.keys(d.commands ?? {}))
    if (d.commands?.[key] === false) commands.delete(commandKey(key));

  const timeoutMs = d.handlerTimeoutMs ?? 10_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    invalidDefinition('handlerTimeoutMs must be a positive number.');
  const maxRetries = d.maxRetries ?? 3;
  if (!(Number.isSafeInteger(maxRetries) && maxRetries > 0))
    invalidDefinition('maxRetries must be a positive integer.');
  const history = d.history ?? 'both';
  if (!['both', 'in', 'none'].includes(history)) invalidDefinition("history must be 'both', 'in' or 'none'.");
  return {
    flows,
    start,
    commands,
    maxRetries,
    errorReply: text('errorReply', d.errorReply, DEFAULT_ERROR_REPLY),
    timeoutMs,
    history,
    // Silence is the worst default for a failing bot; console is the one logger every runtime has.
    onError:
      d.onError ?? ((error, info) => console.error(error.message, { flow: info.flow, node: info.node })),
    onHandoff: d.onHandoff,
  };
}

function rememberInbound(session: SessionDraft, event: MessageEvent): void {
  if (event.kind === 'media') {
    session.remember({
      dir: 'in',
      at: event.timestamp,
      media: {
        kind: event.mediaType,
        id: event.mediaId,
        mime: event.mimeType,
        ...(event.caption ? { caption: event.caption } : {}),
      },
    });
  } else session.remember({ dir: 'in', at: event.timestamp, text: describeEvent(event) });
}

function choiceOf(event: MessageEvent, options: ReturnType<typeof readOptions>): string | undefined {
  if (event.kind === 'button_reply' || event.kind === 'list_reply') return event.id;
  if (event.kind === 'template_button') return event.payload;
  if (event.kind === 'text') return matchOption(event.text, options);
  return undefined;
}

/** Fails the step after `ms`; the signal tells the handler to stop what it is waiting for. */
async function withTimeout(work: Promise<void>, ms: number, controller: AbortController): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new FlowError(
        'FLOW_HANDLER_TIMEOUT',
        `the step took longer than handlerTimeoutMs (${ms} ms): make the handler faster, pass ctx.signal to slow calls, or raise the option.`,
        { details: { timeoutMs: ms } },
      );
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function report(bot: Resolved, error: FlowError, info: FlowErrorInfo): void {
  try {
    bot.onError(error, info);
  } catch {
    // A broken error hook must not cost the user their error reply.
  }
}

function notifyHandoff(bot: Resolved, handoff: HandoffEvent): void {
  const failed = (error: unknown) =>
    report(bot, new FlowError('FLOW_HANDLER_FAILED', `onHandoff threw: ${String(error)}`, { cause: error }), {
      userId: handoff.userId,
      flow: handoff.flow,
      node: handoff.node,
      event: handoff.event,
    });
  try {
    const pending = bot.onHandoff?.(handoff);
    if (pending) pending.catch(failed);
  } catch (error) {
    failed(error);
  }
}

/**
 * Turns flows into a `Bot` for the runtime. Each message runs as one step against a scratch copy
 * of the session; only a step that succeeds is applied to the transition's draft (and so
 * committed, atomically, with its replies). A step that throws, goes to an unknown node or times
 * out is dropped whole: the user gets `errorReply`, the session keeps its state (the message is
 * still recorded in the history), and the next message is handled from where the user was.
 * The bot itself never throws for a handler's fault, so the dispatcher does not re-run or
 * dead-letter the message.
 */
export function defineBot(definition: BotDefinition): Bot {
  const bot = resolve(definition);

  return async ({ event, session }: BotContext) => {
    if (bot.history !== 'none') rememberInbound(session, event);
    // Reactions and system notices are not answers to anything a node asked.
    if (event.kind !== 'reaction' && event.kind !== 'system') {
      const before = { flow: session.flow, node: session.node };
      const rec = new Recorder(session);
      const controller = new AbortController();
      const step: Step = {
        event,
        rec,
        signal: controller.signal,
        isNew: session.isNew,
        choice: choiceOf(event, readOptions(rec.vars[FLOW_VARS.options])),
        flows: bot.flows,
        rememberOut: bot.history === 'both',
        lastOptions: null,
        handoffs: [],
      };
      try {
        await withTimeout(runStep(bot, step, session.expired), bot.timeoutMs, controller);
        if (rec.sent > 0) {
          if (step.lastOptions) rec.set(FLOW_VARS.options, step.lastOptions);
          else if (rec.vars[FLOW_VARS.options] !== undefined) rec.unset(FLOW_VARS.options);
        }
        rec.applyTo();
      } catch (error) {
        rec.close();
        step.handoffs.length = 0;
        const failure =
          error instanceof FlowError
            ? error
            : new FlowError('FLOW_HANDLER_FAILED', `the step failed: ${String(error)}`, { cause: error });
        report(bot, failure, { userId: event.userId, flow: before.flow, node: before.node, event });
        session.send(replyEnvelope(event, { type: 'text', text: bot.errorReply }));
        if (bot.history === 'both') session.remember({ dir: 'out', at: Date.now(), text: bot.errorReply });
      }
      for (const handoff of step.handoffs) notifyHandoff(bot, handoff);
    }
    // The TTL of the flow the user ends up in, renewed with every message (user-settable per flow).
    const flow = session.flow === null ? undefined : bot.flows.get(session.flow);
    if (flow) session.setTtl(flow.ttlMs);
  };
}
