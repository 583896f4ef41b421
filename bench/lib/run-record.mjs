// What a benchmark run records about itself, and how it ends, the same in every part: the command as
// typed, whether the run is partial (and so writes nothing unless --write), the machine at the start;
// at the end, the fields every results file starts with, the report on stdout and the result files.
import os from 'node:os';
import { machineInfo, sourceInfo } from './machine.mjs';
import { writeResultFiles } from './result-files.mjs';
import { log } from './run-options.mjs';

/** A full run is `node bench/<script>` alone, or with --write. */
const anyFlagButWrite = (args) => process.argv.length > 2 && !(process.argv.length === 3 && args.write);

/**
 * Call just before measuring, once `tmpdir` (where the run keeps its files) exists. `script`: the
 * file under bench/; `npmScript`: the npm script that runs it, named in the command when it did;
 * `partial`: by default any flag but a lone --write.
 */
export function startRun({ script, npmScript, args, tmpdir, partial = anyFlagButWrite(args) }) {
  const write = args.write ?? !partial;
  const machine = machineInfo(tmpdir);
  const startedAt = new Date();
  const command = commandLine(script, npmScript);
  /** The first fields of the results, in this order. */
  const header = () => ({
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command,
    source: sourceInfo(),
    partial,
    machine: { ...machine, loadAvgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  });
  return {
    /**
     * Once the measuring is done: the results (the header above, then `fields`) rendered by
     * `render(results)` to stdout, and bench/results/<date>-<kind>.json and latest-<kind>.md written
     * when the run writes (else a note that it did not). `eachFile`: one "wrote" line per file (the
     * store and scale runs) rather than one naming both.
     */
    finish(kind, fields, render, { eachFile = false } = {}) {
      const results = { ...header(), ...fields };
      const markdown = render(results);
      console.log(markdown);
      if (!write) log('partial run: nothing written (pass --write to keep it)');
      else {
        const [json, md] = writeResultFiles(kind, results, markdown);
        if (eachFile) for (const file of [json, md]) log(`wrote ${file.pathname}`);
        else log(`wrote ${json.pathname} and ${md.pathname}`);
      }
    },
  };
}

/** `node bench/<script> …` as typed, or `npm run <npmScript> -- …` when npm ran it. */
function commandLine(script, npmScript) {
  const rest = process.argv.slice(2);
  if (npmScript && process.env.npm_lifecycle_event === npmScript)
    return `npm run ${npmScript}${rest.length ? ` -- ${rest.join(' ')}` : ''}`;
  return `node bench/${script}${rest.length ? ` ${rest.join(' ')}` : ''}`;
}
