import { describe, expect, it } from 'vitest';
import { codecByName } from '../../src/session/codec.js';
import { SessionDraft } from '../../src/session/draft.js';
import { decodeFields, encodeFieldPatch } from '../../src/session/fields.js';
import { applyPatch, emptySession } from '../../src/session/patch.js';
import type { Session } from '../../src/session/types.js';
import type { FieldPatch, StoredFields } from '../../src/store/contract.js';

const codec = codecByName('msgpack');

/** Applies a field patch the way a hash store does (HDEL/HSET/HINCRBY, RPUSH+LTRIM). */
function applyToHash(stored: StoredFields, patch: FieldPatch): StoredFields {
  const fields = patch.reset ? {} : { ...stored.fields };
  let history = patch.reset ? [] : [...(stored.history ?? [])];
  for (const f of patch.del) delete fields[f];
  Object.assign(fields, patch.set);
  for (const [f, by] of Object.entries(patch.incr)) fields[f] = String(Number(fields[f] ?? '0') + by);
  history = [...history, ...patch.push].slice(-patch.historyLimit);
  return { version: stored.version + 1, expiresAt: null, fields, history };
}

describe('hash field layout', () => {
  it('agrees with applyPatch over a sequence of transitions', () => {
    let hash: StoredFields = { version: 0, expiresAt: null, fields: {}, history: [] };
    let session: Session = emptySession('u', 1000, 1);
    const steps: Array<(d: SessionDraft) => void> = [
      (d) => void d.setFlow('f').goto('a').set('name', 'Ann').incr('retries'),
      (d) => void d.goto('b').incr('count', 3),
      (d) => void d.unset('name').remember({ dir: 'in', text: 't1' }).remember({ dir: 'out', text: 't2' }),
      (d) => {
        d.incr('retries', 2);
        d.incr('count');
      },
      (d) => void d.clear().set('fresh', true).goto(null),
    ];
    let now = 2000;
    for (const step of steps) {
      const draft = new SessionDraft(session, { now, ttlMs: null, historyLimit: 5, expired: null });
      step(draft);
      const patch = draft.toPatch();
      expect(patch).not.toBeNull();
      if (!patch) return;
      const next = applyPatch(session, patch);
      hash = applyToHash(hash, encodeFieldPatch(session, patch, codec, next.createdAt));
      session = next;
      expect(decodeFields('u', hash, codec)).toEqual(session);
      now += 1000;
    }
  });

  it('stores numeric vars as decimal text so HINCRBY works', () => {
    const draft = new SessionDraft(emptySession('u', 1, 1), {
      now: 1,
      ttlMs: null,
      historyLimit: 5,
      expired: null,
    });
    draft.set('n', 41);
    const fields = encodeFieldPatch(emptySession('u', 1, 1), draft.toPatch() as never, codec, 1);
    expect(fields.set['x:n']).toBe('41');
  });

  it('rejects a hash that is not a session', () => {
    expect(() =>
      decodeFields('u', { version: 1, expiresAt: null, fields: { s: 'abc', c: '1', u: '1' } }, codec),
    ).toThrow();
    expect(() =>
      decodeFields(
        'u',
        { version: 1, expiresAt: null, fields: { s: '1', c: '1', u: '1', 'x:a': '{' } },
        codec,
      ),
    ).toThrow();
  });
});
