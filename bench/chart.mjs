// Draws bench/results/<kind>.svg from the newest bench/results/<date>-<kind>.json of each kind
// (stores, scale, webhook, e2e, sends); kinds without a results file are skipped.
// usage: node bench/chart.mjs [--in DIR] [--out DIR] [--no-write] [--quick]
// --no-write renders every chart but writes none (a check); --quick is accepted and ignored, so the
// whole-suite runner (bench/all.mjs) can pass it to every part.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CHARTS } from './lib/chart-specs.mjs';
import { barChart } from './lib/svg-bar-chart.mjs';

const { values: args } = parseArgs({
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean' },
    help: { type: 'boolean', default: false },
  },
  allowNegative: true,
});
if (args.help) {
  console.log('usage: node bench/chart.mjs [--in bench/results] [--out bench/results] [--no-write]');
  process.exit(0);
}

const results = resolve(args.in ?? new URL('./results/', import.meta.url).pathname);
const out = resolve(args.out ?? results);
if (args.write !== false) mkdirSync(out, { recursive: true });
const files = readdirSync(results);
let failed = false;
for (const [kind, build] of Object.entries(CHARTS)) {
  // <YYYY-MM-DD>-<kind>.json: the name sorts by date.
  const file = files
    .filter((f) => new RegExp(`^\\d{4}-\\d{2}-\\d{2}-${kind}\\.json$`).test(f))
    .sort()
    .at(-1);
  if (!file) {
    console.error(`[chart] ${kind}: no results file yet, skipped`);
    continue;
  }
  try {
    const spec = build(JSON.parse(readFileSync(join(results, file), 'utf8')), file);
    if (!spec) {
      console.error(`[chart] ${kind}: ${file} has no figure to draw, skipped`);
      continue;
    }
    const svg = barChart(spec);
    const target = join(out, `${kind}.svg`);
    if (args.write === false) {
      console.error(
        `[chart] ${kind}: rendered ${svg.length.toLocaleString('en-US')} bytes from ${file} (--no-write)`,
      );
      continue;
    }
    writeFileSync(target, svg);
    console.error(`[chart] ${kind}: wrote ${target} from ${file}`);
  } catch (error) {
    failed = true;
    console.error(`[chart] ${kind}: ${file}: ${error.stack ?? error}`);
  }
}
process.exitCode = failed ? 1 : 0;
