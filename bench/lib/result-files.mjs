// Writes one benchmark part's results: bench/results/<date>-<kind>.json (numbers rounded to three
// decimals, plenty for microseconds and bytes, and readable) and latest-<kind>.md. Every part uses it
// so the files the charts and the README read always look the same.
import { mkdirSync, writeFileSync } from 'node:fs';

const round3 = (_key, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);

/** Returns the two file URLs written. */
export function writeResultFiles(kind, results, markdown, dir = new URL('../results/', import.meta.url)) {
  mkdirSync(dir, { recursive: true });
  const json = new URL(`${results.date}-${kind}.json`, dir);
  const md = new URL(`latest-${kind}.md`, dir);
  writeFileSync(json, `${JSON.stringify(results, round3, 2)}\n`);
  writeFileSync(md, markdown);
  return [json, md];
}
