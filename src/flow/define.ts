import type { Vars } from '../session/types.js';
import { invalidDefinition } from './errors.js';
import type { ExpiredSession, FlowContext, FlowDefinition, Migrate, NodeHandler } from './types.js';

const HOUR = 3_600_000;
/** The TTLs users expect (DESIGN.md): a day for support conversations, an hour for marketing flows. */
export const FLOW_TTL_MS = { support: 24 * HOUR, marketing: HOUR } as const;

/**
 * A flow as the bot runs it. Handlers were type-checked against the flow's variables when it was
 * defined; the engine works on the erased runtime form kept beside it, so flows with different
 * variable types sit in one bot.
 */
export interface Flow<V extends Vars = Vars, N extends string = string> {
  readonly name: string;
  readonly version: number | string;
  readonly nodeNames: readonly N[];
}

/** Handlers with their types erased: the engine calls them with the context of their own flow. */
export type Handler = NodeHandler<Vars, string>;

export interface RuntimeNode {
  prompt: Handler | undefined;
  input: Handler | undefined;
  fallback: string | undefined;
  maxRetries: number | undefined;
  reprompt: boolean;
}

export interface FlowRuntime {
  name: string;
  version: number | string;
  ttlMs: number | null;
  start: string;
  fallback: string | undefined;
  maxRetries: number | undefined;
  nodes: ReadonlyMap<string, RuntimeNode>;
  onExpire: ((ctx: FlowContext, expired: ExpiredSession) => void | Promise<void>) | undefined;
  onVersionChange: 'restart' | Migrate<Vars, string>;
}

// The runtime form is kept off the public object so `Flow` stays a small, printable value.
const runtimes = new WeakMap<object, FlowRuntime>();

export function runtimeOf(flow: unknown): FlowRuntime {
  const runtime = typeof flow === 'object' && flow !== null ? runtimes.get(flow) : undefined;
  if (!runtime) invalidDefinition('bot flows must be made with defineFlow().');
  return runtime;
}

const isFn = (value: unknown): value is (...args: never[]) => unknown => typeof value === 'function';

function checkRetries(where: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    invalidDefinition(`${where}: maxRetries must be a positive integer, got ${String(value)}.`);
  }
  return value as number;
}

/**
 * Defines a flow: named nodes, where it starts, how long its sessions live and what happens when
 * its version changes. Everything that can be checked without running a handler is checked here;
 * `goto` to an unknown node always fails when it runs.
 *
 * `V` types the session variables handlers read and `set`. The node names are inferred from
 * `nodes`, so the compiler checks `goto`, `start` and `fallback`, in two of the three forms:
 * - `defineFlow({ … })`: node names checked, variables untyped;
 * - `defineFlow<MyVars>()({ … })`: both checked (TypeScript cannot infer some type arguments
 *   and take others, hence the extra call);
 * - `defineFlow<MyVars>({ … })`: variables checked, node names checked only at run time.
 */
export function defineFlow<V extends Vars = Vars, const N extends string = string>(
  definition: FlowDefinition<V, N>,
): Flow<V, N>;
export function defineFlow<V extends Vars>(): <const N extends string>(
  definition: FlowDefinition<V, N>,
) => Flow<V, N>;
export function defineFlow(definition?: FlowDefinition<Vars, string>) {
  return definition === undefined ? build : build(definition);
}

function build<V extends Vars, N extends string>(definition: FlowDefinition<V, N>): Flow<V, N> {
  const d = definition as unknown as FlowDefinition<Vars, string>;
  if (typeof d !== 'object' || d === null) invalidDefinition('defineFlow() takes a flow definition object.');
  if (typeof d.name !== 'string' || d.name.trim() === '') invalidDefinition('a flow needs a non-empty name.');
  const where = `flow "${d.name}"`;
  const versionOk =
    (typeof d.version === 'number' && Number.isFinite(d.version)) ||
    (typeof d.version === 'string' && d.version !== '');
  if (!versionOk) invalidDefinition(`${where}: version must be a number or a non-empty string.`);
  if (d.kind !== undefined && !(d.kind in FLOW_TTL_MS)) {
    invalidDefinition(`${where}: kind must be "support" or "marketing", got "${String(d.kind)}".`);
  }
  if (d.ttlMs !== undefined && d.ttlMs !== null && !(Number.isFinite(d.ttlMs) && d.ttlMs > 0)) {
    invalidDefinition(`${where}: ttlMs must be a positive number of milliseconds or null (no expiry).`);
  }
  if (typeof d.nodes !== 'object' || d.nodes === null || Object.keys(d.nodes).length === 0) {
    invalidDefinition(`${where}: nodes must name at least one node.`);
  }

  const nodes = new Map<string, RuntimeNode>();
  for (const [name, node] of Object.entries(d.nodes)) {
    if (isFn(node)) {
      nodes.set(name, {
        prompt: undefined,
        input: node,
        fallback: undefined,
        maxRetries: undefined,
        reprompt: true,
      });
      continue;
    }
    if (typeof node !== 'object' || node === null || !(isFn(node.prompt) || isFn(node.input))) {
      invalidDefinition(`${where}, node "${name}": give a function, or an object with prompt and/or input.`);
    }
    for (const key of ['prompt', 'input'] as const) {
      if (node[key] !== undefined && !isFn(node[key]))
        invalidDefinition(`${where}, node "${name}": ${key} must be a function.`);
    }
    nodes.set(name, {
      prompt: node.prompt,
      input: node.input,
      fallback: node.fallback,
      maxRetries: checkRetries(`${where}, node "${name}"`, node.maxRetries),
      reprompt: node.reprompt ?? true,
    });
  }

  const known = (what: string, node: string | undefined) => {
    if (node !== undefined && !nodes.has(node)) {
      invalidDefinition(
        `${where}: ${what} "${node}" is not one of its nodes (${[...nodes.keys()].join(', ')}).`,
        {
          flow: d.name,
          node,
        },
      );
    }
  };
  if (d.start === undefined) invalidDefinition(`${where}: start must name the first node.`);
  known('start node', d.start);
  known('fallback node', d.fallback);
  for (const [name, node] of nodes) known(`node "${name}" has fallback`, node.fallback);
  if (d.onExpire !== undefined && !isFn(d.onExpire))
    invalidDefinition(`${where}: onExpire must be a function.`);
  const policy = d.onVersionChange ?? 'restart';
  if (policy !== 'restart' && !isFn(policy)) {
    invalidDefinition(`${where}: onVersionChange must be 'restart' or a migrate function.`);
  }

  const flow: Flow<V, N> = Object.freeze({
    name: d.name,
    version: d.version,
    nodeNames: Object.freeze([...nodes.keys()]) as readonly N[],
  });
  runtimes.set(flow, {
    name: d.name,
    version: d.version,
    ttlMs: d.ttlMs === undefined ? FLOW_TTL_MS[d.kind ?? 'support'] : d.ttlMs,
    start: d.start,
    fallback: d.fallback,
    maxRetries: checkRetries(where, d.maxRetries),
    nodes,
    onExpire: d.onExpire,
    onVersionChange: policy,
  });
  return flow;
}
