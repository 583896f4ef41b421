import { defineCommand } from 'citty';
import { ChatstateError } from '../errors.js';
import { openStore, redact } from '../store/open.js';
import type { SessionStore } from '../store/session-store.js';
import { type Check, envChecks } from './doctor-env.js';
import { EXIT, finish, missingSqliteFile, storeArg, storeUrl } from './shared.js';

const SYMBOL: Record<Check['status'], string> = { ok: '✔', warn: '!', fail: '✖' };

export const doctorCommand = defineCommand({
  meta: {
    name: 'doctor',
    description:
      'Check the store and the environment (secrets present, token format, API version). Exit 0 ok, 1 a required check failed.',
  },
  args: { store: storeArg },
  async run({ args }) {
    const url = storeUrl(args.store);
    // The flag overrides CHATSTATE_STORE for the config check too, as it does for `serve`.
    const env = { ...process.env, CHATSTATE_STORE: url };
    const checks = [...(await storeChecks(url)), ...envChecks(env)];
    for (const c of checks) console.log(`${SYMBOL[c.status]} ${c.text}`);
    const failed = checks.filter((c) => c.status === 'fail').length;
    const warned = checks.filter((c) => c.status === 'warn').length;
    console.log(
      failed
        ? `\n${failed} required check(s) failed, ${warned} warning(s).`
        : `\nall required checks passed, ${warned} warning(s).`,
    );
    return finish(failed ? EXIT.no : EXIT.ok);
  },
});

/** A store that cannot be opened is a failed check, not a crash: the environment checks still run. */
async function storeChecks(url: string): Promise<Check[]> {
  const where = redact(url);
  const file = missingSqliteFile(url);
  if (file) {
    // Not opened: opening would create the file, and doctor should leave no trace.
    return [
      {
        status: 'warn',
        text: `store ${where}: there is no SQLite database at ${file} yet; \`chatstate serve\` creates it (check the path if you expected data there)`,
      },
    ];
  }
  let store: SessionStore;
  try {
    store = await openStore(url, { sweepIntervalMs: 0 });
  } catch (error) {
    return [{ status: 'fail', text: `store ${where}: ${messageOf(error)}` }];
  }
  try {
    const started = performance.now();
    try {
      await store.ping();
    } catch (error) {
      return [
        {
          status: 'fail',
          text: `store ${where} (${store.driver.name}) opened but ping failed: ${messageOf(error)}`,
        },
      ];
    }
    const ms = (performance.now() - started).toFixed(1);
    return [
      { status: 'ok', text: `store ${where} is reachable (${store.driver.name}, ping ${ms} ms)` },
      { status: 'ok', text: `capabilities: ${capabilities(store)}` },
      ...warnings(store),
    ];
  } finally {
    await store.close().catch(() => {});
  }
}

function capabilities(store: SessionStore): string {
  const c = store.capabilities;
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  return [
    `model ${c.model}`,
    `TTL ${c.nativeTtl ? 'native' : 'by sweep'}`,
    `list ${yes(c.scan)}`,
    `change events ${yes(c.changeEvents)}`,
    `persistent ${yes(c.persistent)}`,
    `evicts ${yes(c.evicts)}`,
    `inbox ${yes(store.inbox !== null)}`,
    `outbox ${yes(store.outbox !== null)}`,
  ].join(', ');
}

/**
 * Drivers that inspect their server (Redis, Memcached) expose `warnings`; for the others the
 * risky capabilities are spelled out here so doctor never stays silent about them.
 */
function warnings(store: SessionStore): Check[] {
  const own = (store.driver as { warnings?: unknown }).warnings;
  if (Array.isArray(own)) {
    // Memcached's warnings already name their component ("[chatstate] [memcached] ..."), Redis's do not.
    return own.map((w) => ({
      status: 'warn',
      text: /^\[chatstate\]/.test(String(w)) ? String(w) : `${store.driver.name}: ${String(w)}`,
    }));
  }
  const c = store.capabilities;
  const out: Check[] = [];
  if (!c.persistent)
    out.push({ status: 'warn', text: 'the store is not persistent: a restart loses every session' });
  if (c.evicts) out.push({ status: 'warn', text: 'the store may evict live sessions under memory pressure' });
  return out;
}

function messageOf(error: unknown): string {
  if (error instanceof ChatstateError) return `${error.message} (code ${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
