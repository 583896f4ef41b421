// The benchmark scripts measure their subjects in rounds, interleaved: each round runs them in
// another order, so that none always runs first or right after the same neighbour (a subject that
// leaves the machine busy for a moment, a server still expiring keys or a process still collecting
// garbage, would otherwise always slow the same next one); a subject's figures are then summarised
// over the rounds it finished.
import { prng } from './prng.mjs';

/**
 * `list` in round `k`'s order: a shuffle seeded by the round number, so every run of the same
 * subjects uses the same orders. A rotation (what this was) keeps every subject behind the same
 * neighbour in every round.
 */
export function roundOrder(list, k) {
  const out = [...list];
  const random = prng(k + 1);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * { [subject name]: summarize(its rounds, subject) } in the subjects' order; null for a subject
 * without a finished round. `rounds`: the list of round results per subject name.
 */
export function summarizeRounds(subjects, rounds, summarize) {
  return Object.fromEntries(
    subjects.map((s) => [s.name, rounds[s.name].length ? summarize(rounds[s.name], s) : null]),
  );
}
