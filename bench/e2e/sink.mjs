// Opens the Graph API sink in this process or in a child process behind one interface, so the
// benchmarks can measure which placement disturbs the measurement less (--sink inproc|child).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startGraphSink } from './graph-sink.mjs';

const CHILD = fileURLToPath(new URL('./graph-sink-child.mjs', import.meta.url));

/**
 * `onArrival(to, atMs)` for every accepted message (null: nothing reported, the child stays
 * silent); `rate` > 0 enforces that many messages per second per phone number id (130429).
 */
export async function openSink({ mode, rate = 0, onArrival = null }) {
  if (mode === 'inproc') {
    const sink = await startGraphSink({ perNumberPerSecond: rate, onMessage: onArrival ?? undefined });
    return {
      mode,
      baseUrl: sink.baseUrl,
      pid: process.pid,
      counts: async () => ({ ...sink.counts }),
      close: () => sink.close(),
    };
  }
  const child = fork(CHILD, ['--rate', String(rate), ...(onArrival ? ['--report'] : [])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const [ready] = await once(child, 'message');
  let countsWaiter = null;
  child.on('message', (m) => {
    if (m.type === 'arrivals') {
      for (let i = 0; i < m.to.length; i++) onArrival(m.to[i], m.at[i]);
    } else if (m.type === 'counts') {
      countsWaiter?.(m.counts);
      countsWaiter = null;
    }
  });
  return {
    mode,
    baseUrl: ready.baseUrl,
    pid: child.pid,
    counts: () =>
      new Promise((resolve) => {
        countsWaiter = resolve;
        child.send({ type: 'counts' });
      }),
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
