import type {
  CloudMessage,
  ListRow,
  ListSection,
  MediaSource,
  ReplyButton,
  TemplateComponent,
} from '../channels/whatsapp-cloud/types.js';
import { replyEnvelope } from '../runtime/bot.js';
import type { HistoryEntry, JsonValue, Vars } from '../session/types.js';
import type { LocationMessageEvent, MediaMessageEvent, MessageEvent } from '../webhook/events.js';
import type { FlowRuntime } from './define.js';
import { FlowError } from './errors.js';
import type { Recorder } from './recorder.js';
import { forProvider, type Option, optionsOf, outboundEntry } from './render.js';
import type { FlowContext, HandoffEvent, MediaKind } from './types.js';

/** Session variables the engine owns (the `_` prefix keeps them apart from a flow's own). */
export const FLOW_VARS = {
  /** The version of the flow the user is in, stamped when they enter it. */
  version: '_fv',
  /** Set while a human has the conversation: `{ reason, at, flow, node }`. */
  handoff: '_handoff',
  /** The options of the last buttons/list message sent, to read typed answers. */
  options: '_ch',
} as const;

/** What every handler of one message shares. */
export interface Step {
  readonly event: MessageEvent;
  readonly rec: Recorder;
  readonly signal: AbortSignal;
  readonly isNew: boolean;
  readonly choice: string | undefined;
  readonly flows: ReadonlyMap<string, FlowRuntime>;
  readonly rememberOut: boolean;
  /** Options of the last interactive message this step sent (null: the last message had none). */
  lastOptions: Option[] | null;
  readonly handoffs: HandoffEvent[];
}

/** Where a handler asked to go; the engine acts on it after the handler returns. */
export type Nav =
  | { type: 'goto'; flow: FlowRuntime; node: string }
  | { type: 'end' }
  | { type: 'invalid'; message: string | undefined };

export function nodeOf(flow: FlowRuntime, node: string) {
  const found = flow.nodes.get(node);
  if (!found) {
    throw new FlowError(
      'FLOW_NODE_UNKNOWN',
      `flow "${flow.name}" has no node "${node}" (it has ${[...flow.nodes.keys()].join(', ')}): fix the goto or add the node.`,
      { details: { flow: flow.name, node } },
    );
  }
  return found;
}

/**
 * The context of one handler call, at one node. Navigation is recorded, not performed, so the
 * engine decides what happens after the handler returns (prompt the next node, count a retry).
 * The last navigation call wins.
 */
export class NodeContext implements FlowContext {
  next: Nav | null = null;
  #open = true;
  readonly #step: Step;
  readonly #flow: FlowRuntime;
  readonly node: string;

  constructor(step: Step, flow: FlowRuntime, node: string) {
    this.#step = step;
    this.#flow = flow;
    this.node = node;
  }

  get event(): MessageEvent {
    return this.#step.event;
  }
  get userId(): string {
    return this.#step.event.userId;
  }
  get text(): string | undefined {
    return this.#step.event.kind === 'text' ? this.#step.event.text.trim() : undefined;
  }
  get choice(): string | undefined {
    return this.#step.choice;
  }
  get media(): MediaMessageEvent | undefined {
    return this.#step.event.kind === 'media' ? this.#step.event : undefined;
  }
  get location(): LocationMessageEvent | undefined {
    return this.#step.event.kind === 'location' ? this.#step.event : undefined;
  }
  get flow(): string {
    return this.#flow.name;
  }
  get prevNode(): string | null {
    return this.#step.rec.prevNode;
  }
  get vars(): Readonly<Partial<Vars>> {
    return this.#step.rec.vars;
  }
  get retries(): number {
    return this.#step.rec.retries;
  }
  get history(): readonly HistoryEntry[] {
    return this.#step.rec.history;
  }
  get isNew(): boolean {
    return this.#step.isNew;
  }
  get signal(): AbortSignal {
    return this.#step.signal;
  }

  /** Called by the engine when the handler returned: later calls are a bug (an un-awaited promise). */
  close(): void {
    this.#open = false;
  }

