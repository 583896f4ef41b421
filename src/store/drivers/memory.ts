import type {
  BeginRequest,
  BeginResult,
  CommitRequest,
  CommitResult,
  Driver,
  DriverCapabilities,
  LeaseGrant,
  ScanPage,
  StoredBlob,
} from '../contract.js';
import { memoryInbox } from './memory-inbox.js';
import { memoryOutbox } from './memory-outbox.js';

export interface MemoryDriverOptions {
  /** Most sessions kept; the least recently used is dropped beyond it. Default 100,000. */
  maxEntries?: number;
  /** Most claims kept (oldest dropped first). Default 10 x maxEntries. */
  maxClaims?: number;
}

interface LeaseRow {
  token: number;
  expiresAt: number;
}

export interface QuarantinedRecord {
  key: string;
  raw: Uint8Array;
  reason: string;
  at: number;
}

const capabilities: DriverCapabilities = {
  model: 'blob',
  nativeTtl: true,
  scan: true,
  changeEvents: false,
  persistent: false,
  evicts: true,
  maxValueBytes: null,
  ttlResolutionMs: 1,
  outbox: true,
};

/**
 * In-process store for tests and single-process bots. Bodies are kept encoded, exactly as a real
 * store holds them, so codec, size cap and corruption behave the same as everywhere else.
 * Map insertion order is the LRU order: a read moves the entry to the end.
 */
export function memoryDriver(options: MemoryDriverOptions = {}): Driver & {
  quarantined: QuarantinedRecord[];
  writeRaw(key: string, body: Uint8Array, version?: number): void;
} {
  const maxEntries = options.maxEntries ?? 100_000;
  const maxClaims = options.maxClaims ?? maxEntries * 10;
  const sessions = new Map<string, StoredBlob>();
  const claims = new Map<string, number>();
  const leases = new Map<string, LeaseRow>();
  const quarantined: QuarantinedRecord[] = [];
  let closed = false;
  // One counter for all keys keeps fencing tokens increasing even after a swept lease row is gone.
  let lastToken = 0;
  const outbox = memoryOutbox();

  const live = (key: string): StoredBlob | null => {
    const row = sessions.get(key);
    if (!row) return null;
    // Expired rows are still returned until swept, so a returning user can be recognised; the store
    // decides what expiry means. Only recency is updated here.
    sessions.delete(key);
    sessions.set(key, row);
    return row;
  };
  // A transition's claim belongs to its user, as in every driver (contract.ts), apart from
  // standalone claims: two key spaces in one map, told apart by the first character, the user's
  // length making the split of user and claim unambiguous.
  const userClaim = (user: string, claim: string) => `u${user.length}:${user}${claim}`;
  const standalone = (key: string) => `s${key}`;
  const claimed = (key: string, now: number) => {
    const until = claims.get(key);
    return until !== undefined && until > now;
  };
  const leaseBusy = (key: string, now: number) => {
    const lease = leases.get(key);
    return lease !== undefined && lease.expiresAt > now ? lease : null;
  };
  const grant = (key: string, ttlMs: number, now: number): LeaseGrant => {
    const row = { token: ++lastToken, expiresAt: now + ttlMs };
    leases.set(key, row);
    return { ...row };
  };
  const putClaim = (key: string, until: number) => {
    claims.delete(key);
    claims.set(key, until);
    if (claims.size > maxClaims) claims.delete(claims.keys().next().value as string);
  };

  const inbox = memoryInbox();

  return {
    name: 'memory',
    capabilities,
    quarantined,
    inbox,
    outbox,

    async begin(req: BeginRequest): Promise<BeginResult> {
      if (req.claimKey !== undefined && claimed(userClaim(req.key, req.claimKey), req.now))
        return { status: 'duplicate' };
      let lease: LeaseGrant | null = null;
      if (req.lease) {
        const busy = leaseBusy(req.key, req.now);
        if (busy) return { status: 'busy', leaseExpiresAt: busy.expiresAt };
        lease = grant(req.key, req.lease.ttlMs, req.now);
      }
      return { status: 'ok', lease, record: live(req.key) };
    },

    async commit(req: CommitRequest): Promise<CommitResult> {
      if (req.leaseToken !== undefined && leases.get(req.key)?.token !== req.leaseToken)
        return { status: 'lease_lost' };
      const current = sessions.get(req.key);
      if ((current?.version ?? 0) !== req.expectVersion) return { status: 'conflict' };
      if (req.claim && claimed(userClaim(req.key, req.claim.key), req.now)) return { status: 'conflict' };
      let version = req.expectVersion;
      if (req.change) {
        if (req.change.kind !== 'blob') throw new TypeError('memory driver stores blobs');
        version += 1;
        sessions.delete(req.key);
        sessions.set(req.key, { version, expiresAt: req.change.expiresAt, body: req.change.body });
        if (sessions.size > maxEntries) sessions.delete(sessions.keys().next().value as string);
      }
      if (req.claim) putClaim(userClaim(req.key, req.claim.key), req.now + req.claim.ttlMs);
      if (req.outbox?.length) outbox.insert(req.key, req.outbox, req.now);
      if (req.consume !== undefined) inbox.removeOne(req.key, req.consume);
      if (req.release) {
        const lease = leases.get(req.key);
        if (lease) lease.expiresAt = 0;
      }
      return { status: 'ok', version };
    },

    async load(key) {
      return live(key);
    },

    async claim(key, ttlMs, now) {
      if (claimed(standalone(key), now)) return false;
      putClaim(standalone(key), now + ttlMs);
      return true;
    },

    async acquireLease(key, ttlMs, now) {
      return leaseBusy(key, now) ? null : grant(key, ttlMs, now);
    },

    async extendLease(key, token, ttlMs, now) {
      const lease = leases.get(key);
      if (!lease || lease.token !== token || lease.expiresAt <= now) return false;
      lease.expiresAt = now + ttlMs;
      return true;
    },

    async releaseLease(key, token) {
      const lease = leases.get(key);
      if (!lease || lease.token !== token || lease.expiresAt === 0) return false;
      lease.expiresAt = 0;
      return true;
    },

    async delete(key) {
      return sessions.delete(key);
    },

    async quarantine(key, raw, reason, now) {
      quarantined.push({ key, raw, reason, at: now });
      sessions.delete(key);
    },

    async scan(prefix, cursor, limit, now): Promise<ScanPage> {
      // Sorted keys make the cursor stable across writes: it is the last key returned.
      const keys = [...sessions.entries()]
        .filter(
          ([k, row]) =>
            k.startsWith(prefix) &&
            (cursor === null || k > cursor) &&
            (row.expiresAt === null || row.expiresAt > now),
        )
        .map(([k]) => k)
        .sort();
      const page = keys.slice(0, limit);
      return { keys: page, cursor: keys.length > limit ? (page[page.length - 1] ?? null) : null };
    },

    async sweep(now) {
      let removed = 0;
      for (const [key, row] of sessions) {
        if (row.expiresAt !== null && row.expiresAt <= now) {
          sessions.delete(key);
          removed++;
        }
      }
      for (const [key, until] of claims) if (until <= now) claims.delete(key);
      for (const [key, lease] of leases) if (lease.expiresAt <= now) leases.delete(key);
      return removed;
    },

    writeRaw(key, body, version = 1) {
      sessions.set(key, { version, expiresAt: null, body });
    },

    async ping() {
      if (closed) throw new Error('closed');
    },

    async close() {
      closed = true;
      sessions.clear();
      claims.clear();
      leases.clear();
    },
  };
}
