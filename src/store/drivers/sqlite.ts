import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ChatstateError } from '../../errors.js';
import type {
  BeginRequest,
  BeginResult,
  CommitRequest,
  CommitResult,
  Driver,
  DriverCapabilities,
  LeaseGrant,
  StoredBlob,
} from '../contract.js';
import { sqliteCheckpointer } from './sqlite-checkpointer.js';
import { CLAIMS_SCHEMA_SQL, migrateSessionClaims, migrateTextClaims, sqliteClaims } from './sqlite-claims.js';
import { sqliteInbox } from './sqlite-inbox.js';
import { sqliteOutbox } from './sqlite-outbox.js';
import { SCHEMA_SQL } from './sqlite-schema.js';
import { sqliteTurn } from './sqlite-turn.js';

export interface SqliteDriverOptions {
  /** Database file, or `:memory:`. Default `./data/chatstate.db` (the directory is created). */
  path?: string;
  /** How long a writer waits for another process's write lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Rows removed per sweep statement, so a sweep never holds the write lock for long. Default 5000. */
  sweepBatch?: number;
  /**
   * Where WAL checkpoints run: `background` (default for files) in a worker thread every
   * `checkpointIntervalMs`, off the event loop; `inline` inside a COMMIT, SQLite's default.
   */
  checkpoint?: 'background' | 'inline';
  /** How often the background checkpointer runs, in ms. Default 20. */
  checkpointIntervalMs?: number;
  /**
   * Bytes of the file SQLite reads through a memory map (`PRAGMA mmap_size`); 0 reads with
   * read(2) only. Default 1 GiB. Why: pages read through the map skip a system call and a copy,
   * and they stay resident as this process's mapped pages, where a host that reclaims idle page
   * cache drops unmapped file pages first (measured: docs/benchmarks.md, "Cold pages").
   */
  mmapBytes?: number;
}

const DEFAULT_MMAP_BYTES = 1024 * 1024 * 1024;

const capabilities: DriverCapabilities = {
  model: 'blob',
  nativeTtl: false,
  scan: true,
  changeEvents: false,
  persistent: true,
  evicts: false,
  maxValueBytes: null,
  ttlResolutionMs: 1,
  // Taking a lease in begin would make every transition two write transactions (about 2x the cost).
  transitionLease: 'check',
  outbox: true,
};

type SessionRow = { v: number; e: number | null; d: Uint8Array; c: Buffer | null };
/** What a commit needs of a row: its version and its recent claims (sqlite-recent-claims.ts). */
type RowClaims = { v: number; c: Buffer | null };

/**
 * The embedded default store: one SQLite file through better-sqlite3 (synchronous, the fastest
 * Node binding measured here). WAL with synchronous=NORMAL gives durable-on-checkpoint writes
 * without an fsync per commit; BEGIN IMMEDIATE plus a busy timeout makes several processes on one
 * file safe. All calls of one event-loop turn share one transaction (sqlite-turn.ts): a write
 * resolves once that transaction has committed.
 */