  set(key: string, value: JsonValue): void {
    this.#rec().set(key, value);
  }
  unset(key: string): void {
    this.#rec().unset(key);
  }
  incr(key: string, by?: number): number {
    return this.#rec().incr(key, by);
  }

  say(text: string, options?: { quote?: boolean }): void {
    this.send({ type: 'text', text }, options);
  }
  buttons(body: string, buttons: ReplyButton[], options: { header?: string; footer?: string } = {}): void {
    this.send({
      type: 'buttons',
      body,
      buttons,
      ...(options.header ? { header: { type: 'text', text: options.header } } : {}),
      ...(options.footer ? { footer: options.footer } : {}),
    });
  }
  list(
    body: string,
    button: string,
    sections: ListSection[] | ListRow[],
    options: { header?: string; footer?: string } = {},
  ): void {
    const asSections = sections.every((s) => 'rows' in s)
      ? (sections as ListSection[])
      : [{ rows: sections as ListRow[] }];
    this.send({ type: 'list', body, button, sections: asSections, ...options });
  }
  template(name: string, language: string, components?: TemplateComponent[]): void {
    this.send({ type: 'template', name, language, ...(components ? { components } : {}) });
  }
  sendMedia(
    kind: MediaKind,
    source: string | MediaSource,
    options: { caption?: string; filename?: string } = {},
  ): void {
    const media: MediaSource =
      typeof source !== 'string' ? source : /^https?:\/\//i.test(source) ? { link: source } : { id: source };
    const caption =
      kind === 'audio' || kind === 'sticker' ? {} : options.caption ? { caption: options.caption } : {};
    const filename = kind === 'document' && options.filename ? { filename: options.filename } : {};
    this.send({ type: kind, media, ...caption, ...filename } as CloudMessage);
  }
  send(message: CloudMessage, options?: { quote?: boolean }): void {
    const rec = this.#rec();
    const step = this.#step;
    // Validated here, so a message Meta would refuse fails the step (error reply, nothing
    // committed) instead of failing later in the outbox after the state moved on.
    rec.send(replyEnvelope(step.event, forProvider(step.event, message), options));
    if (step.rememberOut) rec.remember(outboundEntry(message));
    step.lastOptions = optionsOf(message);
  }

  goto(node: string): void {
    this.#rec();
    nodeOf(this.#flow, node);
    this.next = { type: 'goto', flow: this.#flow, node };
  }
  startFlow(flow: string, node?: string): void {
    this.#rec();
    const target = this.#step.flows.get(flow);
    if (!target) {
      throw new FlowError(
        'FLOW_UNKNOWN',
        `the bot has no flow "${flow}" (it has ${[...this.#step.flows.keys()].join(', ')}): add it to defineBot({ flows }).`,
        { details: { flow } },
      );
    }
    nodeOf(target, node ?? target.start);
    this.next = { type: 'goto', flow: target, node: node ?? target.start };
  }
  retry(): number {
    return this.#rec().incr('retries');
  }
  invalid(message?: string): void {
    this.#rec();
    this.next = { type: 'invalid', message };
  }
  end(): void {
    this.#rec();
    this.next = { type: 'end' };
  }
  handoff(reason: string): void {
    const rec = this.#rec();
    const at = Date.now();
    rec.set(FLOW_VARS.handoff, { reason, at, flow: this.#flow.name, node: this.node });
    this.#step.handoffs.push({
      userId: this.userId,
      reason,
      flow: this.#flow.name,
      node: this.node,
      vars: structuredClone(rec.vars) as Vars,
      at,
      event: this.#step.event,
    });
  }
  reset(): void {
    this.#rec().clear();
  }

  #rec(): Recorder {
    if (!this.#open) {
      throw new FlowError(
        'FLOW_STEP_CLOSED',
        `a handler of node "${this.node}" used its context after it returned: await every promise that replies or navigates.`,
      );
    }
    return this.#step.rec;
  }
}
