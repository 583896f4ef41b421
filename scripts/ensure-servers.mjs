#!/usr/bin/env node
// Pretest step: make sure the real server programs used by the integration tests are on PATH.
// On Debian/Ubuntu as root it installs the missing ones with apt-get; otherwise it fails with the command to run.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Programs the test suite needs (servers and a browser), with the Debian package that provides each. */
const REQUIRED = [
  { bin: 'redis-server', pkg: 'redis-server' },
  { bin: 'redis-cli', pkg: 'redis-tools' },
  { bin: 'memcached', pkg: 'memcached' },
  // Debian's browser for the simulator's end-to-end test (test/e2e), driven by playwright-core.
  { bin: 'chromium', pkg: 'chromium' },
];

function onPath(bin) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function isDebianLike() {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const ids = [];
    for (const line of text.split('\n')) {
      const m = /^(ID|ID_LIKE)=(.*)$/.exec(line.trim());
      if (m?.[2]) ids.push(...m[2].replace(/["']/g, '').split(/\s+/));
    }
    return ids.some((id) => id === 'debian' || id === 'ubuntu');
  } catch {
    return false;
  }
}

function run(cmd, args, env) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (res.error) throw new Error(`ensure-servers: failed to run ${cmd}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`ensure-servers: '${cmd} ${args.join(' ')}' exited with ${res.status ?? res.signal}`);
  }
}

const missing = REQUIRED.filter((r) => !onPath(r.bin));
if (missing.length === 0) {
  console.log(`ensure-servers: ok (${REQUIRED.map((r) => r.bin).join(', ')} found)`);
  process.exit(0);
}

const pkgs = [...new Set(missing.map((r) => r.pkg))];
const bins = missing.map((r) => r.bin).join(', ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

if (!isRoot || !isDebianLike()) {
  console.error(
    `ensure-servers: missing ${bins}. Install with:\n  sudo apt-get install -y ${pkgs.join(' ')}\n` +
      '(or the equivalent for your OS), then re-run the tests.',
  );
  process.exit(1);
}

try {
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], {
    DEBIAN_FRONTEND: 'noninteractive',
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}

const still = REQUIRED.filter((r) => !onPath(r.bin));
if (still.length > 0) {
  console.error(`ensure-servers: still missing after apt-get install: ${still.map((r) => r.bin).join(', ')}`);
  process.exit(1);
}
console.log(`ensure-servers: installed ${pkgs.join(' ')} via apt-get (provides ${bins})`);
