import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import type { StoreObserver } from '../store/options.js';

const ACTIVE_WINDOW_MS = 5 * 60_000;

/**
 * Prometheus metrics (prom-client) for the runtime and the store. One registry per server so
 * tests and several servers in one process do not share counters.
 */
export function createPrometheus(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: 'chatstate_process_' });
  const r = { registers: [registry] };
  const requests = new Counter({
    name: 'chatstate_webhook_requests_total',
    help: 'Webhook requests by route and status',
    labelNames: ['route', 'status'],
    ...r,
  });
  const signatureFailures = new Counter({
    name: 'chatstate_webhook_signature_failures_total',
    help: 'Webhook requests refused for a missing or wrong signature',
    labelNames: ['route'],
    ...r,
  });
  const events = new Counter({
    name: 'chatstate_events_total',
    help: 'Inbound events by kind',
    labelNames: ['kind'],
    ...r,
  });
  const dedupe = new Counter({
    name: 'chatstate_dedupe_hits_total',
    help: 'Messages dropped as redeliveries of an already processed message id',
    ...r,
  });
  const ignored = new Counter({
    name: 'chatstate_ignored_total',
    help: 'Webhook items ignored, by reason',
    labelNames: ['reason'],
    ...r,
  });
  const handlerErrors = new Counter({
    name: 'chatstate_handler_errors_total',
    help: 'Bot handler runs that threw',
    ...r,
  });
  const transitionLatency = new Histogram({
    name: 'chatstate_transition_latency_seconds',
    help: 'From the message timestamp (or receipt) to the committed transition',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ...r,
  });
  const storeOps = new Histogram({
    name: 'chatstate_store_operation_seconds',
    help: 'Store driver calls by operation and driver',
    labelNames: ['op', 'driver', 'ok'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    ...r,
  });
  const transitions = new Counter({
    name: 'chatstate_transitions_total',
    help: 'Transitions by outcome',
    labelNames: ['outcome'],
    ...r,
  });
  const leaseWaits = new Histogram({
    name: 'chatstate_lease_wait_seconds',
    help: 'Time spent waiting for another worker to release a user lease',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    ...r,
  });
  const conflicts = new Counter({
    name: 'chatstate_store_conflicts_total',
    help: 'Commits that lost the version check and re-ran the handler',
    ...r,
  });
  const corrupt = new Counter({
    name: 'chatstate_sessions_corrupt_total',
    help: 'Stored sessions that did not decode and were quarantined',
    labelNames: ['driver'],
    ...r,
  });
  const fallbacks = new Counter({
    name: 'chatstate_fallback_replies_total',
    help: 'Fallback replies sent while the store was down',
    ...r,
  });
  const deliveries = new Counter({
    name: 'chatstate_reply_deliveries_total',
    help: 'Reply deliveries by outcome (sent, failed, retry)',
    labelNames: ['outcome'],
    ...r,
  });
  const recent = new Map<string, number>();
  new Gauge({
    name: 'chatstate_active_sessions',
    help: 'Distinct users whose messages this process handled in the last 5 minutes',
    ...r,
    collect() {
      const cutoff = Date.now() - ACTIVE_WINDOW_MS;
      for (const [user, at] of recent) if (at < cutoff) recent.delete(user);
      this.set(recent.size);
    },
  });

  const runtime: RuntimeMetrics = {
    webhookRequest: (route, status) => requests.inc({ route, status: String(status) }),
    signatureFailure: (route) => signatureFailures.inc({ route }),
    event: (kind) => events.inc({ kind }),
    dedupeHit: () => dedupe.inc(),
    ignored: (reason) => ignored.inc({ reason }),
    transitionLatency: (seconds, outcome) => transitionLatency.observe({ outcome }, seconds),
    handlerError: () => handlerErrors.inc(),
    activeUser: (userId) => void recent.set(userId, Date.now()),
    fallbackSent: () => fallbacks.inc(),
    delivery: (outcome) => deliveries.inc({ outcome }),
  };
  const store: StoreObserver = {
    operation: (op, driver, ms, ok) => storeOps.observe({ op, driver, ok: ok ? 'true' : 'false' }, ms / 1000),
    transition: (outcome) => transitions.inc({ outcome }),
    leaseWait: (ms) => leaseWaits.observe(ms / 1000),
    conflict: () => conflicts.inc(),
    corrupt: (driver) => corrupt.inc({ driver }),
  };
  return {
    registry,
    runtime,
    store,
    render: async () => ({ body: await registry.metrics(), contentType: registry.contentType }),
  };
}
