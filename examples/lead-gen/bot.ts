/**
 * The lead-generation bot: greeting -> name -> email (validated; a human takes over after three
 * failed tries) -> product (interactive list) -> cart (add more or check out) -> confirmation.
 * `reset`, `menu` and `stop` work at any time (the engine's default commands).
 */
import { defineBot, defineFlow } from 'chatstate/flow';
import { PRODUCTS, productNames } from './products.js';

/** The session variables of this flow: handlers get them typed (ctx.vars.email is a string). */
export type Lead = { name: string; email: string; cart: string[] };

// Deliberately loose: the point is catching typos like "john@gmail", not RFC 5322.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;

export const leadFlow = defineFlow<Lead>()({
  name: 'lead',
  version: 1,
  kind: 'marketing', // sessions live 1 h after the last message
  start: 'greet',
  nodes: {
    greet: {
      prompt: (ctx) => {
        ctx.say('Hi! 👋 I am the Acme assistant. I can help you pick a plan.');
        ctx.goto('ask_name');
      },
    },
    ask_name: {
      prompt: (ctx) => ctx.say('What is your name?'),
      input: (ctx) => {
        if (!ctx.text) return ctx.invalid('Please type your name.');
        ctx.set('name', ctx.text);
        ctx.goto('ask_email');
      },
    },
    ask_email: {
      prompt: (ctx) => ctx.say(`Nice to meet you, ${ctx.vars.name}! What is your email address?`),
      input: (ctx) => {
        const email = ctx.text?.toLowerCase();
        if (!email || !EMAIL.test(email)) return ctx.invalid('That does not look like an email address.');
        ctx.set('email', email);
        ctx.goto('choose');
      },
      fallback: 'human', // after 3 invalid answers (the default maxRetries)
    },
    choose: {
      prompt: (ctx) => ctx.list('Which product are you interested in?', 'Products', PRODUCTS),
      input: (ctx) => {
        const product = PRODUCTS.find((p) => p.id === ctx.choice);
        if (!product) return ctx.invalid('Please pick a product from the list.');
        ctx.set('cart', [...(ctx.vars.cart ?? []), product.id]);
        ctx.goto('cart');
      },
    },
    cart: {
      prompt: (ctx) =>
        ctx.buttons(`In your cart: ${productNames(ctx.vars.cart)}.`, [
          { id: 'more', title: 'Add more' },
          { id: 'checkout', title: 'Checkout' },
        ]),
      input: (ctx) => {
        if (ctx.choice === 'more') return ctx.goto('choose');
        if (ctx.choice === 'checkout') return ctx.goto('confirm');
        ctx.invalid();
      },
    },
    confirm: {
      prompt: (ctx) =>
        ctx.buttons(`${productNames(ctx.vars.cart)}: shall we send the offer to ${ctx.vars.email}?`, [
          { id: 'yes', title: 'Yes, send it' },
          { id: 'no', title: 'Start over' },
        ]),
      input: (ctx) => {
        if (ctx.choice === 'no') {
          ctx.set('cart', []);
          return ctx.goto('choose');
        }
        if (ctx.choice !== 'yes') return ctx.invalid();
        ctx.say(`Done! The offer is on its way to ${ctx.vars.email}. Thank you, ${ctx.vars.name}!`);
        ctx.end();
      },
    },
    human: {
      prompt: (ctx) => {
        ctx.say('Let me get a colleague to help you. They will answer here shortly.');
        ctx.handoff('email not understood 3 times');
      },
    },
  },
  // A returning user whose session expired: greet them and resume instead of starting over.
  onExpire: (ctx, last) => {
    const { name, email, cart } = last.vars;
    if (!name) return; // nothing worth resuming: the bot starts over
    ctx.set('name', name);
    if (!email) {
      ctx.say(`Welcome back, ${name}!`);
      return ctx.goto('ask_email');
    }
    ctx.set('email', email);
    if (!cart?.length) {
      ctx.say(`Welcome back, ${name}!`);
      return ctx.goto('choose');
    }
    ctx.set('cart', cart);
    ctx.say(`Welcome back, ${name}! Last time we were at your cart.`);
    ctx.goto('cart');
  },
});

export default defineBot({
  flows: [leadFlow],
  onHandoff: ({ userId, reason }) =>
    console.log(`handoff: user ${userId.slice(-4)} needs a human (${reason})`),
});
