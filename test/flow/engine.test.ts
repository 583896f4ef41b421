import { afterEach, describe, expect, it } from 'vitest';
import { defineBot, defineFlow, FLOW_TTL_MS, type Migrate } from '../../src/flow/index.js';
import { harness } from './harness.js';

let h: Awaited<ReturnType<typeof harness>>;
afterEach(async () => {
  await h?.close();
});

type Order = { size: string; qty: number; sizes: string[] };

/** An order flow; `version` and the version policy vary per test, the rest stays the same. */
function orderFlow(version: number, onVersionChange?: 'restart' | Migrate<Order, string>) {
  return defineFlow<Order>({
    name: 'order',
    version,
    start: 'size',
    ...(onVersionChange ? { onVersionChange } : {}),
    nodes: {
      size: {
        prompt: (ctx) => ctx.say(`v${version}: which size?`),
        input: (ctx) => {
          ctx.set('size', ctx.text ?? '');
          ctx.goto('qty');
        },
      },
      qty: {
        prompt: (ctx) => ctx.say(`v${version}: how many?`),
        input: (ctx) => ctx.say(`v${version}: ${ctx.text} x ${ctx.vars.size ?? ctx.vars.sizes?.join('+')}`),
      },
    },
  });
}

describe('flow versions: a deploy does not break users in the middle of a flow', () => {
  it('stamps the version and restarts users of an older version (default policy)', async () => {
    h = await harness(defineBot({ flows: [orderFlow(1)] }));
    const u = h.user('12025550150');
    expect(await u.send('hi')).toEqual(['v1: which size?']);
    expect(await u.send('XL')).toEqual(['v1: how many?']);
    expect((await u.session())?.vars).toMatchObject({ _fv: 1, size: 'XL' });

    h.deploy(defineBot({ flows: [orderFlow(2)] }));
    expect(await u.send('3')).toEqual(['v2: which size?']);
    const session = await u.session();
    expect(session).toMatchObject({ node: 'size', retries: 0 });
    expect(session?.vars._fv).toBe(2);
    expect(session?.vars.size).toBeUndefined();
    expect(await u.send('M')).toEqual(['v2: how many?']);
  });

  it('migrates users of an older version in place with a migrate policy', async () => {
    h = await harness(defineBot({ flows: [orderFlow(1)] }));
    const u = h.user('12025550151');
    await u.send('hi');
    await u.send('XL');
    const seen: unknown[] = [];
    h.deploy(
      defineBot({
        flows: [
          orderFlow(2, (old) => {
            seen.push(old);
            return { vars: { sizes: [String(old.vars.size)] } };
          }),
        ],
      }),
    );
    // Still at "qty": the message is that node's answer, read against the migrated variables.
    expect(await u.send('3')).toEqual(['v2: 3 x XL']);
    expect(seen).toEqual([{ version: 1, node: 'qty', vars: { size: 'XL' } }]);
    const session = await u.session();
    expect(session?.vars).toMatchObject({ _fv: 2, sizes: ['XL'] });
    expect(session?.vars.size).toBeUndefined();
  });

  it('a migrate policy may move the user (the new node prompts) or ask for a restart', async () => {
    h = await harness(defineBot({ flows: [orderFlow(1)] }));
    const a = h.user('12025550152');
    const b = h.user('12025550153');
    await a.send('hi');
    await a.send('S');
    await b.send('hi');
    await b.send('L');
    const migrate: Migrate<Order, string> = (old) =>
      old.vars.size === 'S' ? { vars: { sizes: ['S'] }, node: 'size' } : 'restart';
    h.deploy(defineBot({ flows: [orderFlow(3, migrate)] }));
    expect(await a.send('2')).toEqual(['v3: which size?']);
    expect((await a.session())?.vars).toMatchObject({ _fv: 3, sizes: ['S'] });
    expect(await b.send('2')).toEqual(['v3: which size?']);
    expect((await b.session())?.vars.size).toBeUndefined();
    expect((await b.session())?.vars._fv).toBe(3);
  });
});

describe('retries and fallback', () => {
  const quiz = (nodeOptions: { maxRetries?: number; reprompt?: boolean } = {}) =>
    defineFlow({
      name: 'quiz',
      version: 1,
      start: 'q',
      fallback: 'help',
      nodes: {
        q: {
          prompt: (ctx) => ctx.say('2 + 2?'),
          input: (ctx) => (ctx.text === '4' ? ctx.goto('done') : ctx.invalid(`no (${ctx.retries + 1})`)),
          ...nodeOptions,
        },
        done: { prompt: (ctx) => ctx.say('right') },
        help: { prompt: (ctx) => ctx.say('let me help') },
      },
    });

  it('re-prompts until maxRetries, then goes to the flow fallback with retries reset', async () => {
    h = await harness(defineBot({ flows: [quiz({ maxRetries: 2 })] }));
    const u = h.user('12025550160');
    await u.send('hi');
    expect(await u.send('5')).toEqual(['no (1)', '2 + 2?']);
    expect(await u.send('6')).toEqual(['let me help']);
    expect(await u.session()).toMatchObject({ node: 'help', retries: 0 });
  });

  it('reprompt: false only says the message; a good answer leaves the node and resets retries', async () => {
    h = await harness(defineBot({ flows: [quiz({ reprompt: false })] }));
    const u = h.user('12025550161');
    await u.send('hi');
    expect(await u.send('5')).toEqual(['no (1)']);
    expect(await u.send('5')).toEqual(['no (2)']);
    expect((await u.session())?.retries).toBe(2);
    expect(await u.send('4')).toEqual(['right']);
    expect((await u.session())?.retries).toBe(0);
  });
});

