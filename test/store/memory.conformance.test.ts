import { afterEach, beforeEach, describe, it } from 'vitest';
import { defineConformanceSuite } from '../../src/store/conformance/index.js';
import type { Driver } from '../../src/store/contract.js';
import { memoryDriver } from '../../src/store/drivers/memory.js';

type MemoryDriver = ReturnType<typeof memoryDriver>;

defineConformanceSuite(
  { describe, it, beforeEach, afterEach },
  {
    name: 'memory',
    open: async () => memoryDriver(),
    corrupt: async (driver: Driver, key: string) =>
      (driver as MemoryDriver).writeRaw(key, new Uint8Array([0x01, 0xc1, 0xff, 0x00])),
    quarantined: async (driver: Driver, key: string) =>
      (driver as MemoryDriver).quarantined.filter((q) => q.key === key).map((q) => q.raw),
  },
);
