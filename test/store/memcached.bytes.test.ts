import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { type MemcachedServer, memcachedRaw, startMemcached } from '../support/servers.js';

// The seed session of shared/DESIGN.md, written the way bench/lib/workload.mjs maps it onto chatstate:
// id = uid, flow = vars.flow, node = st, vars = { name }, retries = retry_count, schema = v (2).
const SEED_TS_MS = 1715602400 * 1000;
const N = 100_000;

let server: MemcachedServer | undefined;
let store: SessionStore | undefined;
beforeAll(async () => {
  server = await startMemcached({ memoryMb: 64 });
});
afterAll(async () => {
  await store?.close();
  await server?.stop();
});

async function statLines(port: number, command: string): Promise<Map<string, number>> {
  const text = await memcachedRaw(port, `${command}\r\n`, /END\r\n$/);
  return new Map([...text.matchAll(/^STAT (\S+) (\S+)\r$/gm)].map((m) => [m[1] as string, Number(m[2])]));
}

describe('memcached driver: memory per session', () => {
  it(`stores ${N.toLocaleString('en')} seed sessions in at most 256 bytes each`, async () => {
    if (!server) throw new Error('memcached did not start');
    // The URL's default prefix (cs:), a clock fixed at the seed's ts, no lease and no claim: only sessions.
    store = await openStore(`memcached://127.0.0.1:${server.port}`, {
      schemaVersion: 2,
      clock: () => SEED_TS_MS,
      sweepIntervalMs: 0,
    });
    const s = store;
    for (let i = 0; i < N; i += 256) {
      await Promise.all(
        Array.from({ length: Math.min(256, N - i) }, (_, j) =>
          s.transition(
            String(12025550123 + i + j),
            (d) =>
              void d
                .setFlow('onboarding_v2')
                .goto('awaiting_email')
                .set('name', 'John Doe')
                .incr('retries', 1),
            { lease: false },
          ),
        ),
      );
    }
    const general = await statLines(server.port, 'stats');
    const slabs = await statLines(server.port, 'stats slabs');
    const items = general.get('curr_items') ?? 0;
    const itemBytes = (general.get('bytes') ?? 0) / items;
    // The slab class that holds the sessions: its chunk size is what one session really costs.
    const classes = [...slabs]
      .filter(([k, v]) => k.endsWith(':used_chunks') && v > 0)
      .map(([k, used]) => ({
        id: k.split(':')[0],
        used,
        chunk: slabs.get(`${k.split(':')[0]}:chunk_size`) ?? 0,
      }));
    const main = classes.sort((a, b) => b.used - a.used)[0];
    console.log(
      `[memcached bytes] ${items} items; item size ${itemBytes.toFixed(1)} B (stats bytes / curr_items); slab chunk ${main?.chunk} B (class ${main?.id}, ${main?.used} chunks); total_malloced ${slabs.get('total_malloced')} B`,
    );
    expect(items).toBe(N);
    expect(main?.used).toBe(N);
    expect(itemBytes).toBeLessThanOrEqual(256);
    expect(main?.chunk).toBeLessThanOrEqual(256);
  }, 180_000);
});
