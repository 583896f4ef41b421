import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { makeTempDir, removeTempDir } from '../support/proc.js';
import { cli, ensureBuilt } from './support.js';

let dir: string;
let store: string;
const USER = '4915100000001';

// A real SQLite file written in this process and read by the CLI in another: what an operator does.
beforeAll(async () => {
  ensureBuilt();
  dir = await makeTempDir('cli-session');
  store = `sqlite:${join(dir, 'cs.db')}`;
  const s = await openStore(store);
  try {
    await s.transition(USER, (d) => {
      d.setFlow('signup').goto('ask_name').set('lang', 'de');
      d.remember({ dir: 'in', text: 'hallo' });
      d.send({ channel: 'cloud', from: '111', to: USER, message: { type: 'text', text: { body: 'Name?' } } });
    });
    await s.transition(USER, (d) => d.goto('ask_email'));
    const [reply] = (await s.outbox?.forUser(USER)) ?? [];
    await s.outbox?.update(reply?.id ?? '', { state: 'delivered', attempts: 1, providerId: 'wamid.X1' });
    for (let i = 0; i < 12; i++)
      await s.transition(`4477${String(i).padStart(2, '0')}`, (d) => d.goto('start'));
    await s.transition('3312345', (d) => d.goto('start'));
  } finally {
    await s.close();
  }
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('chatstate session get', () => {
  it('prints a found session readably and exits 0', async () => {
    const r = await cli(['session', 'get', USER, '--store', store]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`session ${USER}`);
    expect(r.stdout).toMatch(/flow\s+signup/);
    expect(r.stdout).toMatch(/node\s+ask_email/);
    expect(r.stdout).toMatch(/prevNode\s+ask_name/);
    expect(r.stdout).toMatch(/version\s+2/);
    expect(r.stdout).toMatch(/ttl left\s+23h 59m/);
    expect(r.stdout).toContain('lang = "de"');
    expect(r.stdout).toContain('<- "hallo"');
    expect(r.stdout).toMatch(/delivered .* cloud text "Name\?"\s+\[1 attempt\(s\), wamid\.X1\]/);
  });

  it('--json prints the session, TTL left and outbox with parsed envelopes', async () => {
    const r = await cli(['session', 'get', USER, '--store', store, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.found).toBe(true);
    expect(out.session).toMatchObject({
      id: USER,
      flow: 'signup',
      node: 'ask_email',
      vars: { lang: 'de' },
      version: 2,
    });
    expect(out.ttlMs).toBeGreaterThan(23 * 3600_000);
    expect(out.outbox).toHaveLength(1);
    expect(out.outbox[0]).toMatchObject({ state: 'delivered', providerId: 'wamid.X1', userId: USER });
    expect(out.outbox[0].envelope.message.text.body).toBe('Name?');
  });

  it('exits 1 when there is no session (stdout JSON says so with --json)', async () => {
    const r = await cli(['session', 'get', 'nobody', '--store', store]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no session for nobody');
    const j = await cli(['session', 'get', 'nobody', '--store', store, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({ found: false, id: 'nobody' });
  });

  it('reads the store from CHATSTATE_STORE when --store is absent', async () => {
    const r = await cli(['session', 'get', USER], { env: { CHATSTATE_STORE: store } });
    expect(r.code).toBe(0);
  });
});

describe('chatstate session clear', () => {
  it('deletes the session and says whether one existed', async () => {
    const first = await cli(['session', 'clear', '3312345', '--store', store]);
    expect(first).toMatchObject({ code: 0, stdout: 'cleared session 3312345\n' });
    const again = await cli(['session', 'clear', '3312345', '--store', store, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ id: '3312345', existed: false });
    expect((await cli(['session', 'get', '3312345', '--store', store])).code).toBe(1);
  });
});

describe('chatstate session list', () => {
  const ids = Array.from({ length: 12 }, (_, i) => `4477${String(i).padStart(2, '0')}`);

  it('lists every id with a prefix across many pages, with progress on stderr', async () => {
    const r = await cli(['session', 'list', '--prefix', '4477', '--page-size', '1', '--store', store]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(ids);
    // 12 pages of one id: a progress line at page 10, on stderr only.
    expect(r.stderr).toContain('chatstate: listed 10 ids (10 pages)');
  });

  it('stops at --limit and --json says more remain', async () => {
    const r = await cli([
      'session',
      'list',
      '--prefix',
      '4477',
      '--limit',
      '5',
      '--page-size',
      '2',
      '--store',
      store,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ count: 5, more: true });
    expect(out.ids).toHaveLength(5);
    expect(new Set(out.ids).size).toBe(5);
    for (const id of out.ids) expect(ids).toContain(id);
  });

  it('--json over everything parses and includes all sessions', async () => {
    const r = await cli(['session', 'list', '--store', store, '--json', '--page-size', '3']);
    const out = JSON.parse(r.stdout);
    expect(out.more).toBe(false);
    expect(out.ids).toContain(USER);
    expect(out.count).toBe(out.ids.length);
  });

  it('prints nothing on stdout when no id matches', async () => {
    const r = await cli(['session', 'list', '--prefix', '999', '--store', store]);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toContain('no sessions with prefix "999"');
  });
});

describe('errors and usage', () => {
  it('an unknown store scheme exits 2 with the schemes that exist', async () => {
    const r = await cli(['session', 'get', USER, '--store', 'mongo://localhost/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no store driver for "mongo:"');
    expect(r.stderr).toContain('sqlite:');
    expect(r.stderr).toContain('code STORE_SCHEME_UNKNOWN');
  });

  it('an unreachable Redis exits 2 with the fix, not 1 (which means "not found")', async () => {
    const r = await cli(['session', 'get', USER, '--store', 'redis://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot open Redis at redis://127.0.0.1:1');
    expect(r.stderr).toContain('STORE_OPEN_FAILED');
  });

  it('a SQLite path with no database exits 2 (and creates nothing) instead of answering "not found"', async () => {
    const missing = join(dir, 'elsewhere', 'chatstate.db');
    const r = await cli(['session', 'get', USER, '--store', `sqlite:${missing}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`there is no SQLite database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it('a missing argument or bad flag value exits 2 with the usage on stderr', async () => {
    const missing = await cli(['session', 'get', '--store', store]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('USAGE chatstate session get');
    expect(missing.stderr).toContain('Missing required positional argument: ID');
    const bad = await cli(['session', 'list', '--limit', 'lots', '--store', store]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit must be a positive integer');
    expect((await cli(['sessions'])).code).toBe(2);
  });

  it('--help documents every command and the exit codes', async () => {
    const root = await cli(['--help']);
    expect(root.code).toBe(0);
    expect(root.stdout).toContain('Exit codes: 0 ok, 1 negative answer');
    for (const cmd of [['session', 'get'], ['session', 'clear'], ['session', 'list'], ['doctor']]) {
      const r = await cli([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`USAGE chatstate ${cmd.join(' ')}`);
      expect(r.stdout).toContain('--store=<url>');
      expect(r.stdout).toMatch(/Exit 0/);
    }
  });
});
