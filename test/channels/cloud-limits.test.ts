import { describe, expect, it } from 'vitest';
import {
  type CloudApiClientOptions,
  type CloudApiEvent,
  createCloudApiClient,
} from '../../src/channels/whatsapp-cloud/index.js';
import type { RecordedRequest } from '../support/fake-graph.js';
import { fakeGraphForFile } from '../support/fake-graph-for-file.js';

// Rate and pair limits, with short configured intervals so the suite stays fast. Timing
// assertions use generous bounds; ordering and "nothing dropped" are asserted exactly.
const graph = fakeGraphForFile();

const NUMBER_A = '1000000001';
const NUMBER_B = '1000000002';
const USER = '16505551234';

function setup(overrides: Partial<CloudApiClientOptions> = {}) {
  const events: CloudApiEvent[] = [];
  const counts = { throttled: 0, retried: [] as string[], failed: [] as string[] };
  const client = createCloudApiClient({
    baseUrl: graph.baseUrl,
    accessToken: graph.token,
    phoneNumberId: NUMBER_A,
    retryBaseMs: 5,
    onEvent: (event) => events.push(event),
    metrics: {
      sent() {},
      failed: (code) => counts.failed.push(code),
      retried: (code) => counts.retried.push(code),
      throttled: () => counts.throttled++,
    },
    ...overrides,
  });
  return { client, events, counts };
}

const textOf = (r: RecordedRequest) => (r.body?.text as { body: string }).body;
const gaps = (rs: RecordedRequest[]) => rs.slice(1).map((r, i) => r.at - (rs[i]?.at ?? 0));
const burst = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ type: 'text' as const, text: `reply ${i}` }));

describe('pair rate limit (one business number -> one user)', () => {
  it('default (send at once, back off on 131056): a burst of 10 replies is delivered in order, spaced, none dropped', async () => {
    graph.setPairInterval(60);
    const { client, events, counts } = setup({ pairBackoffUnitMs: 15 });
    const results = await Promise.all(burst(10).map((message) => client.send({ to: USER, message })));
    const accepted = graph.accepted();
    expect(accepted.map(textOf)).toEqual(burst(10).map((m) => m.text));
    expect(results.map((r) => r.messageId)).toEqual(
      accepted.map((r) => (r.response as { messages: [{ id: string }] }).messages[0].id),
    );
    for (const gap of gaps(accepted)) expect(gap).toBeGreaterThanOrEqual(59);
    // Meta's documented schedule: wait unit * 4^X, X = consecutive 131056 for this pair.
    const backoffs = events.filter((e) => e.type === 'pair-backoff');
    expect(backoffs.length).toBeGreaterThan(0);
    expect(new Set(backoffs.map((e) => `${e.strikes}:${e.delayMs}`))).toEqual(new Set(['1:15', '2:60']));
    expect(counts.retried.every((code) => code === '131056')).toBe(true);
    expect(counts.failed).toEqual([]);
  });

  it('with pairInterval set, replies are spaced proactively and Meta never answers 131056', async () => {
    graph.setPairInterval(60);
    const { client, counts } = setup({ pairInterval: 65 });
    await Promise.all(burst(10).map((message) => client.send({ to: USER, message })));
    expect(graph.requests.every((r) => r.status === 200)).toBe(true);
    expect(graph.accepted().map(textOf)).toEqual(burst(10).map((m) => m.text));
    for (const gap of gaps(graph.accepted())) expect(gap).toBeGreaterThanOrEqual(60);
    expect(counts.retried).toEqual([]);
  });

  it("one user's backoff does not hold back other users", async () => {
    graph.setPairInterval(10_000);
    const { client } = setup({ pairBackoffUnitMs: 300, maxPairRetries: 1 });
    await client.send({ to: USER, message: { type: 'text', text: 'first' } });
    const blocked = client
      .send({ to: USER, message: { type: 'text', text: 'second' } })
      .catch((e: unknown) => e);
    const started = performance.now();
    await client.send({ to: '16505550000', message: { type: 'text', text: 'other user' } });
    expect(performance.now() - started).toBeLessThan(250);
    await blocked;
  });

  it('fails with REPLY_RATE_LIMITED (131056) only after maxPairRetries, and later replies still go', async () => {
    graph.setPairInterval(10_000);
    const { client, counts } = setup({ pairBackoffUnitMs: 2, maxPairRetries: 2 });
    await client.send({ to: USER, message: { type: 'text', text: 'one' } });
    await expect(client.send({ to: USER, message: { type: 'text', text: 'two' } })).rejects.toMatchObject({
      code: 'REPLY_RATE_LIMITED',
      metaCode: 131056,
      attempts: 3,
    });
    expect(counts.failed).toEqual(['131056']);
    graph.setPairInterval(0);
    await expect(client.send({ to: USER, message: { type: 'text', text: 'three' } })).resolves.toMatchObject({
      attempts: 1,
    });
  });

  it('aborting a reply queued behind a pair backoff rejects at once and sends nothing', async () => {
    graph.setPairInterval(10_000);
    const { client } = setup({ pairBackoffUnitMs: 5_000, maxPairRetries: 1 });
    await client.send({ to: USER, message: { type: 'text', text: 'first' } });
    const stopSecond = new AbortController();
    const second = client.send({
      to: USER,
      message: { type: 'text', text: 'second' },
      signal: stopSecond.signal,
    });
    const stopThird = new AbortController();
    const third = client.send({
      to: USER,
      message: { type: 'text', text: 'third' },
      signal: stopThird.signal,
    });
    setTimeout(() => stopThird.abort(new Error('bot shutting down')), 30);
    const started = performance.now();
    await expect(third).rejects.toThrow('bot shutting down');
    expect(performance.now() - started).toBeLessThan(1000);
    // 'second' is sleeping through its 5 s backoff: aborting it ends the sleep, so nothing leaks.
    stopSecond.abort(new Error('test over'));
    await expect(second).rejects.toThrow('test over');
    expect(graph.requests.map(textOf)).toEqual(['first', 'second']);
  });

  it('"+1650…" and "1650…" are the same pair', async () => {
    graph.setPairInterval(40);
    const { client } = setup({ pairInterval: 45 });
    await Promise.all([
      client.send({ to: `+${USER}`, message: { type: 'text', text: 'a' } }),
      client.send({ to: USER, message: { type: 'text', text: 'b' } }),
    ]);
    expect(graph.requests.every((r) => r.status === 200)).toBe(true);
  });
});

