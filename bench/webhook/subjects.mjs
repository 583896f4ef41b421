// The three servers of the webhook benchmark, each started as a child process on a free
// 127.0.0.1 port and stopped (SIGTERM, then wait) after its round.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));

export const SUBJECTS = [
  {
    name: 'bare',
    label: 'bare node:http (HMAC + JSON.parse)',
    what: 'bench/webhook/bare-server.mjs: read body, HMAC-SHA256 constant-time check, JSON.parse, 200',
  },
  {
    name: 'hono',
    label: 'Hono on @hono/node-server (HMAC + JSON.parse)',
    what: 'bench/webhook/hono-server.mjs: the same work as a one-route Hono app on the Node adapter, no store',
  },
  {
    name: 'chatstate',
    label: 'chatstate serve, sqlite:<tmp file>',
    chatstate: true,
    what: 'node dist/cli/main.js serve: size check, HMAC, parse every event, inbox INSERT in one SQLite transaction, then 200; drains run the rememberBot transition after the ack in the same process',
  },
  {
    name: 'ingest',
    label: 'chatstate serve --role ingest, sqlite:<tmp file>',
    chatstate: true,
    role: 'ingest',
    what: 'node dist/cli/main.js serve --role ingest: the same acknowledgement path as the chatstate row (size check, HMAC, parse every event, inbox INSERT with group commit, then 200) with nothing processing in this process; after the window a `serve --role worker` on the same file processes the whole inbox (catch-up reported)',
  },
  {
    name: 'ackpath',
    label: 'diagnostic: chatstate ack path only, no drains',
    what: "bench/webhook/ack-path-server.mjs: node:http + chatstate's own verify, decode, parseCloudApiPayload and inbox write (1 SQLite transaction per delivery); nothing processes the inbox",
    diagnostic: true,
  },
  {
    name: 'ackpath-batch',
    label: 'diagnostic: ack path only, group commit',
    what: 'the same with one inbox transaction per event-loop turn for all deliveries read in it (each answered after its commit)',
    diagnostic: true,
  },
];

export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Other chatstate builds to compare with (before/after a change), from `--baseline name=DIST_DIR`
 * (comma-separated for several): each runs exactly like the chatstate row.
 */
export function baselineSubjects(spec) {
  return spec.split(',').map((part, i) => {
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq) : i === 0 ? 'baseline' : `baseline${i + 1}`;
    const distDir = resolve(eq > 0 ? part.slice(eq + 1) : part);
    return {
      name,
      label: `chatstate serve, sqlite:<tmp file>, build "${name}"`,
      what: `node ${distDir}/cli/main.js serve: another build of chatstate, same settings as the chatstate row`,
      distDir,
      chatstate: true,
    };
  });
}

/**
 * Starts one subject. `dbFile` is the SQLite file for chatstate; `cpuProfDir` adds --cpu-prof to
 * the child (the profile is written when it exits). `extraArgs` and `env` are added to the child's
 * command line and environment (bench/run-e2e.mjs: `--bot`, the Graph API sink's URL and token).
 */
export async function startSubject(
  name,
  { secret, dbFile, cpuProfDir, distDir, role, extraArgs = [], env = {} },
) {
  const isChatstate = name === 'chatstate' || role !== undefined || distDir !== undefined;
  const port = await freePort();
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const script = name.startsWith('ackpath') ? 'ack-path-server' : `${name}-server`;
  const extra = name.startsWith('ackpath')
    ? ['--store', `sqlite:${dbFile}`, ...(name === 'ackpath-batch' ? ['--batch'] : [])]
    : [];
  const args = isChatstate
    ? [
        distDir ? `${distDir}/cli/main.js` : 'dist/cli/main.js',
        'serve',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--store',
        `sqlite:${dbFile}`,
        ...(role ? ['--role', role] : []),
        ...extraArgs,
      ]
    : [`${HERE}${script}.mjs`, '--port', String(port), '--host', '127.0.0.1', ...extra];
  const child = spawn(process.execPath, [...prof, ...args], {
    cwd: ROOT,
    // A complete production configuration, so the only warn-level output is real trouble.
    env: {
      ...process.env,
      WHATSAPP_APP_SECRET: secret,
      WHATSAPP_VERIFY_TOKEN: 'bench-verify-token',
      WASENDER_WEBHOOK_SECRET: 'bench-wasender-secret',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited early (${child.exitCode}):\n${output}`);
    try {
      // bare and hono answer 404 on GET /healthz: any answer means listening.
      await fetch(`${url}/healthz`);
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not listen within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    url,
    port,
    pid: child.pid,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
