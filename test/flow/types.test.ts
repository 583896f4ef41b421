// Type-level tests: `expectTypeOf` and `@ts-expect-error` are checked by the compiler (this file is
// compiled by test/flow/typecheck.test.ts and by `tsc -p tsconfig.test.json`); at run time the
// flows below are only defined, which also runs the define-time checks.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineBot, defineFlow, type Flow, type FlowContext, FlowError } from '../../src/flow/index.js';
import type { JsonValue } from '../../src/session/types.js';
import type { MessageEvent } from '../../src/webhook/events.js';

type Lead = { name: string; email: string; cart: string[]; visits: number };

describe('flow types', () => {
  it('types session variables against the flow', () => {
    const flow = defineFlow<Lead>({
      name: 'typed',
      version: 1,
      start: 'a',
      nodes: {
        a: (ctx) => {
          expectTypeOf(ctx.vars.name).toEqualTypeOf<string | undefined>();
          expectTypeOf(ctx.vars.cart).toEqualTypeOf<string[] | undefined>();
          expectTypeOf(ctx).toEqualTypeOf<FlowContext<Lead, string>>();
          ctx.set('email', 'x@y.io');
          ctx.set('cart', ['starter']);
          // @ts-expect-error email is a string
          ctx.set('email', 42);
          // @ts-expect-error not a variable of this flow
          ctx.set('emial', 'x@y.io');
          expectTypeOf(ctx.incr('visits')).toBeNumber();
          // @ts-expect-error only numeric variables can be incremented
          ctx.incr('name');
          // With `defineFlow<V>(…)` node names are plain strings: checked at run time.
          ctx.goto('anything');
        },
      },
    });
    expectTypeOf(flow).toEqualTypeOf<Flow<Lead, string>>();
  });

  it('checks node names at compile time with defineFlow<V>()({…})', () => {
    const flow = defineFlow<Lead>()({
      name: 'named',
      version: 1,
      start: 'ask_name',
      fallback: 'human',
      nodes: {
        ask_name: {
          prompt: (ctx) => ctx.say(`Hi ${ctx.vars.name ?? 'there'}`),
          input: (ctx) => {
            expectTypeOf(ctx.node).toEqualTypeOf<'ask_name' | 'human'>();
            expectTypeOf(ctx.vars.email).toEqualTypeOf<string | undefined>();
            ctx.goto('human');
            // @ts-expect-error no such node
            ctx.goto('humna');
          },
        },
        human: { prompt: (ctx) => ctx.handoff('asked') },
      },
      onExpire: (_ctx, last) => {
        expectTypeOf(last.vars.cart).toEqualTypeOf<string[] | undefined>();
      },
      onVersionChange: (old) => ({ vars: { name: String(old.vars.name ?? '') }, node: 'ask_name' }),
    });
    expectTypeOf(flow.nodeNames).toEqualTypeOf<readonly ('ask_name' | 'human')[]>();
    expect(() =>
      defineFlow<Lead>()({
        name: 'bad-fallback',
        version: 1,
        start: 'a',
        // @ts-expect-error fallback must be a node of this flow (and defineFlow refuses it at run time)
        nodes: { a: { input: () => {}, fallback: 'nowhere' } },
      }),
    ).toThrow(/fallback "nowhere" is not one of its nodes/);
  });

  it('infers node names without type arguments, and refuses an unknown start node', () => {
    expect(() =>
      defineFlow({
        name: 'plain',
        version: 'v1',
        // @ts-expect-error start must be one of the nodes
        start: 'strat',
        nodes: { start: (ctx) => ctx.goto('start') },
      }),
    ).toThrow(FlowError);
    const ok = defineFlow({ name: 'plain', version: 'v1', start: 'start', nodes: { start: () => {} } });
    expectTypeOf(ok).toEqualTypeOf<Flow<Record<string, JsonValue>, 'start'>>();
  });

  it('reads the message through typed accessors', () => {
    defineFlow({
      name: 'accessors',
      version: 1,
      start: 'n',
      nodes: {
        n: (ctx) => {
          expectTypeOf(ctx.text).toEqualTypeOf<string | undefined>();
          expectTypeOf(ctx.choice).toEqualTypeOf<string | undefined>();
          expectTypeOf(ctx.media).toEqualTypeOf<Extract<MessageEvent, { kind: 'media' }> | undefined>();
          expectTypeOf(ctx.location?.lat).toEqualTypeOf<number | undefined>();
        },
      },
    });
  });

  it('a bot takes flows with different variable types', () => {
    const a = defineFlow<Lead>({ name: 'a', version: 1, start: 'x', nodes: { x: () => {} } });
    const b = defineFlow<{ ticket: string }>()({ name: 'b', version: 1, start: 'y', nodes: { y: () => {} } });
    expectTypeOf(defineBot({ flows: [a, b], start: 'b' })).toBeFunction();
  });
});
