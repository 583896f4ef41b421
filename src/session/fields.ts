import type { FieldPatch, StoredFields } from '../store/contract.js';
import { type Codec, codecByName } from './codec.js';
import { RETRIES_COUNTER, type Session, type SessionPatch, VAR_COUNTER_PREFIX, type Vars } from './types.js';
import { entryFromWire, fromWire, WireShapeError } from './wire.js';

/**
 * Field layout for stores that keep a session as a hash (Redis). Names are one letter because
 * every byte is paid once per session; vars are flattened to `x:<name>` so one var can change
 * without rewriting the others, and so each value stays small enough for Redis's compact listpack
 * encoding (docs/redis.md has the measurements). Var values are JSON text whatever the codec; a
 * counter (`incr`) is written as its new value.
 *
 * Small values cost fewer bytes: a listpack stores an integer field value in 2 bytes up to 127, 6
 * bytes up to 32 bits and 10 bytes beyond. So `updatedAt` is stored as its offset from `createdAt`
 * in ms (`d`: 0 for a new session, under 32 bits for 49 days), exact, instead of a second 13-digit
 * time; and `schema` is left out while it is 1 (the default). `version` is written by the driver
 * itself (it is not part of a patch). The session's `expiresAt` is not a field: the driver keeps it
 * as the hash's own expiry. `u` (updatedAt in ms) and `e` (expiresAt) are the names earlier
 * versions wrote: `u` is still read when `d` is missing, `e` is ignored; no other field takes them.
 */
export const F = {
  flow: 'f',
  node: 'n',
  prevNode: 'p',
  retries: 'r',
  schema: 's',
  createdAt: 'c',
  updatedOffset: 'd',
  updatedAt: 'u',
  version: 'v',
  expiresAt: 'e',
  varPrefix: 'x:',
} as const;

/** The schema a hash without `s` has. */
const DEFAULT_SCHEMA = 1;

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
    if (base.schema !== DEFAULT_SCHEMA) out.set[F.schema] = String(base.schema);
    if (patch.set.retries === undefined && !(RETRIES_COUNTER in patch.incr)) out.set[F.retries] = '0';
  }
  out.set[F.updatedOffset] = String(patch.updatedAt - createdAt);
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
  // Counters are written as their new values, computed exactly as applyPatch does (the result the
  // store hands back). The commit's version check makes that as safe as HINCRBY on the server: if
  // anything changed since the load, nothing is written and the transition runs again.
  for (const [counter, by] of Object.entries(patch.incr)) {
    if (counter === RETRIES_COUNTER) {
      out.set[F.retries] = String((patch.set.retries ?? (patch.reset ? 0 : base.retries)) + by);
      continue;
    }
    const name = counter.slice(VAR_COUNTER_PREFIX.length);
    const field = F.varPrefix + name;
    const current = patch.unsetVars.includes(name)
      ? undefined
      : Object.hasOwn(patch.setVars, name)
        ? patch.setVars[name]
        : patch.reset
          ? undefined
          : base.vars[name];
    out.set[field] = JSON.stringify((typeof current === 'number' ? current : 0) + by);
    const unset = out.del.indexOf(field);
    if (unset >= 0) out.del.splice(unset, 1);
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
  const createdAt = num(F.createdAt);
  const history = (stored.history ?? []).map((raw) => decodeEntry(raw, codec));
  // Reuse the blob validator so both layouts accept exactly the same sessions.
  return fromWire(
    id,
    [
      num(F.schema, DEFAULT_SCHEMA),
      str(F.flow),
      str(F.node),
      str(F.prevNode),
      vars,
      num(F.retries, 0),
      history,
      createdAt,
      f[F.updatedOffset] === undefined ? num(F.updatedAt) : createdAt + num(F.updatedOffset),
    ],
    { version: stored.version, expiresAt: stored.expiresAt },
  );
}

/** One stored history entry as the wire array fromWire reads. */
function decodeEntry(raw: string | Uint8Array, codec: Codec): unknown {
  const bytes = typeof raw === 'string' ? utf8.encode(raw) : raw;
  try {
    // An entry is always an array: JSON starts with '[', msgpack with a fixarray byte (0x93/0x94).
    // Sniffing the first byte lets a store read entries written under the other codec.
    const writer = bytes[0] === JSON_ARRAY ? 'json' : 'msgpack';
    return (codec.name === writer ? codec : codecByName(writer)).decode(bytes);
  } catch {
    throw new WireShapeError('history entry does not decode');
  }
}