describe('commands', () => {
  const echo = defineFlow({
    name: 'echo',
    version: 1,
    start: 'e',
    nodes: { e: { prompt: (ctx) => ctx.say('ready'), input: (ctx) => ctx.say(`echo ${ctx.text}`) } },
  });

  it('are configurable: add one, replace one, remove one; matched in any case', async () => {
    h = await harness(
      defineBot({
        flows: [echo],
        commands: {
          Help: (ctx) => ctx.say('commands: help, reset'),
          STOP: false,
          menu: (ctx) => ctx.say('no menu'),
        },
      }),
    );
    const u = h.user('12025550170');
    expect(await u.send('hi')).toEqual(['ready']);
    expect(await u.send('HELP')).toEqual(['commands: help, reset']);
    expect(await u.send('stop')).toEqual(['echo stop']);
    expect(await u.send('Menu')).toEqual(['no menu']);
    expect(await u.send('please reset')).toEqual(['echo please reset']);
    expect(await u.send('Reset')).toEqual(['ready']);
  });

  it('reset keeps the inbound rate-limit window (else resetting would dodge it)', async () => {
    h = await harness(defineBot({ flows: [echo] }));
    const u = h.user('12025550171');
    await u.send('hi');
    const rate = (await u.session())?.vars._rate as number[];
    await u.send('reset');
    expect(((await u.session())?.vars._rate as number[])[0]).toBe(rate[0]);
  });
});

describe('flows, TTL, providers', () => {
  it('switches flows, applies each flow TTL, and ends', async () => {
    let now = 1_800_000_000_000;
    const support = defineFlow({
      name: 'support',
      version: 1,
      start: 'ask',
      nodes: {
        ask: {
          prompt: (ctx) => ctx.say('what is wrong?'),
          input: (ctx) => {
            ctx.say('ticket opened');
            ctx.end();
          },
        },
      },
    });
    const promo = defineFlow({
      name: 'promo',
      version: 1,
      kind: 'marketing',
      start: 'offer',
      nodes: {
        offer: {
          prompt: (ctx) => ctx.buttons('20% off today', [{ id: 'help', title: 'I need help' }]),
          input: (ctx) => (ctx.choice === 'help' ? ctx.startFlow('support') : ctx.invalid()),
        },
      },
    });
    const forever = defineFlow({
      name: 'forever',
      version: 1,
      ttlMs: null,
      start: 'x',
      nodes: { x: () => {} },
    });
    h = await harness(defineBot({ flows: [promo, support, forever] }), { clock: () => now });
    const u = h.user('12025550180');
    expect(await u.send('hi')).toEqual(['20% off today [I need help]']);
    expect((await u.session())?.expiresAt).toBe(now + FLOW_TTL_MS.marketing);
    now += 1000;
    expect(await u.send('I NEED HELP')).toEqual(['what is wrong?']);
    expect(await u.session()).toMatchObject({
      flow: 'support',
      node: 'ask',
      expiresAt: now + FLOW_TTL_MS.support,
    });
    expect(await u.send('broken')).toEqual(['ticket opened']);
    expect(await u.session()).toMatchObject({ flow: null, node: null });
  });

  it('renders buttons as numbered text on WASender and reads a typed number as the choice', async () => {
    const flow = defineFlow({
      name: 'pick',
      version: 1,
      start: 'p',
      nodes: {
        p: {
          prompt: (ctx) =>
            ctx.buttons('Pick one', [
              { id: 'red', title: 'Red' },
              { id: 'blue', title: 'Blue' },
            ]),
          input: (ctx) => {
            if (!ctx.choice) return ctx.invalid('1 or 2, please');
            ctx.say(`picked ${ctx.choice}`);
            ctx.goto('p');
          },
        },
      },
    });
    h = await harness(defineBot({ flows: [flow] }));
    const u = h.user('12025550181', 'wasender');
    expect(await u.send('hi')).toEqual(['Pick one\n\n1. Red\n2. Blue']);
    expect(await u.send('2')).toEqual(['picked blue', 'Pick one\n\n1. Red\n2. Blue']);
    expect(await u.send('RED')).toEqual(['picked red', 'Pick one\n\n1. Red\n2. Blue']);
    expect(await u.send('green')).toEqual(['1 or 2, please', 'Pick one\n\n1. Red\n2. Blue']);
  });

  it('records reactions without running a node, and gives handlers media and location', async () => {
    const flow = defineFlow({
      name: 'm',
      version: 1,
      start: 'n',
      nodes: {
        n: (ctx) => {
          if (ctx.media) ctx.say(`got ${ctx.media.mediaType} ${ctx.media.mediaId}`);
          else if (ctx.location) ctx.say(`at ${ctx.location.lat},${ctx.location.lng}`);
        },
      },
    });
    h = await harness(defineBot({ flows: [flow] }));
    const u = h.user('12025550182');
    await u.send('hi');
    expect(
      await u.event({ kind: 'media', mediaType: 'image', mediaId: 'MID1', mimeType: 'image/jpeg' }),
    ).toEqual(['got image MID1']);
    expect(await u.event({ kind: 'location', lat: 52.5, lng: 13.4 })).toEqual(['at 52.5,13.4']);
    expect(await u.event({ kind: 'reaction', emoji: '👍', targetMessageId: 'wamid.x' })).toEqual([]);
    expect((await u.session())?.history.at(-1)).toMatchObject({ dir: 'in', text: '👍' });
  });
});
