import type { HistoryEntry, MediaRef, Session, Vars } from './types.js';

/**
 * The positional wire form of a session body. Field names are never stored: the position is the
 * name, which is what keeps a typical session under 100 bytes. `id`, `version` and `expiresAt` are
 * not in the body: every store keeps them beside it (key, version column, native TTL).
 *
 * [schema, flow, node, prevNode, vars, retries, history, createdAt, updatedAt]
 * history entry: [dir (0 = in, 1 = out), at, text | null, media?]
 */
export type WireSession = [
  number,
  string | null,
  string | null,
  string | null,
  Vars,
  number,
  WireEntry[],
  number,
  number,
];
type WireEntry = [0 | 1, number, string | null] | [0 | 1, number, string | null, MediaRef];

export function toWire(s: Session): WireSession {
  return [
    s.schema,
    s.flow,
    s.node,
    s.prevNode,
    s.vars,
    s.retries,
    s.history.map(entryToWire),
    s.createdAt,
    s.updatedAt,
  ];
}

function entryToWire(e: HistoryEntry): WireEntry {
  const dir = e.dir === 'in' ? 0 : 1;
  return e.media ? [dir, e.at, e.text ?? null, e.media] : [dir, e.at, e.text ?? null];
}

/** Thrown for a body that decodes but is not a session; the store turns it into quarantine. */
export class WireShapeError extends Error {}

export function fromWire(
  id: string,
  wire: unknown,
  meta: { version: number; expiresAt: number | null },
): Session {
  if (!Array.isArray(wire) || wire.length !== 9)
    throw new WireShapeError('body is not a 9-element session array');
  const [schema, flow, node, prevNode, vars, retries, history, createdAt, updatedAt] = wire as unknown[];
  if (!isInt(schema) || !isInt(retries) || !isNum(createdAt) || !isNum(updatedAt)) {
    throw new WireShapeError('schema, retries or timestamps are not numbers');
  }
  if (!isNullableString(flow) || !isNullableString(node) || !isNullableString(prevNode)) {
    throw new WireShapeError('flow, node or prevNode is not a string');
  }
  if (vars === null || typeof vars !== 'object' || Array.isArray(vars))
    throw new WireShapeError('vars is not an object');
  if (!Array.isArray(history)) throw new WireShapeError('history is not an array');
  return {
    id,
    flow,
    node,
    prevNode,
    vars: vars as Vars,
    retries,
    history: history.map(entryFromWire),
    schema,
    version: meta.version,
    createdAt,
    updatedAt,
    expiresAt: meta.expiresAt,
  };
}

export function entryFromWire(raw: unknown): HistoryEntry {
  if (!Array.isArray(raw) || raw.length < 3) throw new WireShapeError('history entry is not an array');
  const [dir, at, text, media] = raw as unknown[];
  if ((dir !== 0 && dir !== 1) || !isNum(at) || !isNullableString(text)) {
    throw new WireShapeError('history entry has a bad direction, time or text');
  }
  const entry: HistoryEntry = { dir: dir === 0 ? 'in' : 'out', at };
  if (text !== null) entry.text = text;
  if (media !== undefined) {
    if (media === null || typeof media !== 'object')
      throw new WireShapeError('history media is not an object');
    entry.media = media as MediaRef;
  }
  return entry;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
