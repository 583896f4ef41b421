/**
 * What the runtime counts. The Node server implements it with prom-client (server/prometheus.ts);
 * the core only calls these methods, so it stays free of Node-only libraries.
 */
export interface RuntimeMetrics {
  webhookRequest(route: string, status: number): void;
  signatureFailure(route: string): void;
  event(kind: string): void;
  dedupeHit(): void;
  ignored(reason: string): void;
  /** Seconds from the provider's timestamp (or receipt) to the committed transition. */
  transitionLatency(seconds: number, outcome: string): void;
  handlerError(): void;
  /** A fallback reply was sent while the store was down. */
  fallbackSent(): void;
  /** A reply delivery ended: sent, failed for good, or left for a retry. */
  delivery(outcome: 'sent' | 'failed' | 'retry'): void;
  /** A user's message was handled (feeds the active-sessions gauge). */
  activeUser(userId: string): void;
}

export const noMetrics: RuntimeMetrics = {
  webhookRequest() {},
  signatureFailure() {},
  event() {},
  dedupeHit() {},
  ignored() {},
  transitionLatency() {},
  handlerError() {},
  activeUser() {},
  fallbackSent() {},
  delivery() {},
};
