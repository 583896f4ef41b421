import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { makeTempDir, removeTempDir } from '../support/proc.js';
import { cli, ensureBuilt } from './support.js';

let dir: string;
let store: string;

const APP_SECRET = '0123456789abcdef0123456789abcdef';
const VERIFY_TOKEN = 'verify-me-please';
const TOKEN = `EAAG${'x7Z'.repeat(60)}`;
const cloud = {
  WHATSAPP_APP_SECRET: APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
  WHATSAPP_ACCESS_TOKEN: TOKEN,
};

beforeAll(async () => {
  ensureBuilt();
  dir = await makeTempDir('cli-doctor');
  store = `sqlite:${join(dir, 'cs.db')}`;
  await (await openStore(store)).close();
});

afterAll(async () => {
  await removeTempDir(dir);
});

const lines = (out: string) => out.split('\n').filter((l) => /^[✔✖!] /.test(l));

describe('chatstate doctor', () => {
  it('passes with a reachable store and the Cloud API secrets, never printing their values', async () => {
    const r = await cli(['doctor', '--store', store], { env: cloud });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✔ store sqlite:.* is reachable \(sqlite, ping [\d.]+ ms\)$/m);
    expect(r.stdout).toContain(
      '✔ capabilities: model blob, TTL by sweep, list yes, change events no, persistent yes, evicts no, inbox yes, outbox yes',
    );
    expect(r.stdout).toContain('✔ WHATSAPP_APP_SECRET is set');
    expect(r.stdout).toContain('✔ WHATSAPP_VERIFY_TOKEN is set');
    expect(r.stdout).toContain('✔ WHATSAPP_ACCESS_TOKEN looks like a Meta access token');
    expect(r.stdout).toContain('✔ WHATSAPP_API_URL is not set: Graph API v26.0 (the pinned default)');
    expect(r.stdout).toContain('all required checks passed');
    for (const value of Object.values(cloud)) expect(r.stdout + r.stderr).not.toContain(value);
  });

  it('fails (exit 1) without any webhook secret, and still checks the store', async () => {
    const r = await cli(['doctor', '--store', store]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✔ store sqlite:/m);
    expect(r.stdout).toContain('✖ webhooks: no channel is configured');
    expect(r.stdout).toContain('! WHATSAPP_APP_SECRET is not set');
    expect(r.stdout).toMatch(/required check\(s\) failed/);
  });

  it('fails when a channel in use misses one of its secrets', async () => {
    const r = await cli(['doctor', '--store', store], { env: { WHATSAPP_APP_SECRET: APP_SECRET } });
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toContain(
      '✖ WHATSAPP_VERIFY_TOKEN is not set: the subscription handshake GET /webhooks/whatsapp answers 403',
    );
    expect(r.stdout).not.toContain('no channel is configured');
  });

  it('passes on WASenderApi alone, with a note for the unused Cloud API', async () => {
    const r = await cli(['doctor', '--store', store], {
      env: { WASENDER_WEBHOOK_SECRET: 'wh-secret', WASENDER_API_KEY: 'key' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✔ WASENDER_WEBHOOK_SECRET is set');
    expect(r.stdout).toContain('! WHATSAPP_APP_SECRET is not set');
  });

  it('says when a token or API URL does not look right, without failing', async () => {
    const short = await cli(['doctor', '--store', store], {
      env: { ...cloud, WHATSAPP_ACCESS_TOKEN: 'abc123', WHATSAPP_API_URL: 'https://graph.facebook.com' },
    });
    expect(short.code).toBe(0);
    expect(short.stdout).toContain('! WHATSAPP_ACCESS_TOKEN does not look like a Meta access token');
    expect(short.stdout).toContain('6 characters here');
    expect(short.stdout).toContain('pins no Graph API version');
    expect(short.stdout).not.toContain('abc123');

    const bearer = await cli(['doctor', '--store', store], {
      env: {
        ...cloud,
        WHATSAPP_ACCESS_TOKEN: `Bearer ${TOKEN}`,
        WHATSAPP_API_URL: 'https://graph.facebook.com/v23.0/',
      },
    });
    expect(bearer.stdout).toContain('! WHATSAPP_ACCESS_TOKEN starts with "Bearer "');
    expect(bearer.stdout).toContain(
      '! WHATSAPP_API_URL pins Graph API v23.0; chatstate is tested against v26.0',
    );

    const odd = await cli(['doctor', '--store', store], {
      env: { ...cloud, WHATSAPP_APP_SECRET: 'not-hex' },
    });
    expect(odd.stdout).toContain('! WHATSAPP_APP_SECRET is set, but does not look like a Meta app secret');
  });

  it('fails on an invalid configuration value', async () => {
    const r = await cli(['doctor', '--store', store], { env: { ...cloud, WHATSAPP_API_URL: 'graph' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✖ configuration: [chatstate] [config] environment variable WHATSAPP_API_URL is invalid',
    );
    expect(r.stdout).toContain('✖ WHATSAPP_API_URL is not a URL');
  });

  it('reports an unreachable Redis as a failed check with the fix, and exits 1 quickly', async () => {
    const started = Date.now();
    const r = await cli(['doctor', '--store', 'redis://127.0.0.1:1'], { env: cloud });
    expect(r.code).toBe(1);
    expect(lines(r.stdout)[0]).toMatch(
      /^✖ store redis:\/\/127\.0\.0\.1:1: .*cannot open Redis at redis:\/\/127\.0\.0\.1:1 .*check that redis-server is running.*STORE_OPEN_FAILED/,
    );
    // The environment is still checked.
    expect(r.stdout).toContain('✔ WHATSAPP_APP_SECRET is set');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('hides a password in the store URL and fails on an unknown scheme', async () => {
    const r = await cli(['doctor', '--store', 'mongo://admin:hunter2@db/x'], { env: cloud });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ store mongo://admin:***@db/x: ');
    expect(r.stdout).toContain('STORE_SCHEME_UNKNOWN');
    expect(r.stdout).not.toContain('hunter2');
  });

  it('warns about a SQLite file that does not exist yet, without creating it', async () => {
    const missing = join(dir, 'new', 'cs.db');
    const r = await cli(['doctor', '--store', `sqlite:${missing}`], { env: cloud });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`there is no SQLite database at ${missing} yet`);
    expect(existsSync(missing)).toBe(false);
  });

  it('lists the memory store as not persistent', async () => {
    const r = await cli(['doctor', '--store', 'memory:'], { env: cloud });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('! the store is not persistent');
  });
});