/**
 * The session `decodeFields` would read back from the record a commit of `patch` left (`stored`:
 * its version and expiry), built from the session the commit started from instead of decoding
 * every field and history entry again: only what the patch wrote is decoded, from the text and
 * bytes it wrote. `base` must be read-only (deep-frozen), since its values are shared with the
 * result; the result is deep-frozen too. Null for a patch with server-side increments, whose
 * result only Redis knows. SessionStore builds the copy it keeps of a committed session with it
 * (session-copies.ts), so that the next transition of the user skips reading and decoding.
 */
export function decodeAfterCommit(
  base: Session,
  patch: FieldPatch,
  stored: Pick<StoredFields, 'version' | 'expiresAt'>,
  codec: Codec,
): Session | null {
  for (const _ in patch.incr) return null;
  const fresh = patch.reset || base.version === 0;
  let flow = fresh ? null : base.flow;
  let node = fresh ? null : base.node;
  let prevNode = fresh ? null : base.prevNode;
  let retries = fresh ? 0 : base.retries;
  let schema = fresh ? DEFAULT_SCHEMA : base.schema;
  let createdAt = base.createdAt;
  let offset: number | undefined;
  const vars: Vars = fresh ? {} : { ...base.vars };
  for (const name of patch.del) {
    if (name === F.flow) flow = null;
    else if (name === F.node) node = null;
    else if (name === F.prevNode) prevNode = null;
    else if (name.startsWith(F.varPrefix)) delete vars[name.slice(F.varPrefix.length)];
  }
  // One pass over what the patch wrote, read as decodeFields reads the same fields.
  const set = patch.set;
  for (const name in set) {
    const raw = set[name] as string | Uint8Array;
    if (name === F.flow) flow = asText(raw);
    else if (name === F.node) node = asText(raw);
    else if (name === F.prevNode) prevNode = asText(raw);
    else if (name === F.retries) retries = numberField(name, raw);
    else if (name === F.schema) schema = numberField(name, raw);
    else if (name === F.createdAt) createdAt = numberField(name, raw);
    else if (name === F.updatedOffset) offset = numberField(name, raw);
    else if (name.startsWith(F.varPrefix)) {
      try {
        vars[name.slice(F.varPrefix.length)] = deepFreeze(JSON.parse(asText(raw)));
      } catch {
        throw new WireShapeError(`var ${name} is not JSON`);
      }
    }
  }
  // As commit.lua (and every field store) applies it: entries pushed, then the list trimmed.
  let history = fresh ? [] : base.history;
  if (patch.historyLimit === 0) history = [];
  else if (patch.push.length > 0) {
    const pushed = patch.push.map((raw) => deepFreeze(entryFromWire(decodeEntry(raw, codec))));
    history = history.concat(pushed);
    if (history.length > patch.historyLimit) history = history.slice(history.length - patch.historyLimit);
  }
  Object.freeze(vars);
  Object.freeze(history);
  return Object.freeze({
    id: base.id,
    flow,
    node,
    prevNode,
    vars,
    retries,
    history,
    schema,
    version: stored.version,
    createdAt,
    // decodeFields reads updatedAt as createdAt plus the stored offset: the same sum here.
    updatedAt: offset === undefined ? base.updatedAt : createdAt + offset,
    expiresAt: stored.expiresAt,
  }) as Session;
}

function numberField(name: string, raw: string | Uint8Array): number {
  const n = Number(asText(raw));
  if (!Number.isFinite(n)) throw new WireShapeError(`field ${name} is not a number`);
  return n;
}

/** Freezes a decoded value and everything in it (JSON values and history entries: plain objects and arrays). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * An upper bound of how many bytes applying `patch` can add to a session's encoded size, in
 * either codec: every name and value it writes at 9 bytes per character or byte (a msgpack
 * float64 for a one-digit number, a JSON escape for one byte of text), plus room for headers
 * that grow (the vars map, the history list) and the session's times. Removed and replaced
 * values are not subtracted, so bounds summed over commits only grow.
 */
export function patchSizeBound(patch: FieldPatch): number {
  let bound = 64;
  for (const name in patch.set)
    bound += 10 + 9 * (name.length + (patch.set[name] as string | Uint8Array).length);
  for (const entry of patch.push) bound += 10 + 9 * entry.length;
  return bound;
}
