import type { Driver } from './contract.js';
import type { StoreObserver } from './options.js';

const TIMED = [
  'begin',
  'commit',
  'load',
  'claim',
  'acquireLease',
  'extendLease',
  'releaseLease',
  'delete',
  'scan',
  'sweep',
] as const;

/** Wraps a driver so every call reports its duration; used only when an observer wants it. */
export function instrument(driver: Driver, observer: StoreObserver): Driver {
  const report = observer.operation;
  if (!report) return driver;
  const wrapped: Record<string, unknown> = {};
  for (const op of TIMED) {
    const fn = driver[op] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (!fn) continue;
    wrapped[op] = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        const result = await fn.apply(driver, args);
        report(op, driver.name, performance.now() - started, true);
        return result;
      } catch (error) {
        report(op, driver.name, performance.now() - started, false);
        throw error;
      }
    };
  }
  // The prototype keeps every other member (capabilities, inbox, close...) of the real driver.
  return Object.assign(Object.create(driver) as Driver, wrapped);
}
