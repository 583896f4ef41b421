// One fake Graph API shared by the cases of a test file, the way every Cloud API client test uses it:
// started before the first case, its record and failure plans cleared before each case, closed after
// the last. Kept apart from fake-graph.ts, which is only the server and knows nothing of Vitest.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeGraph, startFakeGraph } from './fake-graph.js';

/**
 * Registers the hooks and returns the file's fake Graph API. It can be declared at the top of the file:
 * every property and method reaches the server the beforeAll hook started (and throws before that).
 */
export function fakeGraphForFile(): FakeGraph {
  let started: FakeGraph | undefined;
  const graph = (): FakeGraph => {
    if (!started) throw new Error('the fake Graph API starts in beforeAll: use it inside hooks and cases');
    return started;
  };
  beforeAll(async () => {
    started = await startFakeGraph();
  });
  afterAll(() => started?.close());
  beforeEach(() => graph().reset());
  return {
    get baseUrl() {
      return graph().baseUrl;
    },
    get token() {
      return graph().token;
    },
    get requests() {
      return graph().requests;
    },
    accepted: () => graph().accepted(),
    failNext: (count, failure) => graph().failNext(count, failure),
    failTo: (to, failure) => graph().failTo(to, failure),
    hangNext: (count) => graph().hangNext(count),
    setPairInterval: (ms) => graph().setPairInterval(ms),
    setThroughput: (perSecond) => graph().setThroughput(perSecond),
    expireToken: () => graph().expireToken(),
    reset: () => graph().reset(),
    close: () => graph().close(),
  };
}
