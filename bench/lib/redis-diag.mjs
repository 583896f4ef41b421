// The frame the Redis diagnostics in bench/diag/ share: `--n` and `--rounds`, the shared
// redis-server (the script exits when it cannot start one), an admin connection, and the
// 64-in-flight loop with Node's and redis-server's CPU charged to it.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { redisServerCpuUs } from './server-stats.mjs';
import { sharedRedis, stopSharedServers } from './servers.mjs';
import { median } from './stats.mjs';

/** @param {{ n: number, rounds?: number }} defaults */
export async function redisDiag(defaults) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: String(defaults.n) },
      rounds: { type: 'string', default: String(defaults.rounds ?? 3) },
    },
  });
  const server = await sharedRedis();
  if (server.skipped) {
    console.log(`skipped: ${server.skipped}`);
    process.exit(0);
  }
  const admin = new Redis(server.url);
  return {
    n: Number(values.n),
    rounds: Number(values.rounds),
    url: server.url,
    admin,
    serverCpuUs: () => redisServerCpuUs(admin),
    /**
     * Runs `step(worker, i)` `count` times, 64 at a time (worker 0-63, i its own count).
     * Returns wall ms, Node CPU us and redis-server CPU us, all totals.
     */
    async inFlight(step, count) {
      let issued = 0;
      const c0 = process.cpuUsage();
      const s0 = await redisServerCpuUs(admin);
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 64 }, async (_, worker) => {
          for (let i = 0; issued < count; i++) {
            issued++;
            await step(worker, i);
          }
        }),
      );
      const wallMs = performance.now() - t0;
      const s1 = await redisServerCpuUs(admin);
      const c = process.cpuUsage(c0);
      return { wallMs, nodeUs: c.user + c.system, serverUs: s1 - s0 };
    },
    /**
     * Calls `measure(subject, name)` for every subject, round after round (the subjects alternate
     * within a round, so a noisy phase of the host hits them all). Returns { name: [result per round] }.
     */
    async alternate(subjects, measure) {
      const results = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
      for (let round = 0; round < this.rounds; round++)
        for (const [name, subject] of Object.entries(subjects))
          results[name].push(await measure(subject, name));
      return results;
    },
    /** Prints a markdown table: `header` names the columns, each row is an array of cells. */
    table(header, rows) {
      console.log(`| ${header.join(' | ')} |`);
      console.log(`| --- |${' ---: |'.repeat(header.length - 1)}`);
      for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    },
    /** Median of `key` over the rounds of one row. */
    median: (rows, key) => median(rows.map((row) => row[key])),
    async finish() {
      await admin.flushall();
      admin.disconnect();
      await stopSharedServers();
    },
  };
}
