// The two ways bench/run-sends.mjs drives a sender: a closed loop (`concurrency` sends outstanding
// at all times) and an open loop (a new send every 1/rate s whatever is outstanding). Both record
// per-send latency (performance.now() around the call) and the bench process's CPU per send.
import { quantile } from '../lib/stats.mjs';

function result(latencies, ok, failures, wallMs, cpu) {
  const cpuUs = cpu.user + cpu.system;
  return {
    sends: latencies.length,
    ok,
    failures,
    perSec: (ok * 1000) / wallMs,
    p50Us: quantile(latencies, 0.5) * 1000,
    p99Us: quantile(latencies, 0.99) * 1000,
    cpuUsPerSend: latencies.length ? cpuUs / latencies.length : null,
    wallS: wallMs / 1000,
  };
}

/** Sends numbered from `cursor.next` on, `concurrency` at a time, for `durationMs`. */
export async function closedLoop(sender, cursor, { concurrency, durationMs }) {
  const latencies = [];
  const failures = {};
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const i = cursor.next++;
      const s = performance.now();
      const r = await sender.send(i);
      latencies.push(performance.now() - s);
      if (r.ok) ok++;
      else failures[r.code] = (failures[r.code] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result(latencies, ok, failures, performance.now() - t0, process.cpuUsage(cpu0));
}

/** `rate` sends per second for `durationMs`, then waits for the outstanding ones. */
export async function openLoop(sender, cursor, { rate, durationMs }) {
  const latencies = [];
  const failures = {};
  const pending = new Set();
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let due = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now - t0 >= durationMs) return resolve();
      const target = Math.floor(((now - t0) * rate) / 1000);
      for (; due < target; due++) {
        const i = cursor.next++;
        const s = performance.now();
        const p = sender.send(i).then((r) => {
          latencies.push(performance.now() - s);
          if (r.ok) ok++;
          else failures[r.code] = (failures[r.code] ?? 0) + 1;
          pending.delete(p);
        });
        pending.add(p);
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  // The rate is what was offered: over the window, not the tail.
  return result(latencies, ok, failures, durationMs, process.cpuUsage(cpu0));
}
