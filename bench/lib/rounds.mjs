// The benchmark scripts measure their subjects in rounds, interleaved: each round starts one subject
// later, so that none always runs first or right after the same neighbour; a subject's figures are
// then summarised over the rounds it finished.

/** `list` rotated left by `k` (round k of a 0-based count starts at list[k % length]). */
export const rotated = (list, k) => list.map((_, i) => list[(i + k) % list.length]);

/**
 * { [subject name]: summarize(its rounds, subject) } in the subjects' order; null for a subject
 * without a finished round. `rounds`: the list of round results per subject name.
 */
export function summarizeRounds(subjects, rounds, summarize) {
  return Object.fromEntries(
    subjects.map((s) => [s.name, rounds[s.name].length ? summarize(rounds[s.name], s) : null]),
  );
}
