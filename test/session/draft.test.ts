import { describe, expect, it } from 'vitest';
import { SessionDraft } from '../../src/session/draft.js';
import { applyPatch, emptySession, isEmptyPatch } from '../../src/session/patch.js';

const base = () => ({ ...emptySession('1', 1000, 1), version: 3, node: 'a', vars: { n: 1, s: 'x' } });
const draftOf = (session = base()) =>
  new SessionDraft(session, { now: 2000, ttlMs: 60_000, historyLimit: 3, expired: null });

describe('SessionDraft', () => {
  it('records nothing when nothing changes', () => {
    const d = draftOf();
    expect(d.toPatch()).toBeNull();
    expect(d.changed).toBe(false);
  });

  it('reads its own writes and records them as a patch', () => {
    const d = draftOf();
    d.goto('b').set('s', 'y').unset('n').remember({ dir: 'in', text: 'hi' });
    expect([d.node, d.prevNode, d.vars]).toEqual(['b', 'a', { s: 'y' }]);
    const patch = d.toPatch();
    expect(patch).toMatchObject({
      set: { node: 'b', prevNode: 'a' },
      setVars: { s: 'y' },
      unsetVars: ['n'],
      expiresAt: 62_000,
    });
    expect(patch?.push).toEqual([{ dir: 'in', text: 'hi', at: 2000 }]);
  });

  it('keeps increments as increments, and folds them into a set value', () => {
    const d = draftOf();
    expect(d.incr('retries')).toBe(1);
    expect(d.incr('n', 4)).toBe(5);
    expect(d.toPatch()?.incr).toEqual({ retries: 1, 'vars.n': 4 });
    d.set('n', 10);
    expect(d.incr('n')).toBe(11);
    expect(d.toPatch()?.setVars.n).toBe(11);
    expect(d.toPatch()?.incr).toEqual({ retries: 1 });
    d.resetRetries();
    expect(d.incr('retries', 2)).toBe(2);
    expect(d.toPatch()?.set.retries).toBe(2);
  });

  it('refuses to increment a non-number or by a fraction', () => {
    const d = draftOf();
    expect(() => d.incr('s' as never)).toThrow(/holds a string/);
    expect(() => d.incr('retries', 0.5)).toThrow(/integer/);
  });

  it('clear() drops earlier changes and marks a reset', () => {
    const d = draftOf();
    d.set('s', 'y').clear().set('z', 1);
    const patch = d.toPatch();
    expect(patch?.reset).toBe(true);
    expect(patch?.setVars).toEqual({ z: 1 });
    expect(d.vars).toEqual({ z: 1 });
    expect(d.node).toBeNull();
  });

  it('touch() and setTtl() force a write that renews the TTL', () => {
    const d = draftOf();
    d.touch();
    const patch = d.toPatch();
    expect(patch && isEmptyPatch(patch)).toBe(true);
    expect(patch?.expiresAt).toBe(62_000);
    d.setTtl(null);
    expect(d.toPatch()?.expiresAt).toBeNull();
  });

  it('history is trimmed to the limit, oldest first', () => {
    const d = draftOf();
    for (let i = 0; i < 5; i++) d.remember({ dir: 'out', text: String(i), at: i });
    expect(d.history.map((h) => h.text)).toEqual(['2', '3', '4']);
  });

  it('applyPatch bumps the version and stamps times', () => {
    const d = draftOf();
    d.set('s', 'q');
    const next = applyPatch(base(), d.toPatch() ?? (undefined as never));
    expect([next.version, next.updatedAt, next.expiresAt, next.createdAt]).toEqual([4, 2000, 62_000, 1000]);
  });

  it('an expired session starts as a reset and exposes the old one', () => {
    const old = base();
    const d = new SessionDraft(
      { ...emptySession('1', 2000, 1), version: 3 },
      { now: 2000, ttlMs: 1, historyLimit: 3, expired: old },
    );
    expect(d.isNew).toBe(true);
    expect(d.expired?.node).toBe('a');
    d.goto('welcome');
    expect(d.toPatch()?.reset).toBe(true);
  });
});
