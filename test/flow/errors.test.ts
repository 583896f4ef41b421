import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defineBot,
  defineFlow,
  FLOW_ERROR_CODES,
  type FlowContext,
  type FlowError,
  type FlowErrorInfo,
  isFlowError,
} from '../../src/flow/index.js';
import { harness } from './harness.js';

const ERROR = 'Sorry, something went wrong. Please try again.';
let h: Awaited<ReturnType<typeof harness>>;
let errors: Array<{ error: FlowError; info: FlowErrorInfo }>;

/** A two-node flow whose `b` input does whatever the test asks when the user says "boom". */
async function setup(boom: (ctx: FlowContext) => void | Promise<void>, handlerTimeoutMs?: number) {
  errors = [];
  const flow = defineFlow({
    name: 'f',
    version: 1,
    start: 'a',
    nodes: {
      a: {
        prompt: (ctx) => ctx.say('at a'),
        input: (ctx) => {
          ctx.set('seen', ctx.text ?? '');
          ctx.goto('b');
        },
      },
      b: {
        prompt: (ctx) => ctx.say('at b'),
        input: async (ctx) => {
          if (ctx.text === 'boom') return boom(ctx);
          ctx.say(`b got ${ctx.text}`);
        },
      },
    },
  });
  h = await harness(
    defineBot({
      flows: [flow],
      ...(handlerTimeoutMs ? { handlerTimeoutMs } : {}),
      onError: (error, info) => errors.push({ error, info }),
    }),
  );
  const u = h.user('12025550140');
  expect(await u.send('hi')).toEqual(['at a']);
  expect(await u.send('x')).toEqual(['at b']);
  return u;
}

/** The parts of the session a failed step must not touch. */
const state = (s: Awaited<ReturnType<ReturnType<typeof h.user>['session']>>) => ({
  flow: s?.flow,
  node: s?.node,
  prevNode: s?.prevNode,
  retries: s?.retries,
  vars: { ...s?.vars, _rate: undefined },
});

afterEach(async () => {
  await h?.close();
});

describe('a failing step: error reply, nothing else committed, the next message works', () => {
  const cases: Array<[string, (ctx: FlowContext) => void | Promise<void>, string]> = [
    [
      'goto an unknown node',
      (ctx) => {
        ctx.set('half', 'done');
        ctx.say('you will never see this');
        ctx.goto('nowhere');
      },
      'FLOW_NODE_UNKNOWN',
    ],
    [
      'a handler that throws',
      (ctx) => {
        ctx.set('half', 'done');
        ctx.retry();
        ctx.say('you will never see this');
        throw new Error('database down');
      },
      'FLOW_HANDLER_FAILED',
    ],
    [
      'a reply Meta would refuse (4 buttons)',
      (ctx) =>
        ctx.buttons(
          'too many',
          ['1', '2', '3', '4'].map((id) => ({ id, title: id })),
        ),
      'FLOW_HANDLER_FAILED',
    ],
    ['startFlow of an unknown flow', (ctx) => ctx.startFlow('nope'), 'FLOW_UNKNOWN'],
  ];

  it.each(cases)('%s', async (_name, boom, code) => {
    let runs = 0;
    const u = await setup((ctx) => {
      runs++;
      return boom(ctx);
    });
    const before = await u.session();
    expect(await u.send('boom')).toEqual([ERROR]);
    const after = await u.session();
    expect(state(after)).toEqual(state(before));
    expect(after?.history.slice(-2)).toMatchObject([
      { dir: 'in', text: 'boom' },
      { dir: 'out', text: ERROR },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error.code).toBe(code);
    expect(errors[0]?.info).toMatchObject({ userId: '12025550140', flow: 'f', node: 'b' });
    // The bot answered the failure itself: the dispatcher did not re-run (or dead-letter) it.
    expect(runs).toBe(1);
    expect(await u.send('next')).toEqual(['b got next']);
  });

  it('a handler that times out: error reply, its late writes are refused, the next message works', async () => {
    let late: unknown;
    let aborted = false;
    const u = await setup(async (ctx) => {
      ctx.set('half', 'done');
      ctx.signal.addEventListener('abort', () => {
        aborted = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      try {
        ctx.say('too late');
        ctx.goto('a');
      } catch (error) {
        late = error;
      }
    }, 100);
    const before = await u.session();
    expect(await u.send('boom')).toEqual([ERROR]);
    expect(errors[0]?.error.code).toBe('FLOW_HANDLER_TIMEOUT');
    expect(aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(isFlowError(late, 'FLOW_STEP_CLOSED')).toBe(true);
    expect(state(await u.session())).toEqual(state(before));
    expect(await u.send('next')).toEqual(['b got next']);
    expect(h.sink.messages.some((m) => JSON.stringify(m.envelope).includes('too late'))).toBe(false);
  });

  it('a goto cycle between prompts is stopped (FLOW_LOOP)', async () => {
    errors = [];
    const flow = defineFlow({
      name: 'loop',
      version: 1,
      start: 'a',
      nodes: { a: { prompt: (ctx) => ctx.goto('b') }, b: { prompt: (ctx) => ctx.goto('a') } },
    });
    h = await harness(defineBot({ flows: [flow], onError: (error, info) => errors.push({ error, info }) }));
    const u = h.user('12025550141');
    expect(await u.send('hi')).toEqual([ERROR]);
    expect(errors[0]?.error.code).toBe('FLOW_LOOP');
    expect(await u.session()).toMatchObject({ flow: null, node: null });
  });

  it('a handler mutating what it read changes nothing stored', async () => {
    const u = await setup((ctx) => {
      (ctx.vars as { seen: string }).seen = 'mutated';
      throw new Error('after mutating');
    });
    await u.send('boom');
    expect((await u.session())?.vars.seen).toBe('x');
  });
});

describe('flow error codes', () => {
  const doc = readFileSync(new URL('../../docs/flows.md', import.meta.url), 'utf8');
  it.each(Object.keys(FLOW_ERROR_CODES))('%s is documented in docs/flows.md', (code) => {
    expect(doc).toContain(`| \`${code}\` |`);
  });

  it('definition errors are thrown by defineFlow / defineBot, with the component in the message', () => {
    const flow = defineFlow({ name: 'x', version: 1, start: 'a', nodes: { a: () => {} } });
    expect(() => defineBot({ flows: [flow, flow] })).toThrow(
      /\[chatstate\] \[flow\] two flows are named "x"/,
    );
    expect(() => defineBot({ flows: [flow], start: 'y' })).toThrow(/no flow is named "y"/);
    expect(() => defineBot({ flows: [flow], handlerTimeoutMs: 0 })).toThrow(/handlerTimeoutMs/);
    expect(() => defineBot({ flows: [{ name: 'fake', version: 1, nodeNames: [] }] })).toThrow(/defineFlow/);
    expect(() => defineFlow({ name: 'x', version: 1, start: 'a', nodes: { a: {} } })).toThrow(
      /prompt and\/or input/,
    );
    expect(() =>
      defineFlow({ name: 'x', version: 1, start: 'a', maxRetries: 0, nodes: { a: () => {} } }),
    ).toThrow(/maxRetries/);
    expect(() =>
      defineFlow({ name: 'x', version: 1, start: 'a', ttlMs: -1, nodes: { a: () => {} } }),
    ).toThrow(/ttlMs/);
  });
});