describe('per-number throughput', () => {
  it('20/s configured: 45 sends from one number wait (never fail), and no 1 s window holds more than 20', async () => {
    graph.setThroughput(20);
    const { client, counts } = setup({ perNumberRate: 20 });
    const started = performance.now();
    const sends = Array.from({ length: 45 }, (_, i) =>
      client.send({ to: `1555000${String(i).padStart(4, '0')}`, message: { type: 'text', text: `m${i}` } }),
    );
    // Another number is not slowed down by A's queue.
    const otherStarted = performance.now();
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        client.send({ from: NUMBER_B, to: `1666000000${i}`, message: { type: 'text', text: 'b' } }),
      ),
    );
    expect(performance.now() - otherStarted).toBeLessThan(500);
    await Promise.all(sends);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1950);
    expect(elapsed).toBeLessThan(6000);
    expect(counts.throttled).toBeGreaterThanOrEqual(25);
    const fromA = graph.requests.filter((r) => r.phoneNumberId === NUMBER_A);
    expect(fromA.filter((r) => r.status !== 200)).toEqual([]);
    expect(fromA).toHaveLength(45);
    for (const r of fromA)
      expect(fromA.filter((o) => o.at > r.at - 1000 && o.at <= r.at).length).toBeLessThanOrEqual(20);
  });

  it('130429 from Meta pauses the number and the sends are retried until delivered', async () => {
    graph.setThroughput(5);
    const { client, counts } = setup({
      perNumberRate: false,
      retryBaseMs: 400,
      maxRetries: 6,
      random: () => 1,
    });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.send({ to: `1777000000${i}`, message: { type: 'text', text: `t${i}` } }),
      ),
    );
    expect(results).toHaveLength(10);
    expect(graph.accepted()).toHaveLength(10);
    expect(counts.retried.length).toBeGreaterThan(0);
    expect(counts.retried.every((code) => code === '130429')).toBe(true);
    expect(counts.failed).toEqual([]);
  });
});
