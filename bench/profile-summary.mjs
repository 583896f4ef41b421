// Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: by area (chatstate
// files, better-sqlite3, msgpackr, Node internals, GC) and the top functions by self time.
// usage: node bench/profile-summary.mjs <file.cpuprofile> [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { markdownTable } from './lib/table.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
if (!positionals[0]) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top 25]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));

// Sample counts per node id; each sample stands for the time until the next one.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Which part of the stack a frame belongs to. A native frame (no url) counts for the JS frame that called it. */
function area(node) {
  for (let n = node; n; n = nodes.get(parent.get(n.id))) {
    const { url, functionName } = n.callFrame;
    if (!url) {
      if (['(garbage collector)', '(idle)', '(program)', '(root)'].includes(functionName))
        return functionName;
      continue;
    }
    if (url.includes('/better-sqlite3/')) return 'better-sqlite3 (JS wrapper + native statements)';
    if (url.includes('/msgpackr/')) return 'msgpackr (codec)';
    if (url.includes('/dist/store/drivers/')) return `chatstate ${url.slice(url.indexOf('/dist/') + 6)}`;
    if (url.includes('/dist/')) return `chatstate ${url.slice(url.indexOf('/dist/') + 6)}`;
    if (url.includes('/bench/')) return 'bench harness';
    if (url.startsWith('node:')) return 'Node internals (promises, timers)';
    return url;
  }
  return '(unattributed)';
}

const label = (n) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url ? url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/') : '(native)';
  return `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
};

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byArea = new Map();
const byFunction = new Map();
for (const [id, us] of selfUs) {
  const node = nodes.get(id);
  byArea.set(area(node), (byArea.get(area(node)) ?? 0) + us);
  byFunction.set(label(node), (byFunction.get(label(node)) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1)}%`;
const sorted = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);

console.log(`profile: ${(total / 1e6).toFixed(2)} s sampled\n`);
console.log(
  markdownTable(
    ['Area (self time, native calls charged to their caller)', 'share'],
    sorted(byArea, 30).map(([a, us]) => [a, pct(us)]),
  ),
);
console.log('');
console.log(
  markdownTable(
    ['Function (self time)', 'share'],
    sorted(byFunction, Number(values.top)).map(([f, us]) => [f, pct(us)]),
  ),
);
