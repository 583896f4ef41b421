import { RETRIES_COUNTER, type Session, type SessionPatch, VAR_COUNTER_PREFIX } from './types.js';

export function emptySession(id: string, now: number, schema: number): Session {
  return {
    id,
    flow: null,
    node: null,
    prevNode: null,
    vars: {},
    retries: 0,
    history: [],
    schema,
    version: 0,
    createdAt: now,
    updatedAt: now,
    expiresAt: null,
  };
}

/**
 * Applies a patch to a loaded session, exactly as a field-level store applies it server-side.
 * Blob stores use this to compute the bytes they write; both must agree (the conformance suite checks).
 */
export function applyPatch(base: Session, patch: SessionPatch): Session {
  const start = patch.reset ? emptySession(base.id, patch.updatedAt, base.schema) : base;
  // Field by field rather than `{ ...start, ...patch.set, version }`: V8 (Node 20) takes a slow
  // path for a literal that spreads and then adds properties (extend.ts), and this runs on every
  // commit, twice when the handler reads the session back.
  const set = patch.set;
  const next: Session = {
    id: start.id,
    flow: set.flow === undefined ? start.flow : set.flow,
    node: set.node === undefined ? start.node : set.node,
    prevNode: set.prevNode === undefined ? start.prevNode : set.prevNode,
    vars: { ...start.vars },
    retries: set.retries === undefined ? start.retries : set.retries,
    history: start.history,
    schema: set.schema === undefined ? start.schema : set.schema,
    version: base.version + 1,
    createdAt: start.createdAt,
    updatedAt: patch.updatedAt,
    expiresAt: patch.expiresAt,
  };
  for (const [key, value] of Object.entries(patch.setVars)) next.vars[key] = value;
  for (const key of patch.unsetVars) delete next.vars[key];
  for (const [counter, by] of Object.entries(patch.incr)) {
    if (counter === RETRIES_COUNTER) next.retries += by;
    else {
      const name = counter.slice(VAR_COUNTER_PREFIX.length);
      const current = next.vars[name];
      next.vars[name] = (typeof current === 'number' ? current : 0) + by;
    }
  }
  const history = patch.push.length > 0 ? [...start.history, ...patch.push] : start.history;
  next.history =
    history.length > patch.historyLimit ? history.slice(history.length - patch.historyLimit) : history;
  return next;
}

export function isEmptyPatch(patch: SessionPatch): boolean {
  return (
    !patch.reset &&
    patch.push.length === 0 &&
    patch.unsetVars.length === 0 &&
    Object.keys(patch.set).length === 0 &&
    Object.keys(patch.setVars).length === 0 &&
    Object.keys(patch.incr).length === 0
  );
}
