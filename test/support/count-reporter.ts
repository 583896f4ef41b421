// Prints one machine-readable summary line at the end of a run: "N passed, N failed[, N skipped]".
// Failed counts failed tests, plus each error outside a test (file collection/import errors, beforeAll/afterAll
// errors on a suite or file, unhandled errors) as 1.
import type { SerializedError } from 'vitest';
import type { Reporter, TestModule } from 'vitest/node';

export function countResults(
  testModules: ReadonlyArray<TestModule>,
  unhandledErrors: ReadonlyArray<SerializedError>,
): { passed: number; failed: number; skipped: number } {
  let passed = 0;
  let failed = unhandledErrors.length;
  let skipped = 0;
  for (const mod of testModules) {
    failed += mod.errors().length;
    for (const suite of mod.children.allSuites()) failed += suite.errors().length;
    for (const test of mod.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') passed++;
      else if (state === 'failed') failed++;
      else if (state === 'skipped') skipped++;
    }
  }
  return { passed, failed, skipped };
}

export function formatCounts(c: { passed: number; failed: number; skipped: number }): string {
  return `${c.passed} passed, ${c.failed} failed${c.skipped > 0 ? `, ${c.skipped} skipped` : ''}`;
}

export default class CountReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    process.stdout.write(`${formatCounts(countResults(testModules, unhandledErrors))}\n`);
  }
}
