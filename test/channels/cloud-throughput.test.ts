import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCloudApiClient } from '../../src/channels/whatsapp-cloud/index.js';

// The client must not be the bottleneck: with a provider that answers at once (an in-process
// fetch, so the HTTP stack is not what we measure) it has to sustain >= 5,000 sends/s across 100
// business numbers, without a timer per send when nothing is throttled.
const OK = JSON.stringify({
  messaging_product: 'whatsapp',
  contacts: [{ input: '1', wa_id: '1' }],
  messages: [{ id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA' }],
});
// A Response-like object rather than `new Response()`: undici's Response and its body stream cost
// more per call than the whole client (measured ~50 µs), and they are not what this test is about.
const answer = {
  status: 200,
  headers: new Headers({ 'content-type': 'application/json' }),
  text: async () => OK,
};
const instantFetch = (async () => answer) as unknown as typeof fetch;

const NUMBERS = Array.from({ length: 100 }, (_, i) => String(1_000_000_000 + i));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('per-send overhead', () => {
  it('completes a 20,000-send burst across 100 numbers, every send once (limiter off, 500 in flight)', async () => {
    const client = createCloudApiClient({ accessToken: 't', fetch: instantFetch, perNumberRate: false });
    const send = (i: number) =>
      client.send({
        from: NUMBERS[i % 100],
        to: `1555${String(i % 20_000).padStart(7, '0')}`,
        message: { type: 'text', text: `reply number ${i}` },
      });
    // 500 sends in flight at a time, as an outbox drainer would keep them.
    const drive = async (total: number) => {
      let next = 0;
      let done = 0;
      const worker = async () => {
        while (next < total) {
          await send(next++);
          done++;
        }
      };
      await Promise.all(Array.from({ length: 500 }, worker));
      return done;
    };
    // The sends/s figure belongs to the benchmark suite (no timing assertions in tests): this
    // test checks that a large burst over 100 numbers completes, every send once.
    const total = 20_000;
    const done = await drive(total);
    expect(done).toBe(total);
  });

  it('at 5,000 sends/s spread over 100 numbers (50/s each) the default 80/s limiter never waits and no timer is made per send', async () => {
    const throttled = { count: 0 };
    const client = createCloudApiClient({
      accessToken: 't',
      fetch: instantFetch,
      metrics: { sent() {}, failed() {}, retried() {}, throttled: () => throttled.count++ },
    });
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const intervals = vi.spyOn(globalThis, 'setInterval');
    const sends: Promise<unknown>[] = [];
    // 50 ticks of 20 ms, each sending one message per number: 100 per tick = 5,000/s, 50/s per number.
    for (let tick = 0; tick < 50; tick++) {
      const tickStart = performance.now();
      for (const [n, from] of NUMBERS.entries()) {
        sends.push(
          client.send({
            from,
            to: `1666${String(tick * 100 + n).padStart(7, '0')}`,
            message: { type: 'text', text: 'hi' },
          }),
        );
      }
      const wait = 20 - (performance.now() - tickStart);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await Promise.all(sends);
    expect(sends).toHaveLength(5000);
    expect(throttled.count).toBe(0);
    // The 50 pacing timers above are the test's own; the client adds at most a few (its timeout sweeper).
    expect(timeouts.mock.calls.length).toBeLessThanOrEqual(50 + 5);
    expect(intervals.mock.calls.length).toBeLessThanOrEqual(5);
  });
});
