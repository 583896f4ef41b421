// The Graph API sink (graph-sink.mjs) as its own process, so its CPU is not the load generator's.
// Talks to the parent over IPC: sends { type: 'ready', baseUrl }, then, with --report, batches of
// accepted messages { type: 'arrivals', to: [...], at: [...] } once per event-loop turn; answers
// { type: 'counts' } with its counters. Stops on SIGTERM or when the parent goes away.
// usage (from a parent): fork('bench/e2e/graph-sink-child.mjs', ['--rate', '80', '--report'])
import { parseArgs } from 'node:util';
import { startGraphSink } from './graph-sink.mjs';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '0' }, report: { type: 'boolean', default: false } },
});

let to = [];
let at = [];
let flushing = false;
function flush() {
  flushing = false;
  if (to.length === 0) return;
  process.send({ type: 'arrivals', to, at });
  to = [];
  at = [];
}

const sink = await startGraphSink({
  perNumberPerSecond: Number(values.rate),
  onMessage: values.report
    ? (waId, atMs) => {
        to.push(waId);
        at.push(atMs);
        if (!flushing) {
          flushing = true;
          setImmediate(flush);
        }
      }
    : undefined,
});

process.on('message', (m) => {
  if (m?.type === 'counts') process.send({ type: 'counts', counts: { ...sink.counts } });
});
process.on('disconnect', () => void sink.close().then(() => process.exit(0)));
process.once('SIGTERM', () => void sink.close().then(() => process.exit(0)));
process.send({ type: 'ready', baseUrl: sink.baseUrl, pid: process.pid });
