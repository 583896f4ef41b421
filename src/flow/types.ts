import type {
  CloudMessage,
  ListRow,
  ListSection,
  MediaSource,
  ReplyButton,
  TemplateComponent,
} from '../channels/whatsapp-cloud/types.js';
import type { NumericKeys } from '../session/draft.js';
import type { HistoryEntry, JsonValue, Vars } from '../session/types.js';
import type { LocationMessageEvent, MediaMessageEvent, MessageEvent } from '../webhook/events.js';
import type { Flow } from './define.js';
import type { FlowError } from './errors.js';

export type MediaKind = 'image' | 'video' | 'document' | 'audio' | 'sticker';

/**
 * What a node handler gets for one inbound message: the message with convenient accessors, the
 * session's variables typed as the flow's `V`, reply helpers and navigation. Everything it changes
 * is applied to the session only if the whole step succeeds.
 */
export interface FlowContext<V extends Vars = Vars, N extends string = string> {
  readonly event: MessageEvent;
  /** The sender (wa_id or business-scoped user id): the session id. */
  readonly userId: string;
  /** A text message's body, trimmed; undefined for every other kind of message. */
  readonly text: string | undefined;
  /**
   * The id of the option the user picked: a reply button or list row id, a template button payload,
   * or a typed answer matching the last options sent (their number, title or id, any case).
   */
  readonly choice: string | undefined;
  /** The inbound media message (image, audio, video, document, sticker), if that is what came. */
  readonly media: MediaMessageEvent | undefined;
  readonly location: LocationMessageEvent | undefined;
  /** Where the handler runs. */
  readonly flow: string;
  readonly node: N;
  readonly prevNode: string | null;
  /** The session's variables, including this step's own writes. Change them with `set`. */
  readonly vars: Readonly<Partial<V>>;
  /** Invalid answers at this node so far (reset when the user leaves the node). */
  readonly retries: number;
  /** Recent messages, both directions, oldest first (the store keeps `historyLimit`, default 5). */
  readonly history: readonly HistoryEntry[];
  /** True when this user had no session (never seen, cleared, or expired). */
  readonly isNew: boolean;
  /** Aborted when the step times out: pass it to fetch() so slow calls stop with it. */
  readonly signal: AbortSignal;

  set<K extends keyof V & string>(key: K, value: V[K]): void;
  unset(key: keyof V & string): void;
  /** Atomic increment of a numeric variable; returns the new value. */
  incr(key: NumericKeys<V>, by?: number): number;

  say(text: string, options?: { quote?: boolean }): void;
  /** 1-3 reply buttons. */
  buttons(body: string, buttons: ReplyButton[], options?: { header?: string; footer?: string }): void;
  /** An interactive list: sections, or rows for a list with a single untitled section. */
  list(
    body: string,
    button: string,
    sections: ListSection[] | ListRow[],
    options?: { header?: string; footer?: string },
  ): void;
  template(name: string, language: string, components?: TemplateComponent[]): void;
  /** `source`: a public URL, a WhatsApp media id, or `{ id }` / `{ link }`. */
  sendMedia(
    kind: MediaKind,
    source: string | MediaSource,
    options?: { caption?: string; filename?: string },
  ): void;
  /** Any Cloud API message, validated against Meta's documented limits before it is recorded. */
  send(message: CloudMessage, options?: { quote?: boolean }): void;

  /** Leaves this node for `node` of the same flow (its prompt runs in this same step). */
  goto(node: N): void;
  /** Moves to another flow, at its start node or at `node`. */
  startFlow(flow: string, node?: string): void;
  /** Increments the node's retry counter (atomically); returns the new count. */
  retry(): number;
  /**
   * Rejects the answer: counts a retry, says `message`, re-prompts; after the node's `maxRetries`
   * (default 3) the user goes to the node's (or flow's) `fallback` node.
   */
  invalid(message?: string): void;
  /** Ends the flow: the next message starts the bot's start flow again. Variables are kept. */
  end(): void;
  /**
   * Hands the conversation to a human: flags the session (the bot stays silent until the flag is
   * removed or the user resets) and calls the bot's `onHandoff` once the step has succeeded.
   */
  handoff(reason: string): void;
  /** Clears the whole session (the "reset" command); navigation after it starts from nothing. */
  reset(): void;
}

export type NodeHandler<V extends Vars = Vars, N extends string = string> = (
  ctx: FlowContext<V, N>,
) => void | Promise<void>;

/**
 * A node: `prompt` runs when the user arrives (it asks the question), `input` runs on the user's
 * next message (it reads the answer). A bare function is an `input`-only node.
 */
