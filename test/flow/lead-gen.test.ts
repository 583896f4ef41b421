import { afterEach, describe, expect, it } from 'vitest';
import { leadFlow } from '../../examples/lead-gen/bot.js';
import { defineBot, type HandoffEvent } from '../../src/flow/index.js';
import { harness } from './harness.js';

const GREETING = ['Hi! 👋 I am the Acme assistant. I can help you pick a plan.', 'What is your name?'];
const PRODUCTS = 'Which product are you interested in? [starter | growth | scale | setup]';
const ASK_EMAIL = 'Nice to meet you, John Doe! What is your email address?';

let h: Awaited<ReturnType<typeof harness>>;
let handoffs: HandoffEvent[];

async function start(clock?: () => number) {
  handoffs = [];
  const bot = defineBot({ flows: [leadFlow], onHandoff: (e) => void handoffs.push(e) });
  h = await harness(bot, clock ? { clock } : {});
  return h;
}

/** A user who has given their name and is asked for the email. */
async function atEmail(id = '12025550123') {
  const u = h.user(id);
  expect(await u.send('hi')).toEqual(GREETING);
  expect(await u.send('John Doe')).toEqual([ASK_EMAIL]);
  return u;
}

afterEach(async () => {
  await h?.close();
});

describe('lead-gen bot, driven through the real dispatcher, store and outbox', () => {
  it('runs a whole conversation: greeting, name, email, products, cart, confirmation', async () => {
    await start();
    const u = await atEmail();
    expect(await u.send('John@Example.com')).toEqual([PRODUCTS]);
    expect(await u.pick('growth', 'Growth plan')).toEqual([
      'In your cart: Growth plan. [Add more | Checkout]',
    ]);
    expect(await u.tap('more', 'Add more')).toEqual([PRODUCTS]);
    // Typed instead of tapped: the row's number (or title) picks it.
    expect(await u.send('4')).toEqual(['In your cart: Growth plan, Setup session. [Add more | Checkout]']);
    expect(await u.send('checkout')).toEqual([
      'Growth plan, Setup session: shall we send the offer to john@example.com? [Yes, send it | Start over]',
    ]);
    expect(await u.tap('yes')).toEqual([
      'Done! The offer is on its way to john@example.com. Thank you, John Doe!',
    ]);
    const done = await u.session();
    expect(done).toMatchObject({ flow: null, node: null, retries: 0 });
    expect(done?.vars).toMatchObject({
      name: 'John Doe',
      email: 'john@example.com',
      cart: ['growth', 'setup'],
    });
    // The recent-messages history holds both directions (the store keeps the last 5).
    expect(done?.history.map((e) => `${e.dir}: ${e.text}`)).toEqual([
      'out: In your cart: Growth plan, Setup session.',
      'in: checkout',
      'out: Growth plan, Setup session: shall we send the offer to john@example.com?',
      'in: yes',
      'out: Done! The offer is on its way to john@example.com. Thank you, John Doe!',
    ]);
    // The flow ended: the next message starts over.
    expect(await u.send('hello again')).toEqual(GREETING);
  });

  it('re-prompts an invalid email, counts the retry, and resets it once the answer is good', async () => {
    await start();
    const u = await atEmail();
    expect(await u.send('john at example')).toEqual(['That does not look like an email address.', ASK_EMAIL]);
    expect(await u.session()).toMatchObject({ node: 'ask_email', retries: 1 });
    expect(await u.send('john@example.com')).toEqual([PRODUCTS]);
    expect(await u.session()).toMatchObject({ node: 'choose', retries: 0, prevNode: 'ask_email' });
  });

  it('hands off to a human after three invalid emails, then stays quiet until reset', async () => {
    await start();
    const u = await atEmail();
    await u.send('nope');
    await u.send('still nope');
    expect(await u.send('john@')).toEqual([
      'Let me get a colleague to help you. They will answer here shortly.',
    ]);
    expect(handoffs).toHaveLength(1);
    expect(handoffs[0]).toMatchObject({
      userId: '12025550123',
      reason: 'email not understood 3 times',
      flow: 'lead',
      node: 'human',
      vars: { name: 'John Doe' },
    });
    const session = await u.session();
    expect(session).toMatchObject({ node: 'human', retries: 0 });
    expect(session?.vars._handoff).toMatchObject({ reason: 'email not understood 3 times', node: 'human' });
    // A human has the conversation now: messages are recorded, the bot says nothing.
    expect(await u.send('hello? anyone?')).toEqual([]);
    expect((await u.session())?.history.at(-1)).toMatchObject({ dir: 'in', text: 'hello? anyone?' });
    expect(await u.send('reset')).toEqual(GREETING);
    expect((await u.session())?.vars._handoff).toBeUndefined();
    expect(handoffs).toHaveLength(1);
  });

  it('reset mid-flow clears the session and starts over', async () => {
    await start();
    const u = await atEmail();
    expect(await u.send('RESET')).toEqual(GREETING);
    const session = await u.session();
    expect(session).toMatchObject({ flow: 'lead', node: 'ask_name', retries: 0 });
    expect(session?.vars.name).toBeUndefined();
  });

  it('menu goes back to the start keeping what the user said; stop says goodbye and clears', async () => {
    await start();
    const u = await atEmail();
    await u.send('john@example.com');
    await u.pick('scale');
    expect(await u.send('  Menu ')).toEqual(GREETING);
    expect((await u.session())?.vars).toMatchObject({ name: 'John Doe', cart: ['scale'] });
    expect(await u.send('/STOP')).toEqual(['Goodbye! Send any message to start again.']);
    const stopped = await u.session();
    expect(stopped).toMatchObject({ flow: null, node: null });
    expect(Object.keys(stopped?.vars ?? {}).filter((k) => !k.startsWith('_'))).toEqual([]);
    expect(await u.send('hi')).toEqual(GREETING);
  });

  it('greets a returning user whose session expired and resumes at the cart', async () => {
    let now = Date.now();
    await start(() => now);
    const u = await atEmail();
    await u.send('john@example.com');
    await u.pick('starter');
    // The lead flow is a marketing flow: its sessions live one hour.
    expect((await u.session())?.expiresAt).toBe(now + 3_600_000);
    now += 3_600_001;
    expect(await u.session()).toBeNull();
    expect(await u.send('hi')).toEqual([
      'Welcome back, John Doe! Last time we were at your cart.',
      'In your cart: Starter plan. [Add more | Checkout]',
    ]);
    expect(await u.tap('checkout')).toEqual([
      'Starter plan: shall we send the offer to john@example.com? [Yes, send it | Start over]',
    ]);
  });

  it('an expired stranger (nothing worth resuming) just starts over', async () => {
    let now = Date.now();
    await start(() => now);
    const u = h.user('12025550199');
    await u.send('hi');
    now += 3_600_001;
    expect(await u.send('hi again')).toEqual(GREETING);
  });
});
