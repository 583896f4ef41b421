import { defineCommand } from 'citty';
import { redact } from '../../store/open.js';
import { EXIT, finish, jsonArg, storeArg, storeUrl } from '../shared.js';
import { DEFAULTS, parseBenchFlags } from './options.js';
import { Progress } from './progress.js';
import { reportJson, reportTable } from './report.js';
import { BenchInterrupted, runBench } from './run-bench.js';
import { loadShape, SEED_SHAPE } from './session-shape.js';

/** Exit code after Ctrl-C, as shells report a process ended by SIGINT (128 + 2). */
const EXIT_INTERRUPTED = 130;

export const benchCommand = defineCommand({
  meta: {
    name: 'bench',
    description:
      'Measure a store on your session shape: us per transition, transitions/s, round trips, bytes per session, capacity. Writes only under a bench:<random>: prefix and deletes it at the end. Exit 0, 2 error, 130 interrupted.',
  },
  args: {
    store: storeArg,
    session: {
      type: 'string',
      description: 'JSON file with the session shape every user starts from (default: the seed session)',
      valueHint: 'file.json',
    },
    users: { type: 'string', description: `Users seeded (default ${DEFAULTS.users})`, valueHint: 'n' },
    concurrency: {
      type: 'string',
      description: `Transitions in flight in the concurrent phase (default ${DEFAULTS.concurrency})`,
      valueHint: 'n',
    },
    duration: {
      type: 'string',
      description: `Seconds per timed phase (default ${DEFAULTS.durationS})`,
      valueHint: 's',
    },
    transitions: {
      type: 'string',
      description: 'Stop each timed phase after this many transitions (default: no cap)',
      valueHint: 'n',
    },
    dau: {
      type: 'string',
      description: `Daily active users for the capacity estimate (default ${DEFAULTS.dau.toLocaleString('en-US')})`,
      valueHint: 'n',
    },
    replicas: {
      type: 'string',
      description:
        'Extra copies for the capacity estimate: Redis replicas, SQLite backups (default: 1; 0 on Memcached and memory:)',
      valueHint: 'n',
    },
    keep: {
      type: 'boolean',
      description: "Leave the bench's sessions in the store (under the printed prefix)",
    },
    json: jsonArg,
  },
  async run({ args }) {
    const options = parseBenchFlags(args);
    const shape = args.session ? loadShape(args.session) : SEED_SHAPE;
    const url = storeUrl(args.store);
    const progress = new Progress();
    try {
      const run = await runBench(url, shape, options, progress);
      const store = redact(url);
      console.log(
        options.json
          ? JSON.stringify(reportJson(store, shape.label, options, run), null, 2)
          : reportTable(store, shape.label, options, run),
      );
      return finish(EXIT.ok);
    } catch (error) {
      if (!(error instanceof BenchInterrupted)) throw error;
      console.error('chatstate: bench interrupted; nothing was reported.');
      return finish(EXIT_INTERRUPTED);
    }
  },
});
