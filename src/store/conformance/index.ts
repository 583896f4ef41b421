import { coordinationCases } from './cases-coordination.js';
import { errorCases } from './cases-errors.js';
import { inboxCases } from './cases-inbox.js';
import { outboxCases } from './cases-outbox.js';
import { sessionCases } from './cases-session.js';
import { CaseContext } from './context.js';
import type { ConformanceTarget, SuiteApi } from './types.js';

export { ConformanceFailure } from './assert.js';
export type { ConformanceTarget, SuiteApi } from './types.js';

/**
 * The conformance suite every store driver runs, now and later, against the real store:
 *
 * ```ts
 * import { describe, it, beforeEach, afterEach } from 'vitest';
 * defineConformanceSuite({ describe, it, beforeEach, afterEach }, { name: 'redis', open, corrupt, quarantined });
 * ```
 */
export function defineConformanceSuite(api: SuiteApi, target: ConformanceTarget): void {
  api.describe(`store conformance: ${target.name}`, () => {
    let context: CaseContext | undefined;
    api.afterEach(async () => {
      await context?.close();
      context = undefined;
    });
    const test = (name: string, fn: (c: CaseContext) => Promise<void>, timeoutMs?: number) =>
      api.it(
        name,
        async () => {
          context = new CaseContext(target, await target.open());
          await fn(context);
        },
        timeoutMs,
      );
    sessionCases(api, test);
    coordinationCases(api, test);
    errorCases(api, test);
    inboxCases(api, test);
    outboxCases(api, test);
  });
}