export function sqliteDriver(options: SqliteDriverOptions = {}): Driver {
  const path = options.path ?? './data/chatstate.db';
  const db = openDatabase(path, options.busyTimeoutMs ?? 5000, options.mmapBytes ?? DEFAULT_MMAP_BYTES);
  const sweepBatch = options.sweepBatch ?? 5000;
  const file = path === ':memory:' ? null : resolve(path);
  const checkpointer =
    file !== null && options.checkpoint !== 'inline'
      ? sqliteCheckpointer(db, file, options.checkpointIntervalMs ?? 20)
      : null;
  const turn = sqliteTurn(
    db,
    file,
    (error) => wrapSqliteError(error, path),
    checkpointer ? checkpointer.wrote : undefined,
  );

  const q = {
    leaseGet: db.prepare<[string], { t: number; e: number }>('SELECT t, e FROM cs_leases WHERE k = ?'),
    leasePut: db.prepare<[string, number, number]>(
      'INSERT INTO cs_leases (k, t, e) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET t = excluded.t, e = excluded.e',
    ),
    leaseExtend: db.prepare<[number, string, number, number]>(
      'UPDATE cs_leases SET e = ? WHERE k = ? AND t = ? AND e > ?',
    ),
    leaseRelease: db.prepare<[string, number]>('UPDATE cs_leases SET e = 0 WHERE k = ? AND t = ? AND e > 0'),
    sessionGet: db.prepare<[string], SessionRow>('SELECT v, e, d, c FROM cs_sessions WHERE k = ?'),
    rowClaims: db.prepare<[string], RowClaims>('SELECT v, c FROM cs_sessions WHERE k = ?'),
    sessionInsert: db.prepare<[string, number | null, Uint8Array, Buffer | null]>(
      'INSERT INTO cs_sessions (k, v, e, d, c) VALUES (?, 1, ?, ?, ?) ON CONFLICT (k) DO NOTHING',
    ),
    sessionUpdate: db.prepare<[number | null, Uint8Array, string, number]>(
      'UPDATE cs_sessions SET v = v + 1, e = ?, d = ? WHERE k = ? AND v = ?',
    ),
    sessionUpdateClaims: db.prepare<[number | null, Uint8Array, Buffer, string, number]>(
      'UPDATE cs_sessions SET v = v + 1, e = ?, d = ?, c = ? WHERE k = ? AND v = ?',
    ),
    claimsUpdate: db.prepare<[Buffer, string, number]>('UPDATE cs_sessions SET c = ? WHERE k = ? AND v = ?'),
    sessionDelete: db.prepare<[string]>('DELETE FROM cs_sessions WHERE k = ?'),
    quarantinePut: db.prepare<[string, Uint8Array, string, number]>(
      'INSERT INTO cs_quarantine (k, d, reason, at) VALUES (?, ?, ?, ?)',
    ),
    scan: db.prepare<[string, string, number, number], { k: string }>(
      'SELECT k FROM cs_sessions WHERE k >= ? AND k < ? AND (e IS NULL OR e > ?) ORDER BY k LIMIT ?',
    ),
    sweepWalk: db.prepare<[string, number], { k: string; e: number | null; c: Buffer | null }>(
      'SELECT k, e, c FROM cs_sessions WHERE k > ? ORDER BY k LIMIT ?',
    ),
    sweepDelete: db.prepare<[string, number]>('DELETE FROM cs_sessions WHERE k = ? AND e <= ?'),
    sweepLeases: db.prepare<[number]>('DELETE FROM cs_leases WHERE e <= ?'),
  };

  const claims = sqliteClaims(db);

  // Tokens start from the clock so they keep increasing even after a swept lease row is gone
  // (a paused holder of an old token can never match a new grant).
  const grant = (key: string, ttlMs: number, now: number, previous: number | undefined): LeaseGrant => {
    const token = Math.max((previous ?? 0) + 1, now * 1000);
    const expiresAt = now + ttlMs;
    q.leasePut.run(key, token, expiresAt);
    return { token, expiresAt };
  };

  const toRecord = (row: SessionRow | undefined): StoredBlob | null =>
    row ? { version: row.v, expiresAt: row.e, body: row.d } : null;

  // The bodies below run inside the turn's transaction (sqlite-turn.ts), never on their own.
  // Inside a transaction three one-row lookups cost less than one statement joining them
  // (measured 3.9 vs 6.1 us), and a duplicate stops at the first.
  /** What a begin read, so its commit need not read it again when nothing wrote in between. */
  interface Seen {
    claimKey: string | undefined;
    /** The lease row as begin left it, or undefined when begin did not read it. */
    lease: { t: number; e: number } | null | undefined;
    /** The session row begin read (null: none), or undefined when it did not get that far. */
    row: RowClaims | null | undefined;
  }

  const beginBody = (req: BeginRequest, seen: Seen): BeginResult => {
    // The row first: it carries the user's recent claims.
    const row = q.sessionGet.get(req.key);
    if (req.claimKey !== undefined && claims.userHeld(req.key, row?.c ?? null, req.claimKey, req.now))
      return { status: 'duplicate' };
    seen.claimKey = req.claimKey;
    seen.row = row ?? null;
    let lease: LeaseGrant | null = null;
    if (req.checkLease) {
      const current = q.leaseGet.get(req.key);
      if (current && current.e > req.now && current.t !== req.checkLease.heldToken) {
        return { status: 'busy', leaseExpiresAt: current.e };
      }
      seen.lease = current ?? null;
    } else if (req.lease) {
      const current = q.leaseGet.get(req.key);
      if (current && current.e > req.now) return { status: 'busy', leaseExpiresAt: current.e };
      lease = grant(req.key, req.lease.ttlMs, req.now, current?.t);
      seen.lease = { t: lease.token, e: lease.expiresAt };
    }
    return { status: 'ok', lease, record: toRecord(row) };
  };

  const outbox = sqliteOutbox(db);
  const inbox = sqliteInbox(db);

  // `seen`: what this transition's begin read in the same transaction with no write since (sqlite-turn.ts
  // `quiet`), so those rows are unchanged and need no second lookup.
  const commitBody = (req: CommitRequest, seen: Seen | undefined): CommitResult => {
    const leaseRow = () => (seen?.lease !== undefined ? seen.lease : q.leaseGet.get(req.key));
    if (req.leaseToken !== undefined && leaseRow()?.t !== req.leaseToken) return { status: 'lease_lost' };
    if (req.checkLease && req.leaseToken === undefined && (leaseRow()?.e ?? 0) > req.now)
      return { status: 'lease_lost' };
    // The row as this transaction sees it: begin's read when nothing wrote since, else read now.
    let row = seen?.row;
    const current = () => {
      if (row === undefined) row = q.rowClaims.get(req.key) ?? null;
      return row;
    };
    const claim = req.claim;
    // A claim recorded since `begin` means another worker processed this message: let the store
    // run begin again, which reports it as a duplicate.
    if (
      claim &&
      seen?.claimKey !== claim.key &&
      claims.userHeld(req.key, current()?.c ?? null, claim.key, req.now)
    )
      return { status: 'conflict' };
    const added =
      claim && claims.userAdd(req.key, current()?.c ?? null, claim.key, req.now + claim.ttlMs, req.now);
    let version = req.expectVersion;
    if (req.change) {
      if (req.change.kind !== 'blob') throw new TypeError('sqlite driver stores blobs');
      const { body, expiresAt } = req.change;
      const info =
        version === 0
          ? q.sessionInsert.run(req.key, expiresAt, body, added ? added.column : null)
          : added
            ? q.sessionUpdateClaims.run(expiresAt, body, added.column, req.key, version)
            : q.sessionUpdate.run(expiresAt, body, req.key, version);
      if (info.changes === 0) return { status: 'conflict' };
      version += 1;
    } else {
      const stored = current();
      if ((stored?.v ?? 0) !== version) return { status: 'conflict' };
      // A claim without a change: into the row's claims (its version stays), or the table when
      // the user has no row.
      if (claim && added) {
        if (stored) q.claimsUpdate.run(added.column, req.key, version);
        else claims.userPut(req.key, claim.key, req.now + claim.ttlMs);
      }
    }
    // Only a full row overflows its claims (moved is empty otherwise).
    if (added) claims.move(req.key, added.moved);
    if (req.outbox?.length) outbox.insert(req.key, req.outbox, req.now);
    if (req.consume !== undefined) inbox.removeOne(req.key, req.consume);
    if (req.release && req.leaseToken !== undefined) q.leaseRelease.run(req.key, req.leaseToken);
    return { status: 'ok', version };
  };

  // Standalone claims (store.claim): one table, keys not tied to a user.
  const claimBody = (key: string, ttlMs: number, now: number) => {
    const id = claims.id(key);
    if (claims.held(id, now)) return false;
    claims.put(id, now + ttlMs);
    return true;
  };

  const acquireBody = (key: string, ttlMs: number, now: number) => {
    const current = q.leaseGet.get(key);
    return current && current.e > now ? null : grant(key, ttlMs, now, current?.t);
  };

  // A row's claims outlive it (7 days against 24 hours): they move to the table before it goes.
  const deleteRow = (key: string) => {
    const row = q.rowClaims.get(key);
    if (!row) return false;
    claims.keep(key, row.c);
    return q.sessionDelete.run(key).changes > 0;
  };

  const sweepBody = (rows: Array<{ k: string; c: Buffer | null }>, now: number) => {
    for (const { k, c } of rows) if (q.sweepDelete.run(k, now).changes > 0) claims.keep(k, c);
  };

  const quarantineBody = (key: string, raw: Uint8Array, reason: string, now: number) => {
    q.quarantinePut.run(key, raw, reason, now);
    deleteRow(key);
  };

  let closed = false;
  const closedError = () =>
    new ChatstateError('STORE_CLOSED', 'the sqlite store is closed.', { component: 'sqlite' });
  // begin and commit: the result itself when the work (and its COMMIT) ran within the call, so a
  // transition on this synchronous driver takes no event-loop hop (contract.ts).
  const guardNow = <A extends unknown[], R>(fn: (...args: A) => R) => {
    return (...args: A): R => {
      if (closed) throw closedError();
      try {
        return fn(...args);
      } catch (error) {
        throw wrapSqliteError(error, path);
      }
    };
  };
  const guard = <A extends unknown[], R>(fn: (...args: A) => R) => {
    return async (...args: A): Promise<Awaited<R>> => {
      if (closed) throw closedError();
      try {
        // A returned promise (a write waiting for its turn's COMMIT) rejects with an already wrapped error.
        return fn(...args) as Awaited<R>;
      } catch (error) {
        throw wrapSqliteError(error, path);
      }
    };
  };

  return {
    name: 'sqlite',
    capabilities,
    outbox: {
      pending: guard(outbox.pending),
      update: guard((id: string, change: Parameters<typeof outbox.update>[1], now: number) =>
        turn.write(() => outbox.update(id, change, now)),
      ),
      byProviderId: guard(outbox.byProviderId),
      forUser: guard(outbox.forUser),
    },
    inbox: {
      removesOnCommit: true,
      add: guard((entries: Parameters<typeof inbox.add>[0], now: number) =>
        turn.write(() => inbox.add(entries, now)),
      ),
      // The drain's peek is followed by the transition that processes the message: same transaction.
      peek: guard((user: string, limit: number) => turn.join(() => inbox.peek(user, limit))),
      remove: guard((user: string, ids: string[]) => turn.write(() => inbox.remove(user, ids))),
      append: guard((entries: Parameters<typeof inbox.add>[0], now: number) =>
        turn.write(() => inbox.append(entries, now)),
      ),
      // Discovery absorbs what `append` logged (a write only when the log has rows), then reads.
      users: guard((before: number, limit: number) =>
        inbox.logged()
          ? turn.write(() => {
              inbox.absorb();
              return inbox.users(before, limit);
            })
          : inbox.users(before, limit),
      ),
    },
    // begin runs inside the turn's transaction (without a lease it only reads): its commit usually
    // follows in the same turn, so a transition takes the write lock once (sqlite-turn.ts).
    begin: guardNow((req: BeginRequest) => {
      const seen: Seen = { claimKey: undefined, lease: undefined, row: undefined };
      return turn.open(
        req.key,
        () => beginBody(req, seen),
        (begun) => begun.status === 'ok',
        seen,
      );
    }),
    commit: guardNow((req: CommitRequest) =>
      turn.write((quiet) => commitBody(req, quiet as Seen | undefined), req.key),
    ),
    load: guard((key: string) => toRecord(q.sessionGet.get(key))),
    claim: guard((key: string, ttlMs: number, now: number) => turn.write(() => claimBody(key, ttlMs, now))),
    acquireLease: guard((key: string, ttlMs: number, now: number) =>
      turn.write(() => acquireBody(key, ttlMs, now)),
    ),
    extendLease: guard((key: string, token: number, ttlMs: number, now: number) =>
      turn.write(() => q.leaseExtend.run(now + ttlMs, key, token, now).changes > 0),
    ),
    releaseLease: guard((key: string, token: number) =>
      turn.write(() => q.leaseRelease.run(key, token).changes > 0),
    ),
    delete: guard((key: string) => turn.write(() => deleteRow(key))),
    quarantine: guard((key: string, raw: Uint8Array, reason: string, now: number) =>
      turn.write(() => quarantineBody(key, raw, reason, now)),
    ),
    scan: guard((prefix: string, cursor: string | null, limit: number, now: number) => {
      const from = cursor === null ? prefix : `${cursor}\u0000`;
      const rows = q.scan.all(from, `${prefix}\uffff`, now, limit + 1);
      const keys = rows.slice(0, limit).map((r) => r.k);
      return { keys, cursor: rows.length > limit ? (keys[keys.length - 1] ?? null) : null };
    }),
    // Walks the table in primary-key batches, yielding between them, so a sweep of a million rows
    // never holds the write lock or the event loop for long.
    async sweep(now: number) {
      let removed = 0;
      let after = '';
      for (;;) {
        const batch = await guard(() =>
          turn.write(() => {
            const rows = q.sweepWalk.all(after, sweepBatch);
            const expired = rows.filter((r) => r.e !== null && r.e <= now);
            if (expired.length) sweepBody(expired, now);
            return { rows: rows.length, last: rows.at(-1)?.k, expired: expired.length };
          }),
        )();
        removed += batch.expired;
        if (batch.rows < sweepBatch || batch.last === undefined) break;
        after = batch.last;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await guard(() =>
        turn.write(() => {
          while (claims.sweep(now, sweepBatch));
          q.sweepLeases.run(now);
        }),
      )();
      return removed;
    },
    ping: guard(() => {
      db.prepare('SELECT 1').get();
    }),
    async close() {
      if (closed) return;
      closed = true;
      turn.close();
      await checkpointer?.close();
      db.close();
    },
  };
}

function openDatabase(path: string, busyTimeoutMs: number, mmapBytes: number): Database.Database {
  try {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    if (path !== ':memory:') db.pragma(`mmap_size = ${Math.max(0, Math.floor(mmapBytes))}`);
    db.exec(SCHEMA_SQL + CLAIMS_SCHEMA_SQL);
    migrateTextClaims(db, Date.now());
    migrateSessionClaims(db, Date.now());
    return db;
  } catch (error) {
    throw new ChatstateError(
      'STORE_OPEN_FAILED',
      `cannot open the SQLite database at ${resolve(path)} (${(error as Error).message}): check that the directory exists or can be created and is writable, or point CHATSTATE_STORE at another path (sqlite:./data/chatstate.db).`,
      { component: 'sqlite', cause: error },
    );
  }
}

function wrapSqliteError(error: unknown, path: string): unknown {
  if (error instanceof ChatstateError || error instanceof TypeError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_')) {
    return new ChatstateError(
      code === 'SQLITE_BUSY' ? 'STORE_TIMEOUT' : 'STORE_UNAVAILABLE',
      `SQLite at ${path} failed with ${code}: ${(error as Error).message}. ${code === 'SQLITE_BUSY' ? 'Another process held the write lock too long; raise busyTimeoutMs.' : 'Check the disk and file permissions.'}`,
      { component: 'sqlite', cause: error },
    );
  }
  return error;
}
