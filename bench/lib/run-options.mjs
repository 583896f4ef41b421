// The command line of the benchmark scripts: the flags they all take, --help, the built dist/ check,
// --only, the timing flags, and the "[bench] …" line they talk on. One place, so that every script
// answers the same flags with the same messages and exit codes.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** Progress and errors go to stderr, so stdout carries only the markdown report. */
export const log = (...parts) => console.error('[bench]', ...parts);

/**
 * The script's own flags (`options`, parseArgs style) plus the ones every run script takes: --only,
 * --quick, --rounds, --write / --no-write and --help; with `timed`, also --duration and --warmup (see
 * roundTimes). Negated booleans (--no-write, --no-bytes) are allowed. --help prints `usage` and
 * exits 0; then, with `dist` (a file under dist/), the run exits 2 unless the library is built.
 */
export function parseRunArgs(options, { usage, timed = false, dist } = {}) {
  const common = {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    write: { type: 'boolean' },
    help: { type: 'boolean', default: false },
    ...(timed ? { duration: { type: 'string' }, warmup: { type: 'string' } } : {}),
  };
  const args = parseArgs({ options: { ...options, ...common }, allowNegative: true }).values;
  if (args.help) {
    console.log(usage);
    process.exit(0);
  }
  if (dist && !existsSync(new URL(`../../dist/${dist}`, import.meta.url))) {
    log('dist/ is missing: run `node scripts/build.mjs` first');
    process.exit(2);
  }
  return args;
}

/**
 * The subjects `--only a,b` names, in their own order (all of them without --only); exits 2 when a
 * name is unknown, listing the known ones (`noun`: what the script calls them).
 */
export function selectSubjects(known, only, noun = 'subjects') {
  const names = only?.split(',').map((s) => s.trim());
  const subjects = names ? known.filter((s) => names.includes(s.name)) : known;
  if (names && subjects.length !== names.length) {
    log(`--only: known ${noun} are ${known.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  return subjects;
}

/**
 * rounds, durationS and warmupS of a timed script: --rounds, --duration and --warmup, else the
 * defaults ({ rounds, duration, warmup }, in seconds) of a full run or, with --quick, of a quick one.
 */
export function roundTimes(args, full, quick) {
  const defaults = args.quick ? quick : full;
  return {
    rounds: Number(args.rounds ?? defaults.rounds),
    durationS: Number(args.duration ?? defaults.duration),
    warmupS: Number(args.warmup ?? defaults.warmup),
  };
}
