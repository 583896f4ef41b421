// One measured window against a running subject: autocannon (programmatic API) from this process,
// every request a distinct pre-signed message from the pool, plus the server's CPU time from
// /proc (Linux) and, for chatstate, its own counters and inbox backlog.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';

/** Runs autocannon for `duration` s; `cursor.next` is shared so no two requests repeat a message. */
export async function load(url, pool, cursor, { duration, connections, pipelining }) {
  const result = await autocannon({
    url: `${url}/webhooks/whatsapp`,
    connections,
    pipelining,
    duration,
    method: 'POST',
    requests: [
      {
        method: 'POST',
        path: '/webhooks/whatsapp',
        setupRequest(req) {
          const i = cursor.next++;
          if (i >= pool.size) cursor.wrapped++;
          const k = i % pool.size;
          req.body = pool.body(k);
          req.headers = { 'content-type': 'application/json', 'x-hub-signature-256': pool.signature(k) };
          return req;
        },
      },
    ],
  });
  const ok = result['2xx'];
  return {
    durationS: result.duration,
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: ok / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    statusCodes: result.statusCodeStats,
  };
}

const TICK_S = 0.01; // USER_HZ is 100 on Linux x86-64

/** CPU time of a process (all threads) in seconds: { user, system }; null off Linux. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) * TICK_S, system: Number(fields[12]) * TICK_S };
  } catch {
    return null;
  }
}

/** The counters of chatstate's /metrics the report uses (sums over labels). */
export async function chatstateCounters(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name, filter = () => true) => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== '{' && rest[0] !== ' ') continue;
      if (!filter(rest)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  };
  return {
    acked: sum('chatstate_webhook_requests_total', (l) => l.includes('status="200"')),
    refused: sum('chatstate_webhook_requests_total', (l) => !l.includes('status="200"')),
    transitionsCommitted: sum('chatstate_transitions_total', (l) => l.includes('outcome="committed"')),
    transitions: sum('chatstate_transitions_total'),
    dedupeHits: sum('chatstate_dedupe_hits_total'),
    handlerErrors: sum('chatstate_handler_errors_total'),
  };
}

/** Messages recorded and not yet processed, read from the SQLite file (WAL: a reader never blocks). */
export function inboxBacklog(dbFile) {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    // An ingest process appends to cs_inbox_log (builds before it have no such table).
    const hasLog = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cs_inbox_log'")
      .get();
    const inbox = db.prepare('SELECT count(*) AS n FROM cs_inbox').get().n;
    return hasLog ? inbox + db.prepare('SELECT count(*) AS n FROM cs_inbox_log').get().n : inbox;
  } finally {
    db.close();
  }
}

/** Waits until the inbox is empty (or `limitMs`); seconds it took, or null when it did not empty. */
export async function waitForEmptyInbox(dbFile, limitMs) {
  const started = performance.now();
  for (;;) {
    if (inboxBacklog(dbFile) === 0) return (performance.now() - started) / 1000;
    if (performance.now() - started > limitMs) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}
