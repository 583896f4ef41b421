import type { Overhead } from './probe.js';

export interface CapacityInput {
  bytesPerSession: number;
  dau: number;
  replicas: number;
  overhead: Overhead;
  medium: 'disk' | 'memory';
  /** Transitions per second with `concurrency` in flight. */
  perSecond: number;
  concurrency: number;
  /** What the bytes were measured on (the seed, or the --session file). */
  shape: string;
  historyLimit: number;
  claimTtlDays: number;
}

export interface Capacity {
  dau: number;
  medium: 'disk' | 'memory';
  replicas: number;
  overhead_factor: number;
  storage_bytes: number;
  saturation_messages_per_second: number;
  assumptions: string[];
}

/**
 * The estimate the issue asks for: storage = bytes per session x DAU x (1 + replicas) x overhead,
 * and the message rate one instance sustains = the concurrent phase's transitions per second. The
 * assumptions travel with the figures, in the JSON and under the table.
 */
export function estimateCapacity(i: CapacityInput): Capacity {
  const storage = Math.ceil(i.bytesPerSession * i.dau * (1 + i.replicas) * i.overhead.factor);
  return {
    dau: i.dau,
    medium: i.medium,
    replicas: i.replicas,
    overhead_factor: i.overhead.factor,
    storage_bytes: storage,
    saturation_messages_per_second: Math.round(i.perSecond),
    assumptions: [
      `one stored session per daily active user: a session expires 24 h after its last message, so the users of one day are the sessions held`,
      `bytes per session as measured on the ${i.shape} right after it was stored; every message adds a history entry until the history holds ${i.historyLimit}, so a busy session is larger`,
      `claims are not counted: each inbound message keeps a claim (its message id) for ${i.claimTtlDays} days, whose size grows with messages per user`,
      `${i.replicas} extra full ${i.replicas === 1 ? 'copy' : 'copies'} (--replicas: ${i.medium === 'disk' ? 'backups of the file' : 'replicas of the server'})`,
      i.overhead.why,
      `one transition per inbound message; saturation is the throughput measured with ${i.concurrency} transitions in flight from this one process on this machine: more application processes may reach more on a server store, until the server's own CPU is the limit`,
    ],
  };
}
