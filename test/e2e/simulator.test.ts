import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatstateProcess, startChatstate } from '../support/chatstate-server.js';

// The demo as a person sees it: `chatstate serve` in local mode (built package, child process,
// no credentials at all), its simulator page in a real headless Chromium, and the whole lead-gen
// conversation typed and clicked through the page. Chromium comes from Debian's package; the
// pretest (scripts/ensure-servers.mjs) installs it, so this test never skips.

const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'chatstate-e2e-'));
let server: ChatstateProcess;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const foreign: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: run \`node scripts/ensure-servers.mjs\` as root (or apt-get install -y chromium).`,
    );
  server = await startChatstate({
    CHATSTATE_STORE: `sqlite:${join(dir, 'simulator.db')}`,
    CHATSTATE_BOT: 'dist/examples/lead-gen/bot.js',
    CHATSTATE_RATE_LIMIT: '0',
    // Empty is unset: local mode even if the machine running the tests has credentials exported.
    WHATSAPP_ACCESS_TOKEN: '',
    WHATSAPP_APP_SECRET: '',
    CHATSTATE_ADMIN_TOKEN: '',
  });
  // Each launch gets a fresh temporary user-data-dir from Playwright (removed on close), so no
  // profile state or cached page leaks between runs.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  // CSP violations and script errors surface here: the page must run clean with no outside asset.
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until the chat shows `count` bot bubbles containing `text` (the bot answers asynchronously). */
async function botSays(text: string, count = 1): Promise<void> {
  await page.waitForFunction(
    ([t, n]) =>
      [...document.querySelectorAll('#messages .bubble.out')].filter((b) => b.textContent?.includes(t))
        .length >= n,
    [text, count] as const,
    { timeout: 10_000 },
  );
}

/** Waits until the session panel shows `node` (it refreshes after each reply). */
async function atNode(node: string): Promise<void> {
  await page.waitForFunction((n) => document.getElementById('s-node')?.textContent === n, node, {
    timeout: 10_000,
  });
}

async function type(text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

const lastBubble = (type: string) => page.locator(`#messages .bubble.out[data-type="${type}"]`).last();

describe('the WhatsApp simulator in a real browser', () => {
  it('runs a whole lead-gen conversation through the real webhook route', async () => {
    await page.goto(`${server.url}/`);
    await expect(page.locator('.banner').textContent()).resolves.toContain('Local mode');
    await page.waitForFunction(() => document.getElementById('conn')?.textContent?.includes('live'));

    // A second simulated user, added from the page: the conversation runs as Grace.
    await page.fill('#new-number', '15550002002');
    await page.fill('#new-name', 'Grace');
    await page.click('#add-user button');
    await expect(page.locator('#chat-title').textContent()).resolves.toBe('Grace (+15550002002)');
    expect(await page.locator('#users .user').count()).toBe(2);
    await expect(page.locator('#s-state').textContent()).resolves.toContain('No session');

    await type('hi');
    await botSays('I am the Acme assistant');
    await botSays('What is your name?');
    await atNode('ask_name');
    await expect(page.locator('#s-flow').textContent()).resolves.toBe('lead');

    await type('Grace');
    await botSays('Nice to meet you, Grace! What is your email address?');
    await atNode('ask_email');

    await type('grace@example');
    await botSays('That does not look like an email address.');
    await botSays('What is your email address?', 2); // the re-prompt
    await page.waitForFunction(() => document.getElementById('s-retries')?.textContent === '1');
    await atNode('ask_email');

    await type('grace@example.com');
    await botSays('Which product are you interested in?');
    await atNode('choose');

    // The interactive list: open it, pick a row (sends interactive.list_reply).
    const list = lastBubble('list');
    await list.locator('.list-open', { hasText: 'Products' }).click();
    await list.locator('.list-row[data-id="growth"]').click();
    await botSays('In your cart: Growth plan.');
    await atNode('cart');
    expect(await page.locator('#messages .bubble.in').last().textContent()).toContain('Growth plan');

    // Reply buttons (interactive.button_reply).
    await lastBubble('buttons').locator('.reply-button[data-id="checkout"]').click();
    await botSays('Growth plan: shall we send the offer to grace@example.com?');
    await atNode('confirm');
    await lastBubble('buttons').locator('.reply-button', { hasText: 'Yes, send it' }).click();
    await botSays('Done! The offer is on its way to grace@example.com. Thank you, Grace!');
    await page.waitForFunction(() => document.getElementById('s-node')?.textContent === '-');
    const vars = JSON.parse((await page.locator('#s-vars').textContent()) ?? '{}');
    expect(vars).toMatchObject({ name: 'Grace', email: 'grace@example.com', cart: ['growth'] });

    await type('reset');
    await botSays('I am the Acme assistant', 2);
    await botSays('What is your name?', 2);
    await atNode('ask_name');
    expect(JSON.parse((await page.locator('#s-vars').textContent()) ?? '{}')).not.toHaveProperty('email');
    await expect(page.locator('#s-ttl').textContent()).resolves.toMatch(/^0h 5\dm \d\ds$/); // 1 h flow TTL

    // What the person typed, in order, as right-hand bubbles; nothing failed on the way.
    const mine = await page
      .locator('#messages .bubble.in .text, #messages .bubble.in .choice')
      .allTextContents();
    expect(mine).toEqual([
      'hi',
      'Grace',
      'grace@example',
      'grace@example.com',
      'Growth plan',
      'Checkout',
      'Yes, send it',
      'reset',
    ]);
    expect(await page.locator('#messages .bubble.failed').count()).toBe(0);

    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/simulator.png', fullPage: true });

    // Another simulated user writes meanwhile (here from outside the page): the replies stream to
    // the page too, counted as unread on Ada until her chat is opened.
    const ada = await fetch(`${server.url}/simulator/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '15550001001', name: 'Ada', text: 'hello' }),
    });
    expect(ada.status).toBe(200);
    const badge = page.locator('#users .user[data-number="15550001001"] .badge');
    await page.waitForFunction(
      () => document.querySelector('#users .user[data-number="15550001001"] .badge')?.textContent === '2',
    );
    await page.click('#users .user[data-number="15550001001"]');
    expect(await badge.count()).toBe(0);
    await botSays('What is your name?');
    await atNode('ask_name');
    expect(await page.locator('#messages .bubble.in').allTextContents()).toEqual([
      expect.stringContaining('hello'),
    ]);

    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 90_000);
});
