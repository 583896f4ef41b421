import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisDriver } from '../../src/store/drivers/redis.js';
import { SessionStore } from '../../src/store/session-store.js';
import { freePort, type RedisServer, startRedis } from '../support/servers.js';

// rediss:// against a real redis-server with TLS on, certificates made by openssl for the test.
let server: RedisServer;
let tlsPort: number;
let ca: string;
const dir = mkdtempSync(join(tmpdir(), 'chatstate-redis-tls-'));

function makeCertificates(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=chatstate test CA',
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
}

beforeAll(async () => {
  makeCertificates();
  ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  tlsPort = await freePort();
  server = await startRedis({
    extraArgs: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(dir, 'server.crt'),
      '--tls-key-file',
      join(dir, 'server.key'),
      '--tls-ca-cert-file',
      join(dir, 'ca.crt'),
      '--tls-auth-clients',
      'no',
    ],
  });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('redis driver over TLS', () => {
  it('rediss:// with the CA works end to end', async () => {
    const driver = await redisDriver({ url: `rediss://127.0.0.1:${tlsPort}`, tls: { ca } });
    const store = new SessionStore(driver, {}, driver.prefix);
    await store.transition('t1', (s) => void s.set('secure', true), { claim: 'wamid.tls' });
    expect((await store.get('t1'))?.vars).toEqual({ secure: true });
    await store.close();
  });

  it('an untrusted certificate or plain redis:// on the TLS port fails to open', async () => {
    const untrusted = await redisDriver({ url: `rediss://127.0.0.1:${tlsPort}?connectTimeout=1000` }).catch(
      (e: unknown) => e,
    );
    expect(untrusted).toMatchObject({ code: 'STORE_OPEN_FAILED' });
    expect(String((untrusted as Error).message)).toMatch(/TLS handshake failed/);
    const plain = await redisDriver({ url: `redis://127.0.0.1:${tlsPort}?connectTimeout=1000` }).catch(
      (e: unknown) => e,
    );
    expect(plain).toMatchObject({ code: 'STORE_OPEN_FAILED' });
    expect(String((plain as Error).message)).toMatch(/rediss:\/\//);
  });
});
