import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/store/drivers/redis-url.js';
import { LUA_SCRIPTS } from '../../src/store/lua/generated/scripts.js';

// No server needed: the generated Lua module and URL parsing.
describe('redis Lua scripts module', () => {
  it('is generated from the .lua sources (npm run build regenerates it)', () => {
    expect(() =>
      execFileSync(process.execPath, ['scripts/gen-lua.mjs', '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const files = readdirSync('src/store/lua').filter((f) => f.endsWith('.lua'));
    expect(Object.keys(LUA_SCRIPTS).sort()).toEqual(files.map((f) => f.replace(/\.lua$/, '')).sort());
    for (const [id, script] of Object.entries(LUA_SCRIPTS)) {
      const body = readFileSync(`src/store/lua/${id}.lua`, 'utf8');
      expect(script.name).toBe(`chatstate@${version}:${id}`);
      expect(script.source).toBe(`-- ${script.name}\n${body}`);
      expect(script.sha1).toBe(createHash('sha1').update(script.source).digest('hex'));
      expect(body).toMatch(/^(--.*\n)*-- KEYS\[1\]/);
    }
  });
});

describe('redis URLs', () => {
  it('parses single, TLS and cluster URLs', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/3')).toMatchObject({
      cluster: false,
      tls: false,
      db: 3,
      nodes: [{ host: '127.0.0.1', port: 6380 }],
    });
    expect(parseRedisUrl('rediss://u%40x:p%3Ass@cache.example.com')).toMatchObject({
      tls: true,
      username: 'u@x',
      password: 'p:ss',
      nodes: [{ host: 'cache.example.com', port: 6379 }],
    });
    const cluster = parseRedisUrl(
      'redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002?prefix=bot:&timeout=500',
    );
    expect(cluster).toMatchObject({ cluster: true, password: 'pw', username: undefined });
    expect(cluster.nodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(cluster.params.get('prefix')).toBe('bot:');
  });
});
