import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ChatstateError } from '../../errors.js';
import type { SessionDraft } from '../../session/draft.js';
import type { Vars } from '../../session/types.js';

/**
 * The session every seeded user starts from, and the one change every measured transition makes.
 * `--session file.json` accepts the session model (src/session/types.ts) or the seed shape of the
 * benchmark suite (`{uid, st, ts, vars, v}`), so a bot's real stored session can be pasted as is.
 */
export interface BenchShape {
  /** `seed session` or the file name, for the report. */
  label: string;
  flow: string | null;
  node: string | null;
  vars: Vars;
  history: Array<{ dir: 'in' | 'out'; text?: string }>;
  retries: number;
  /** Schema version of vars: the store runs at it, so the seeded sessions read as current. */
  schema: number;
}

/** The lead-gen bot's seed session, mapped as bench/lib/workload.mjs maps it (writeSeed). */
export const SEED_SHAPE: BenchShape = Object.freeze({
  label: 'seed session',
  flow: 'onboarding_v2',
  node: 'awaiting_email',
  vars: { name: 'John Doe' },
  history: [],
  retries: 1,
  schema: 2,
});

/** Writes the shape into a fresh session (seeding). */
export function writeShape(shape: BenchShape): (draft: SessionDraft) => void {
  return (draft) => {
    draft.setFlow(shape.flow);
    draft.goto(shape.node);
    for (const [key, value] of Object.entries(shape.vars)) draft.set(key, value);
    if (shape.retries) draft.incr('retries', shape.retries);
    for (const entry of shape.history) draft.remember(entry);
  };
}

/** The measured transition (the suite's stepHandler): stay on the node, count a retry, remember a message. */
export function stepShape(shape: BenchShape): (draft: SessionDraft) => void {
  const node = shape.node ?? 'awaiting_email';
  return (draft) => {
    draft.goto(node);
    draft.incr('retries');
    draft.remember({ dir: 'in', text: 'hello' });
  };
}

const history = z.array(z.strictObject({ dir: z.enum(['in', 'out']), text: z.string().optional() }));
const count = z.number().int().nonnegative();

const modelShape = z.strictObject({
  flow: z.string().nullable().optional(),
  node: z.string().nullable().optional(),
  vars: z.record(z.string(), z.json()).optional(),
  history: history.optional(),
  retries: count.optional(),
  schema: z.number().int().positive().optional(),
});

// The suite's seed: `st` is the node, vars.flow the flow, vars.retry_count the retries, `v` the schema.
const seedShape = z.strictObject({
  uid: z.string().optional(),
  st: z.string(),
  ts: z.number().optional(),
  vars: z.record(z.string(), z.json()).optional(),
  v: z.number().int().positive().optional(),
  history: history.optional(),
});

const SEED_KEYS = ['uid', 'st', 'ts', 'v'];
const EXPECTED =
  'expected {flow?, node?, vars?, history?: [{dir: "in"|"out", text?}], retries?, schema?} (the session model) or the seed shape {uid, st, ts, vars, v}';

/** Reads and validates `--session`; every problem is a CONFIG_INVALID that names the file and field. */
export function loadShape(file: string): BenchShape {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(file, `cannot read it (${(error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(file, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid(file, `the top level must be a JSON object; ${EXPECTED}`);
  return SEED_KEYS.some((k) => k in raw) ? fromSeed(file, raw) : fromModel(file, raw);
}

function fromModel(file: string, raw: object): BenchShape {
  const parsed = modelShape.safeParse(raw);
  if (!parsed.success) throw invalid(file, `${issueOf(parsed.error)}; ${EXPECTED}`);
  const s = parsed.data;
  return {
    label: file,
    flow: s.flow ?? null,
    node: s.node ?? null,
    vars: (s.vars ?? {}) as Vars,
    history: s.history ?? [],
    retries: s.retries ?? 0,
    schema: s.schema ?? 1,
  };
}

function fromSeed(file: string, raw: object): BenchShape {
  const parsed = seedShape.safeParse(raw);
  if (!parsed.success) throw invalid(file, `${issueOf(parsed.error)} (read as the seed shape); ${EXPECTED}`);
  const { flow, retry_count: retries, ...vars } = (parsed.data.vars ?? {}) as Vars;
  if (flow !== undefined && typeof flow !== 'string') throw invalid(file, 'vars.flow: must be a string');
  if (retries !== undefined && !count.safeParse(retries).success)
    throw invalid(file, 'vars.retry_count: must be an integer >= 0');
  return {
    label: file,
    flow: flow ?? null,
    node: parsed.data.st,
    vars,
    history: parsed.data.history ?? [],
    retries: (retries as number | undefined) ?? 0,
    schema: parsed.data.v ?? 1,
  };
}

function issueOf(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`;
}

function invalid(file: string, why: string): ChatstateError {
  return new ChatstateError('CONFIG_INVALID', `--session ${file}: ${why}.`, { component: 'cli' });
}
