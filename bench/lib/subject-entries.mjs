// Error handling of the store and scale runs, which keep one entry per subject (and size) with a
// `status` and a live `ctx`: an error marks the entry "error: …" and the run failed (exit code 1)
// and is logged with its stack; teardown runs at most once per entry, its own error counting too.
import { log } from './run-options.mjs';

/** `label(entry)`: how the log names the entry, e.g. its subject's name. */
export function entryErrors(label) {
  const run = {
    failed: false,
    fail(entry, error) {
      run.failed = true;
      entry.status = `error: ${error?.message ?? error}`;
      log(`${label(entry)}: ${entry.status}`);
      if (error?.stack) console.error(error.stack);
    },
    /** fail(), then teardown(): the entry is out of the run. */
    async abandon(entry, error) {
      run.fail(entry, error);
      await run.teardown(entry);
    },
    async teardown(entry) {
      if (!entry.ctx) return;
      const { ctx } = entry;
      entry.ctx = undefined;
      try {
        await entry.subject.teardown(ctx);
      } catch (error) {
        run.fail(entry, error);
      }
    },
  };
  return run;
}

/** The entries still in the run (set up, no error yet). */
export const liveEntries = (entries) => entries.filter((e) => e.status === 'ok');
