// `npm run bench`: every benchmark of the suite, one child process after the other, then the charts.
// A part that fails does not stop the others; the exit code is non-zero if any failed, with a summary.
// usage: node bench/all.mjs [--quick] [--write | --no-write] [--parts stores,webhook,e2e,sends,scale,charts]
//        [--stores "ARGS"] [--webhook "ARGS"] [--e2e "ARGS"] [--sends "ARGS"] [--scale "ARGS"] [--charts "ARGS"]
// dist/ must be built first (`npm run bench` builds). See docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** In run order: the charts come last so they draw the results the parts just wrote. */
const PARTS = [
  {
    name: 'stores',
    script: 'run.mjs',
    what: 'store transitions vs keyv peers and floors, bytes, round trips',
  },
  { name: 'webhook', script: 'run-webhook.mjs', what: 'webhook acknowledgements/s vs bare node:http' },
  { name: 'e2e', script: 'run-e2e.mjs', what: 'webhook to reply with the demo bot', optional: true },
  { name: 'sends', script: 'run-sends.mjs', what: 'outbound sends/s vs bare fetch', optional: true },
  { name: 'scale', script: 'run-scale.mjs', what: 'p99 with 10k / 100k / 1M stored sessions' },
  { name: 'charts', script: 'chart.mjs', what: 'bench/results/*.svg from the newest results' },
];

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        write: { type: 'boolean' },
        parts: { type: 'string' },
        help: { type: 'boolean', default: false },
        ...Object.fromEntries(PARTS.map((p) => [p.name, { type: 'string' }])),
      },
      allowNegative: true,
    });
  } catch (error) {
    // parseArgs refuses `--stores --only sqlite` as ambiguous: the value needs the `=` form.
    console.error(
      `[bench] ${error.message}\n[bench] pass a part's flags as --<part>="--flag value", e.g. --stores="--only sqlite"`,
    );
    process.exit(2);
  }
})();

if (args.help) {
  console.log(`usage: npm run bench -- [--quick] [--write | --no-write] [--parts ${PARTS.map((p) => p.name).join(',')}]
                        [--<part> "ARGS"]   e.g. --stores "--only sqlite,memory" --scale "--sizes 10000,100000"
--quick and --write/--no-write go to every part; --<part> adds that part's own flags (split on spaces).
Parts: ${PARTS.map((p) => `\n  ${p.name.padEnd(8)} bench/${p.script}: ${p.what}${p.optional ? ' (when the file exists)' : ''}`).join('')}`);
  process.exit(0);
}

const wanted = args.parts?.split(',').map((s) => s.trim());
const unknown = wanted?.filter((w) => !PARTS.some((p) => p.name === w)) ?? [];
if (unknown.length) {
  console.error(
    `[bench] --parts: no part named ${unknown.join(', ')}; have ${PARTS.map((p) => p.name).join(', ')}`,
  );
  process.exit(2);
}
const common = [
  ...(args.quick ? ['--quick'] : []),
  ...(args.write === undefined ? [] : [args.write ? '--write' : '--no-write']),
];
const log = (...parts) => console.error('[bench]', ...parts);

// Each part records its own command line in its results file, not the npm script that started it.
const env = { ...process.env };
delete env.npm_lifecycle_event;

const report = [];
for (const part of PARTS) {
  if (wanted && !wanted.includes(part.name)) continue;
  const script = new URL(part.script, import.meta.url).pathname;
  if (!existsSync(script)) {
    report.push({ part, status: part.optional ? 'skipped: not written yet' : 'failed: file missing', ms: 0 });
    log(`${part.name}: bench/${part.script} does not exist, ${part.optional ? 'skipped' : 'FAILED'}`);
    continue;
  }
  const own = args[part.name]?.split(/\s+/).filter(Boolean) ?? [];
  const argv = [`bench/${part.script}`, ...common, ...own];
  log(`${part.name}: node ${argv.join(' ')}`);
  const started = performance.now();
  const outcome = await new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd: new URL('..', import.meta.url),
      stdio: 'inherit',
      env,
    });
    child.once('error', (error) => resolve(`failed: ${error.message}`));
    child.once('exit', (code, signal) =>
      resolve(code === 0 ? 'ok' : `failed: ${signal ? `killed by ${signal}` : `exit code ${code}`}`),
    );
  });
  const ms = performance.now() - started;
  report.push({ part, status: outcome, ms });
  log(`${part.name}: ${outcome} after ${(ms / 1000).toFixed(0)} s`);
}

const failedParts = report.filter((r) => r.status.startsWith('failed'));
console.error('\n[bench] summary');
for (const r of report)
  console.error(
    `  ${r.part.name.padEnd(8)} ${r.status.padEnd(28)} ${(r.ms / 1000).toFixed(0).padStart(5)} s`,
  );
console.error(
  failedParts.length
    ? `[bench] ${failedParts.length} part(s) failed: ${failedParts.map((r) => r.part.name).join(', ')}`
    : '[bench] every part finished',
);
process.exitCode = failedParts.length ? 1 : 0;
