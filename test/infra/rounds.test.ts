import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmark scripts, without types
import { roundOrder, summarizeRounds } from '../../bench/lib/rounds.mjs';

// The benchmarks interleave their subjects round by round; a fixed neighbour would charge one
// subject for what the same other subject leaves behind (bench/lib/rounds.mjs).
const order = roundOrder as <T>(list: T[], round: number) => T[];
const subjects = Array.from({ length: 17 }, (_, i) => `s${i}`);

describe('roundOrder', () => {
  it('runs every subject once per round', () => {
    for (let round = 0; round < 5; round++) {
      const out = order(subjects, round);
      expect([...out].sort()).toEqual([...subjects].sort());
    }
    expect(order([], 0)).toEqual([]);
  });

  it('gives a subject other neighbours and other places from round to round', () => {
    const rounds = Array.from({ length: 5 }, (_, round) => order(subjects, round));
    for (const subject of subjects) {
      const before = new Set(rounds.map((r) => r[r.indexOf(subject) - 1] ?? '(first)'));
      expect(before.size, `${subject} always runs after the same subject`).toBeGreaterThan(1);
    }
    expect(new Set(rounds.map((r) => r[0])).size).toBeGreaterThan(1);
  });

  it('is the same on every run (seeded by the round number)', () => {
    expect(order(subjects, 3)).toEqual(order(subjects, 3));
    expect(order(subjects, 3)).not.toEqual(order(subjects, 4));
  });

  it('leaves the list it was given alone', () => {
    const list = [...subjects];
    order(list, 2);
    expect(list).toEqual(subjects);
  });
});

// The webhook, e2e and sends runners import it from the same module as roundOrder.
describe('summarizeRounds', () => {
  it('summarises each subject over its finished rounds, null without one', () => {
    const subjects = [{ name: 'a' }, { name: 'b' }];
    const out = summarizeRounds(subjects, { a: [1, 3], b: [] }, (rounds: number[]) =>
      rounds.reduce((x, y) => x + y, 0),
    );
    expect(out).toEqual({ a: 4, b: null });
  });
});