export interface NodeDefinition<V extends Vars = Vars, N extends string = string> {
  prompt?: NodeHandler<V, N>;
  input?: NodeHandler<V, N>;
  /** Where `invalid()` sends the user after `maxRetries`. Default: the flow's `fallback`, then its start. */
  fallback?: NoInfer<N>;
  /** Invalid answers before the fallback. Default: the flow's, then the bot's (3). */
  maxRetries?: number;
  /** Whether `invalid()` runs the prompt again after its message. Default true. */
  reprompt?: boolean;
}

export type FlowNode<V extends Vars = Vars, N extends string = string> =
  | NodeHandler<V, N>
  | NodeDefinition<V, N>;

/** What the session held when it expired: enough to greet the user, or to resume. */
export interface ExpiredSession<V extends Vars = Vars> {
  flow: string | null;
  node: string | null;
  /** Typed as the flow's variables on trust: they were written by this flow (maybe an older version). */
  vars: Readonly<Partial<V>>;
  updatedAt: number;
  expiresAt: number | null;
}

/** Where a user was when a deploy changed their flow's version. */
export interface StoredPosition {
  /** The version stamped in the session (undefined for sessions older than version stamping). */
  version: JsonValue | undefined;
  node: string;
  vars: Vars;
}

/**
 * A flow's answer to a changed version: new variables (replacing the user's own, `_`-prefixed
 * engine vars are kept) and optionally a node, or 'restart'.
 */
export type Migrate<V extends Vars, N extends string> = (
  old: StoredPosition,
) => { vars: Partial<V>; node?: N } | 'restart';

export interface FlowDefinition<V extends Vars, N extends string> {
  name: string;
  /** Stamped in the session; a user whose stamp differs goes through `onVersionChange`. */
  version: number | string;
  /** Sets the default TTL: 24 h for `support` (default), 1 h for `marketing`. */
  kind?: 'support' | 'marketing';
  /** Session time to live while the user is in this flow, renewed by every message; null: no expiry. */
  ttlMs?: number | null;
  start: NoInfer<N>;
  /** Where `invalid()` sends the user after too many retries, for nodes without their own. */
  fallback?: NoInfer<N>;
  maxRetries?: number;
  nodes: Record<N, FlowNode<V, N>>;
  /**
   * A returning user whose session expired while in this flow. Say something, `goto` a node to
   * resume (restore what you need from `expired.vars`), or do nothing: the bot's start flow starts.
   */
  onExpire?: (ctx: FlowContext<V, N>, expired: ExpiredSession<V>) => void | Promise<void>;
  /** Default 'restart': the user's variables are cleared and the flow starts over. */
  onVersionChange?: 'restart' | Migrate<V, N>;
}

/** A command: runs instead of the node handler when a text message equals its name (any case). */
export type CommandHandler = (ctx: FlowContext) => void | Promise<void>;

export interface HandoffEvent {
  userId: string;
  reason: string;
  flow: string;
  node: string;
  vars: Vars;
  at: number;
  event: MessageEvent;
}

export interface FlowErrorInfo {
  userId: string;
  flow: string | null;
  node: string | null;
  event: MessageEvent;
}

export interface BotDefinition {
  flows: readonly Flow[];
  /** The name of the flow new users (and `reset`, `menu`) start in. Default: the first flow. */
  start?: string;
  /**
   * Commands by name, merged with the defaults `reset` (clear the session, start over), `menu` (go
   * to the start flow, keeping variables) and `stop` (clear the session and say goodbye). `false`
   * removes a default. Matched on text messages, trimmed, any case, with or without a leading `/`.
   */
  commands?: Record<string, CommandHandler | false>;
  /** What the user gets when a step fails. Default: "Sorry, something went wrong. Please try again." */
  errorReply?: string;
  /** What `stop` says. Default: "Goodbye! Send any message to start again." */
  goodbye?: string;
  /** One step (all handlers one message runs) may take this long. Default 10 000 ms. */
  handlerTimeoutMs?: number;
  /** Invalid answers before a node's fallback, for flows and nodes without their own. Default 3. */
  maxRetries?: number;
  /** What is kept in the session's recent-messages history. Default 'both'. */
  history?: 'both' | 'in' | 'none';
  /**
   * A failed step (the user got `errorReply`, the session was left as it was). Runs inside the
   * transition: keep it quick, and expect it again if the store re-runs the transition.
   */
  onError?: (error: FlowError, info: FlowErrorInfo) => void;
  /**
   * A step called `handoff()` and succeeded. Runs before the commit (the store may re-run a
   * transition after a conflict): make it idempotent, e.g. keyed on userId + at.
   */
  onHandoff?: (event: HandoffEvent) => void | Promise<void>;
}
