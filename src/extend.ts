/**
 * `{ ...base, ...extra }` as a fresh object, without the slow path V8 (Node 20) takes for an object
 * literal that spreads first and then adds properties: `{ ...base, kind: 'text', text }` measured
 * 0.5–4.6 us here against 0.1–0.5 us for this (the more properties follow the spread, the slower).
 * Used where it runs once or more per message: webhook events, history entries, commits.
 * `const E` keeps literal property types (`kind: 'text'`) as a spread literal would.
 */
export function extend<B extends object, const E extends object>(base: B, extra: E): Omit<B, keyof E> & E {
  return Object.assign({}, base, extra) as Omit<B, keyof E> & E;
}
