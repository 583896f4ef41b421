import type { FieldPatch, StoredFields } from '../store/contract.js';
import { type Codec, codecByName } from './codec.js';
import { RETRIES_COUNTER, type Session, type SessionPatch, VAR_COUNTER_PREFIX, type Vars } from './types.js';
import { fromWire, WireShapeError } from './wire.js';

/**
 * Field layout for stores that keep a session as a hash (Redis). Names are one letter because
 * every byte is paid once per session; vars are flattened to `x:<name>` so one var can change
 * (or be incremented with HINCRBY) without rewriting the others, and so each value stays small
 * enough for Redis's compact listpack encoding (docs/redis.md has the measurements). Var values are
 * JSON text whatever the codec, because HINCRBY only works on decimal text and JSON numbers are
 * exactly that. `version` and `expiresAt` are written by the driver itself (they are not part of
 * a patch) and are listed here only so no other field takes their names.
 */
export const F = {
  flow: 'f',
  node: 'n',
  prevNode: 'p',
  retries: 'r',
  schema: 's',
  createdAt: 'c',
  updatedAt: 'u',
  version: 'v',
  expiresAt: 'e',
  varPrefix: 'x:',
} as const;

const text = new TextDecoder('utf-8', { fatal: true });
const asText = (v: string | Uint8Array): string => {
  if (typeof v === 'string') return v;
  try {
    return text.decode(v);
  } catch {
    // Bytes that are not UTF-8 were not written by chatstate: report them as a corrupt session.
    throw new WireShapeError('a field is not UTF-8 text');
  }
};
const JSON_ARRAY = 0x5b; // '['
const utf8 = new TextEncoder();

export function encodeFieldPatch(
  base: Session,
  patch: SessionPatch,
  codec: Codec,
  createdAt: number,
): FieldPatch {
  const out: FieldPatch = {
    reset: patch.reset,
    set: {},
    del: [],
    incr: {},
    push: [],
    historyLimit: patch.historyLimit,
  };
  const fresh = patch.reset || base.version === 0;
  if (fresh) {
    out.set[F.createdAt] = String(createdAt);
    out.set[F.schema] = String(base.schema);
    if (!('retries' in patch.set) && !(RETRIES_COUNTER in patch.incr)) out.set[F.retries] = '0';
  }
  out.set[F.updatedAt] = String(patch.updatedAt);
  for (const field of ['flow', 'node', 'prevNode'] as const) {
    if (!(field in patch.set)) continue;
    const value = patch.set[field];
    if (value === null || value === undefined) out.del.push(F[field]);
    else out.set[F[field]] = value;
  }
  if (patch.set.retries !== undefined) out.set[F.retries] = String(patch.set.retries);
  if (patch.set.schema !== undefined) out.set[F.schema] = String(patch.set.schema);
  for (const [name, value] of Object.entries(patch.setVars))
    out.set[F.varPrefix + name] = JSON.stringify(value);
  for (const name of patch.unsetVars) out.del.push(F.varPrefix + name);
  for (const [counter, by] of Object.entries(patch.incr)) {
    const field =
      counter === RETRIES_COUNTER ? F.retries : F.varPrefix + counter.slice(VAR_COUNTER_PREFIX.length);
    out.incr[field] = by;
  }
  for (const entry of patch.push) {
    const wire = entry.media
      ? [entry.dir === 'in' ? 0 : 1, entry.at, entry.text ?? null, entry.media]
      : [entry.dir === 'in' ? 0 : 1, entry.at, entry.text ?? null];
    out.push.push(codec.encode(wire));
  }
  return out;
}

/** Decodes a hash (and history list) back into a session; throws WireShapeError when it is not one. */
export function decodeFields(id: string, stored: StoredFields, codec: Codec): Session {
  if (!Number.isSafeInteger(stored.version) || stored.version < 1) {
    throw new WireShapeError('the stored version is missing or not a positive integer');
  }
  const f = stored.fields;
  const vars: Vars = {};
  for (const [name, raw] of Object.entries(f)) {
    if (!name.startsWith(F.varPrefix)) continue;
    try {
      vars[name.slice(F.varPrefix.length)] = JSON.parse(asText(raw));
    } catch {
      throw new WireShapeError(`var ${name} is not JSON`);
    }
  }
  const num = (name: string, fallback?: number): number => {
    const raw = f[name];
    if (raw === undefined && fallback !== undefined) return fallback;
    const n = raw === undefined ? Number.NaN : Number(asText(raw));
    if (!Number.isFinite(n)) throw new WireShapeError(`field ${name} is not a number`);
    return n;
  };
  const str = (name: string): string | null => (f[name] === undefined ? null : asText(f[name]));
  const history = (stored.history ?? []).map((raw) => {
    const bytes = typeof raw === 'string' ? utf8.encode(raw) : raw;
    try {
      // An entry is always an array: JSON starts with '[', msgpack with a fixarray byte (0x93/0x94).
      // Sniffing the first byte lets a store read entries written under the other codec.
      const writer = bytes[0] === JSON_ARRAY ? 'json' : 'msgpack';
      return (codec.name === writer ? codec : codecByName(writer)).decode(bytes);
    } catch {
      throw new WireShapeError('history entry does not decode');
    }
  });
  // Reuse the blob validator so both layouts accept exactly the same sessions.
  return fromWire(
    id,
    [
      num(F.schema),
      str(F.flow),
      str(F.node),
      str(F.prevNode),
      vars,
      num(F.retries, 0),
      history,
      num(F.createdAt),
      num(F.updatedAt),
    ],
    { version: stored.version, expiresAt: stored.expiresAt },
  );
}
