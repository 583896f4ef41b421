// Diagnostic (not part of `npm run bench`): does this machine drop idle file pages from memory, and
// does reading a SQLite file through a memory map keep them? Two files of the same rows, one
// connection each, one with `mmap_size` = 1 GiB (the driver's default) and one without; both read
// in full, then left idle for --wait seconds with the connections open. Prints the resident share
// of each file (fincore, util-linux) before and after, and the p50/p99 of random point reads after.
// usage: node bench/diag/sqlite-cold-pages.mjs [--rows 250000] [--wait 180] [--reads 20000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { fmtNum, quantile } from '../lib/stats.mjs';
import { markdownTable } from '../lib/table.mjs';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '250000' },
    wait: { type: 'string', default: '180' },
    reads: { type: 'string', default: '20000' },
  },
});
const ROWS = Number(values.rows);
const WAIT_S = Number(values.wait);
const READS = Number(values.reads);
if (spawnSync('fincore', ['--version']).status !== 0) {
  console.error('fincore (util-linux) is missing: apt-get install -y util-linux');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'chatstate-cold-pages-'));

/** Bytes of `path` resident in memory, by fincore. */
function resident(path) {
  const out = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], {
    encoding: 'utf8',
  });
  return Number(out.stdout.trim());
}

function open(name, mmapBytes) {
  const path = join(dir, `${name}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`mmap_size = ${mmapBytes}`);
  db.exec('CREATE TABLE s (k TEXT PRIMARY KEY, d BLOB NOT NULL) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO s (k, d) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(String(1e11 + i), Buffer.alloc(200, i & 255));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.prepare('SELECT SUM(LENGTH(d)) FROM s').get();
  return { name, path, db, get: db.prepare('SELECT d FROM s WHERE k = ?') };
}

function randomReads(file) {
  const us = [];
  let x = 99;
  for (let i = 0; i < READS; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    const t0 = performance.now();
    file.get.get(String(1e11 + (x % ROWS)));
    us.push((performance.now() - t0) * 1000);
  }
  return us;
}

const files = [open('mapped (mmap_size = 1 GiB)', 1024 ** 3), open('read(2) only (mmap_size = 0)', 0)];
const before = files.map((f) => resident(f.path));
console.error(`[cold-pages] files written and read; idle for ${WAIT_S} s`);
await new Promise((resolve) => setTimeout(resolve, WAIT_S * 1000));
const after = files.map((f) => resident(f.path));
const reads = files.map((f) => randomReads(f));
const rows = files.map((f, i) => {
  const size = spawnSync('stat', ['-c', '%s', f.path], { encoding: 'utf8' }).stdout.trim();
  return [
    f.name,
    `${(Number(size) / 2 ** 20).toFixed(1)} MiB`,
    `${((100 * before[i]) / Number(size)).toFixed(0)}%`,
    `${((100 * after[i]) / Number(size)).toFixed(0)}%`,
    fmtNum(quantile(reads[i], 0.5)),
    fmtNum(quantile(reads[i], 0.99)),
  ];
});
for (const f of files) f.db.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  `${ROWS.toLocaleString('en-US')} rows of 200 bytes per file; resident share by fincore; then ${READS.toLocaleString('en-US')} random point reads (us)\n`,
);
console.log(
  markdownTable(
    ['file', 'size', 'resident after reading', `resident after ${WAIT_S} s idle`, 'read p50', 'read p99'],
    rows,
  ),
);
