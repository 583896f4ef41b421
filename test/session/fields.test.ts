import { describe, expect, it } from 'vitest';
import { codecByName } from '../../src/session/codec.js';
import { SessionDraft } from '../../src/session/draft.js';
import {
  decodeAfterCommit,
  decodeFields,
  deepFreeze,
  encodeFieldPatch,
  patchSizeBound,
} from '../../src/session/fields.js';
import { applyPatch, emptySession } from '../../src/session/patch.js';
import type { Session } from '../../src/session/types.js';
import { toWire } from '../../src/session/wire.js';
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

/** Applies a field patch as commit.lua does: history trimmed only when entries are pushed, limit 0 clears it. */
function commitToHash(stored: StoredFields, patch: FieldPatch, expiresAt: number | null): StoredFields {
  const fresh = patch.reset || stored.version === 0;
  const fields = fresh ? {} : { ...stored.fields };
  let history = fresh ? [] : [...(stored.history ?? [])];
  Object.assign(fields, patch.set);
  for (const f of patch.del) delete fields[f];
  if (patch.historyLimit === 0) history = [];
  else if (patch.push.length > 0) history = [...history, ...patch.push].slice(-patch.historyLimit);
  return { version: stored.version + 1, expiresAt, fields, history };
}

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe('decoding after a commit (the session kept beside a cached record)', () => {
  // Values a handler may write that do not survive JSON as they are (a Date, undefined, NaN, a
  // history entry with extra properties): the kept session must be what reading the hash gives.
  const steps: Array<(d: SessionDraft) => void> = [
    (d) => void d.setFlow('onboarding').goto('ask').set('name', 'Ann').remember({ dir: 'in', text: 'hi' }),
    (d) =>
      void d
        .set('when', new Date(5) as never)
        .set('odd', { a: undefined, b: Number.NaN, c: [1, 'é 😀'] } as never)
        .remember({ dir: 'out', text: 'x', extra: 1 } as never),
    (d) => {
      d.incr('retries', 2);
      d.incr('count', 3);
      d.remember({ dir: 'in', media: { id: 'm1', mime: 'image/jpeg' } } as never);
    },
    (d) => void d.unset('odd').goto(null).set('n', 1.5).remember({ dir: 'in', text: 'a' }),
    (d) => void d.remember({ dir: 'in', text: 'b' }).remember({ dir: 'out', text: 'c' }).setTtl(60_000),
    (d) => void d.incr('n', 1),
    // Short text, long encoding: a float64 is 9 bytes of msgpack for 3 characters.
    (d) => {
      for (let k = 0; k < 20; k++) d.set(`f${k}`, 0.1);
    },
    (d) => void d.clear().set('after', true),
    (d) => void d.setFlow(null).remember({ dir: 'in', text: 'again' }).setTtl(null),
  ];

  for (const codecName of ['msgpack', 'json'] as const) {
    it(`gives what decodeFields reads from the hash, deep-frozen, at every step (${codecName})`, () => {
      const codec = codecByName(codecName);
      let hash: StoredFields = { version: 0, expiresAt: null, fields: {}, history: [] };
      let kept: Session = deepFreeze(emptySession('u', 1000, 2));
      let now = 2000;
      for (const [i, step] of steps.entries()) {
        const draft = new SessionDraft(kept, { now, ttlMs: null, historyLimit: 3, expired: null });
        step(draft);
        const patch = draft.toPatch();
        if (!patch) throw new Error(`step ${i} changed nothing`);
        const next = applyPatch(kept, patch);
        const encoded = encodeFieldPatch(kept, patch, codec, next.createdAt);
        hash = commitToHash(hash, encoded, patch.expiresAt);
        const after = decodeAfterCommit(kept, encoded, hash, codec);
        expect(after, `step ${i}`).toStrictEqual(decodeFields('u', hash, codec));
        expect(isDeepFrozen(after), `step ${i}`).toBe(true);
        // The size bound: what the patch can add covers what it added, in this codec.
        const size = (s: Session) => codec.encode(toWire(s)).length;
        expect(size(next), `step ${i}`).toBeLessThanOrEqual(size(kept) + patchSizeBound(encoded));
        kept = after as Session;
        now += 1000;
      }
    });
  }

  it('declines a patch with server-side increments (only the store knows their sum)', () => {
    const base = deepFreeze(emptySession('u', 1, 1));
    const patch: FieldPatch = {
      reset: false,
      set: {},
      del: [],
      incr: { 'x:n': 1 },
      push: [],
      historyLimit: 5,
    };
    expect(decodeAfterCommit(base, patch, { version: 1, expiresAt: null }, codec)).toBeNull();
  });
});
