/** Minimal assertions so the exported suite depends on no test framework's `expect`. */
export class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
}

export function ok(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

export function equal<T>(actual: T, expected: T, message: string): void {
  if (!deepEqual(actual, expected)) {
    throw new ConformanceFailure(`${message}\n  expected: ${show(expected)}\n  actual:   ${show(actual)}`);
  }
}

export async function rejects(promise: Promise<unknown>, code: string, message: string): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    const actual = (error as { code?: string }).code;
    ok(actual === code, `${message}: expected error code ${code}, got ${actual ?? String(error)}`);
    return error;
  }
  throw new ConformanceFailure(`${message}: expected error code ${code}, but it succeeded`);
}

export function throwsCode(fn: () => unknown, code: string, message: string): void {
  try {
    fn();
  } catch (error) {
    ok((error as { code?: string }).code === code, `${message}: expected ${code}, got ${String(error)}`);
    return;
  }
  throw new ConformanceFailure(`${message}: expected error code ${code}, but it succeeded`);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array)
    return a.length === b.length && a.every((v, i) => v === b[i]);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
