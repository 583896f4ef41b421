import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * Moves the WAL checkpoint off the event loop: a worker thread with its own connection to the file
 * runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`, and the store's own connection stops
 * checkpointing except as a backstop.
 *
 * Why: with SQLite's default (a checkpoint inside whichever COMMIT takes the WAL past 1,000 pages),
 * that COMMIT copies every page the WAL holds back into the database file and fsyncs it, on the
 * event loop: 6 ms at 10,000 stored sessions and 19 ms at 1,000,000 (the pages are scattered), every
 * few hundred transitions, holding every request in flight. Measured one transition at a time
 * (bench/diag/sqlite-checkpoints.mjs; docs/benchmarks.md, "Claims by digest, checkpoints in a
 * worker"): at 1M sessions the mean fell from 100 to 78 us and p99.9 from 14 ms to 1 ms.
 *
 * A PASSIVE checkpoint never blocks the writer and never waits for it; if the worker cannot start or
 * dies, the store's connection goes back to checkpointing itself at SQLite's default, so the WAL
 * never grows without bound. The worker starts at the first write, so a store that only reads (or a
 * short-lived one in a test) costs no thread.
 */
export interface SqliteCheckpointer {
  /** Called after a write transaction committed: starts the worker the first time. */
  wrote(): void;
  /** Stops the worker (one last checkpoint first) and restores the connection's own checkpoints. */
  close(): Promise<void>;
}

/** SQLite's default wal_autocheckpoint, restored when the worker is gone. */
const INLINE_PAGES = 1000;
/**
 * The store's own connection checkpoints only past this many WAL pages (40 MiB at 4 KiB pages): a
 * backstop for a worker that falls behind, far above what it lets accumulate.
 */
const BACKSTOP_PAGES = 10_000;

// CommonJS source run by the worker (eval mode), so the same code serves src/ under the test runner
// and dist/ without a separate build entry. `module` is better-sqlite3's resolved path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { timeout: 0 });
let timer;
const tick = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  timer = setTimeout(tick, workerData.intervalMs);
};
parentPort.on('message', () => {
  clearTimeout(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});
tick();
`;

export function sqliteCheckpointer(
  db: Database.Database,
  path: string,
  intervalMs: number,
): SqliteCheckpointer {
  let worker: Worker | null = null;
  let started = false;
  let exited: Promise<void> = Promise.resolve();

  const inline = () => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${INLINE_PAGES}`);
  };

  const start = () => {
    started = true;
    let w: Worker;
    try {
      w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { path, intervalMs, module: createRequire(import.meta.url).resolve('better-sqlite3') },
      });
    } catch {
      return; // No thread: the connection keeps checkpointing inline.
    }
    worker = w;
    // The checkpointer never keeps a process alive on its own.
    w.unref();
    // From now on the connection checkpoints only as a backstop (at once: waiting for a message from
    // the worker would wait for the event loop, which a busy loop of transitions may not reach).
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    // A worker that fails emits 'error' (handled here so it is not thrown in this thread), then 'exit'.
    w.on('error', () => {});
    exited = new Promise((resolve) =>
      w.once('exit', () => {
        worker = null;
        inline();
        resolve();
      }),
    );
  };

  return {
    wrote() {
      if (!started) start();
    },
    async close() {
      started = true;
      const w = worker;
      worker = null;
      if (w) {
        w.postMessage('stop');
        const timeout = setTimeout(() => void w.terminate(), 2000);
        await exited;
        clearTimeout(timeout);
      }
      inline();
    },
  };
}
