// What the numbers were measured on; stored with every result so runs can be compared honestly.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { programVersion } from './servers.mjs';

// Read from node_modules directly: some packages do not export their package.json.
const version = (pkg) => {
  try {
    return JSON.parse(
      readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8'),
    ).version;
  } catch {
    return null;
  }
};

const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The mount (device, type) holding `dir`: fsync cost depends on it more than on the CPU. */
function filesystemOf(dir) {
  const target = resolve(dir);
  let best = null;
  for (const line of read('/proc/mounts').split('\n')) {
    const [device, mount, type] = line.split(' ');
    if (!mount || !(target === mount || target.startsWith(mount === '/' ? '/' : `${mount}/`))) continue;
    if (!best || mount.length > best.mount.length) best = { device, mount, type };
  }
  return best;
}

export function machineInfo(tmpdir) {
  const distro = /PRETTY_NAME="?([^"\n]+)"?/.exec(read('/etc/os-release'))?.[1] ?? null;
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version() AS v').get().v;
  db.close();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}${distro ? ` (${distro})` : ''}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    sqlite,
    packages: Object.fromEntries(
      [
        'better-sqlite3',
        'msgpackr',
        'keyv',
        '@keyv/sqlite',
        'sqlite3',
        'ioredis',
        '@keyv/redis',
        '@redis/client',
        'memcache-client',
        '@keyv/memcache',
        'memjs',
      ].map((p) => [p, version(p)]),
    ),
    servers: { redis: programVersion('redis-server'), memcached: programVersion('memcached') },
    tmpdir,
    tmpFilesystem: filesystemOf(tmpdir),
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The commit measured, and whether src/ had uncommitted changes (a shared checkout may). */
export function sourceInfo() {
  const git = (...a) => {
    try {
      return execFileSync('git', a, {
        cwd: new URL('../..', import.meta.url),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return null;
    }
  };
  const changed = git('status', '--porcelain', '--', 'src');
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    srcChanges: changed === null ? null : changed.split('\n').filter(Boolean).length,
  };
}
