import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'chatstate-sqlite-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite store across processes', () => {
  it('three processes and this one share one file without losing an update', async () => {
    const path = join(dir, 'shared.db');
    const store = await openStore(`sqlite:${path}`);
    const worker = new URL('../fixtures/sqlite-worker.mjs', import.meta.url).pathname;
    const children = [1, 2, 3].map(() => run(process.execPath, [worker, path, '150', 'shared']));
    const local = (async () => {
      for (let i = 0; i < 150; i++) await store.transition('shared', (s) => void s.incr('retries'));
    })();
    await Promise.all([...children, local]);
    const session = await store.get('shared');
    expect(session?.retries).toBe(600);
    expect(session?.version).toBe(600);
    await store.close();
  }, 60_000);

  it('four processes offering the same 150 messages apply each once (claims in the row and the table)', async () => {
    const path = join(dir, 'claims.db');
    const store = await openStore(`sqlite:${path}`);
    const worker = new URL('../fixtures/sqlite-worker.mjs', import.meta.url).pathname;
    const children = [1, 2, 3].map(() => run(process.execPath, [worker, path, '150', 'dedupe', 'claims']));
    let committed = 0;
    const local = (async () => {
      for (let i = 0; i < 150; i++) {
        const result = await store.transition('dedupe', (s) => void s.incr('retries'), { claim: `m${i}` });
        if (result.status === 'committed') committed++;
      }
    })();
    const [outputs] = await Promise.all([Promise.all(children), local]);
    for (const { stdout } of outputs) committed += (JSON.parse(stdout) as { committed: number }).committed;
    // 600 offers of 150 messages: 150 commits in all, whichever process made each.
    expect(committed).toBe(150);
    expect((await store.get('dedupe'))?.retries).toBe(150);
    for (const i of [0, 75, 149])
      expect((await store.transition('dedupe', () => 'again', { claim: `m${i}` })).status).toBe('duplicate');
    await store.close();
  }, 60_000);

  it('creates the directory of the default-style relative path', async () => {
    const path = join(dir, 'nested', 'deeper', 'x.db');
    const store = await openStore(`sqlite:${path}`);
    await store.transition('1', (s) => void s.set('a', 1));
    await store.close();
    expect(existsSync(path)).toBe(true);
  });

  it('an unwritable path fails with STORE_OPEN_FAILED and says what to check', async () => {
    const locked = join(dir, 'locked');
    await openStore(`sqlite:${join(locked, 'ok.db')}`).then((s) => s.close());
    chmodSync(locked, 0o500);
    try {
      // root ignores directory permissions, so also try a path under a regular file, which fails for everyone.
      await expect(
        openStore(`sqlite:${join(dir, 'nested', 'deeper', 'x.db', 'sub', 'y.db')}`),
      ).rejects.toMatchObject({
        code: 'STORE_OPEN_FAILED',
        message: expect.stringContaining('writable'),
      });
    } finally {
      chmodSync(locked, 0o700);
    }
  });

  it('a sweep removes expired sessions, claims and leases', async () => {
    let now = 1_000_000;
    const store = await openStore(`sqlite:${join(dir, 'sweep.db')}`, {
      clock: () => now,
      ttlMs: 1000,
      claimTtlMs: 1000,
      sweepIntervalMs: 0,
    });
    for (let i = 0; i < 20; i++)
      await store.transition(`u${i}`, (s) => void s.set('i', i), { claim: `m${i}` });
    expect(await store.claim('standalone', 1000)).toBe(true);
    expect(await store.claim('standalone', 1000)).toBe(false);
    const again = () => store.transition('u3', (s) => void s.set('again', true), { claim: 'm3' });
    expect((await again()).status).toBe('duplicate');
    now += 2000;
    expect(await store.sweep()).toBe(20);
    expect((await store.list()).ids).toEqual([]);
    expect(await store.claim('standalone', 1000)).toBe(true);
    expect((await again()).status).toBe('committed');
    await store.close();
    const db = new Database(join(dir, 'sweep.db'), { readonly: true });
    const count = (table: string) =>
      (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    // Only what came after the sweep: the standalone claim and u3's new session holding its claim.
    expect([count('cs_claim_ids'), count('cs_user_claims'), count('cs_sessions')]).toEqual([1, 0, 1]);
    db.close();
  });
});

describe('store URLs', () => {
  it('unknown schemes and unparsable URLs fail with stable codes', async () => {
    await expect(openStore('mongodb://x')).rejects.toMatchObject({
      code: 'STORE_SCHEME_UNKNOWN',
      message: expect.stringContaining('sqlite:'),
    });
    await expect(openStore('not a url')).rejects.toMatchObject({ code: 'STORE_URL_INVALID' });
    await expect(openStore('memory:?max=-1')).rejects.toMatchObject({ code: 'STORE_URL_INVALID' });
    await expect(openStore('sqlite::memory:?checkpoint=sometimes')).rejects.toMatchObject({
      code: 'STORE_URL_INVALID',
      message: expect.stringContaining('checkpoint=inline'),
    });
    await expect(openStore('sqlite::memory:?checkpointIntervalMs=0')).rejects.toMatchObject({
      code: 'STORE_URL_INVALID',
    });
    await expect(openStore('sqlite::memory:?mmap=-1')).rejects.toMatchObject({ code: 'STORE_URL_INVALID' });
  });

  it('memory: and sqlite::memory: open working stores', async () => {
    for (const url of [
      'memory:',
      'memory:?max=10',
      'sqlite::memory:',
      'sqlite::memory:?checkpoint=inline',
      'sqlite::memory:?checkpoint=background&checkpointIntervalMs=50',
      'sqlite::memory:?mmap=0',
    ]) {
      const store = await openStore(url);
      await store.transition('1', (s) => void s.set('a', 1));
      expect((await store.get('1'))?.vars).toEqual({ a: 1 });
      await store.close();
    }
  });
});
