import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/store/lease-keeper.js';
import { openStore } from '../../src/store/open.js';

const dir = mkdtempSync(join(tmpdir(), 'chatstate-lease-keeper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lease keeper', () => {
  it('extends each held lease once per period, stops with stop(), and keeps no timer when idle', async () => {
    const extended: string[] = [];
    const keeper = new LeaseKeeper(40, (key, token) => extended.push(`${key}:${token}`));
    const a = keeper.hold('a', 1);
    await sleep(20);
    const b = keeper.hold('b', 2);
    await sleep(300);
    // a held ~320 ms, b ~300 ms: extensions one to one and a half periods apart, never closer than
    // a period (at most 8); at least 2 even if a busy machine delays the timer.
    for (const name of ['a:1', 'b:2']) {
      const n = extended.filter((e) => e === name).length;
      expect(n, name).toBeGreaterThanOrEqual(2);
      expect(n, name).toBeLessThanOrEqual(8);
    }
    a.stop();
    b.stop();
    b.stop();
    const count = extended.length;
    await sleep(120);
    expect(extended.length).toBe(count);
    keeper.close();
  });

  it('a lease held longer than its TTL stays held while the work runs: no other process can take it', async () => {
    const url = `sqlite:${join(dir, 'keeper.db')}`;
    // A 1,200 ms lease held for 2.4 s: extended every 400-600 ms, so the lease only lapses if the
    // process stalls for more than 600 ms (a 240 ms lease failed once under the full suite's load).
    const holder = await openStore(url, { sweepIntervalMs: 0, leaseTtlMs: 1200 });
    const other = await openStore(url, { sweepIntervalMs: 0, leaseTtlMs: 1200 });
    const attempts: boolean[] = [];
    await holder.withLease('u1', async () => {
      for (let i = 0; i < 8; i++) {
        await sleep(300);
        attempts.push((await other.acquireLease('u1', 1200)) !== null);
      }
    });
    expect(attempts).toEqual(Array.from({ length: 8 }, () => false));
    expect(await other.acquireLease('u1', 1200)).not.toBeNull();
    await holder.close();
    await other.close();
  });
});
