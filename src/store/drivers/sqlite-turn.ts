import type Database from 'better-sqlite3';
import { ChatstateError } from '../../errors.js';

/**
 * One SQLite write transaction per event-loop turn, shared by the store calls made in that turn.
 *
 * Every transaction costs SQLite a lock cycle on the WAL's shared memory (fcntl calls) and a WAL
 * append at COMMIT, whatever it writes. A transition used to pay that twice (a read transaction
 * for `begin`, a write transaction for the commit) and a webhook message four times. Here the
 * first call of a turn opens `BEGIN IMMEDIATE` and later calls of the same turn run inside it.
 *
 * When it commits: a transition is a *unit*, opened by its `begin` and closed by its commit. A
 * commit that closes the last open unit commits the transaction at once, so one transition at a
 * time pays no event-loop hop, while transitions running concurrently share one COMMIT. Anything
 * else (a unit that never commits because it was a duplicate, its handler threw or awaits I/O; an
 * inbox or outbox write) is committed by a `setImmediate` at the end of the turn. A unit left open
 * then commits later in a transaction of its own; its version check still holds.
 *
 * Durability is unchanged: a write resolves only after the COMMIT that contains it succeeded, and
 * if that COMMIT fails every write of the turn rejects and none is applied. Writes use no
 * savepoints (they cost as much as the second transaction they replace): a write that throws rolls
 * back the whole turn and the other writes of the turn reject with STORE_UNAVAILABLE (their
 * callers retry or leave the message in the inbox). Reads run inside the open transaction when
 * there is one (they may see the turn's own writes, which commit or fail together with them).
 *
 * The write lock is held for at most one turn; other processes on the file wait through the busy
 * timeout as they did for a single commit. Two connections to one file in the same thread cannot
 * wait for each other (a busy wait blocks the event loop that would end the turn), so while a
 * second store on the same file is open in this thread, every call commits at once (`eager`).
 */
export interface SqliteTurn {
  /**
   * Runs `fn` inside this turn's transaction (opened if needed); resolves after its COMMIT. With
   * `unit`, closes that unit, committing at once when it was the last one open. `fn` receives the
   * unit's `note` from `open` when nothing else ran in this transaction since the unit opened (so
   * what its `open` read still holds), else undefined. When the COMMIT ran within this call, the
   * value itself is returned (or the COMMIT's error thrown): no promise, no event-loop hop.
   */
  write<T>(fn: (quiet?: unknown) => T, unit?: string): T | Promise<T>;
  /**
   * Runs `fn` inside this turn's transaction (opened if needed) and opens the unit `unit`, unless
   * `opens(result)` says no commit will follow (a duplicate, a busy lease).
   */
  open<T>(unit: string, fn: () => T, opens: (result: T) => boolean, note?: unknown): T;
  /** Runs the read `fn` inside this turn's transaction, opening it: for reads a write will follow. */
  join<T>(fn: () => T): T;
  /** Commits the open transaction now and stops sharing (before close). */
  close(): void;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  value: unknown;
}

/** Turns per database file in this thread, to detect a second connection to the same file. */
const byFile = new Map<string, Set<{ share: (eager: boolean) => void }>>();

/** `file`: the absolute path, or null for a private database (`:memory:`). */
export function sqliteTurn(
  db: Database.Database,
  file: string | null,
  wrapError: (error: unknown) => unknown,
  /** Called after each successful COMMIT (the checkpointer starts at the first). */
  committed?: () => void,
): SqliteTurn {
  let eager = false;
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  // Open units, each with the `writes` count right after its open and the note it was opened with.
  const units = new Map<string, { at: number; note: unknown }>();
  // Calls run in the open transaction; a unit whose commit sees the count unchanged since its open
  // knows nothing else wrote in between (no other process can: the write lock is held).
  let writes = 0;
  let open = false;
  // One end-of-turn callback at a time: a loop of lone transitions that never yields to the event
  // loop (a synchronous handler on this synchronous driver) would otherwise queue one per transition.
  let scheduled = false;
  let waiters: Waiter[] = [];

  /** Ends the turn's transaction without applying it; its waiting writes reject with `error`. */
  const abandon = (error: unknown) => {
    open = false;
    units.clear();
    const lost = waiters;
    waiters = [];
    if (db.inTransaction) rollback.run();
    for (const w of lost) w.reject(error);
  };

  const enter = () => {
    if (open) {
      if (db.inTransaction) return;
      // SQLite rolled the transaction back by itself (an I/O or full-disk error in a statement).
      abandon(collateral('SQLite rolled the transaction back after an error'));
    }
    begin.run();
    open = true;
    writes = 0;
    if (!scheduled) {
      scheduled = true;
      setImmediate(endOfTurn);
    }
  };

  const endOfTurn = () => {
    scheduled = false;
    flush();
  };

  /** Commits the open transaction; returns the error its waiters were rejected with, if it failed. */
  function flush(): { error: unknown } | undefined {
    if (!open) return undefined;
    open = false;
    units.clear();
    const batch = waiters;
    waiters = [];
    try {
      if (!db.inTransaction) throw collateral('SQLite rolled the transaction back after an error');
      commit.run();
    } catch (error) {
      if (db.inTransaction) rollback.run();
      const wrapped = wrapError(error);
      for (const w of batch) w.reject(wrapped);
      return { error: wrapped };
    }
    committed?.();
    for (const w of batch) w.resolve(w.value);
    return undefined;
  }

  const member = {
    share(value: boolean) {
      eager = value;
      if (value) flush();
    },
  };
  if (file !== null) {
    const peers = byFile.get(file) ?? new Set();
    byFile.set(file, peers.add(member));
    for (const peer of peers) peer.share(peers.size > 1);
  }

  const run = <T>(fn: () => T): T => {
    enter();
    writes++;
    try {
      return fn();
    } catch (error) {
      abandon(collateral(`another write of the same transaction failed (${(error as Error).message})`));
      throw error;
    }
  };

  return {
    write<T>(fn: (quiet?: unknown) => T, unit?: string): T | Promise<T> {
      const opened = unit === undefined ? undefined : units.get(unit);
      const quiet = opened !== undefined && opened.at === writes && open ? opened.note : undefined;
      let value: T;
      try {
        value = run(() => fn(quiet));
      } finally {
        if (unit !== undefined) units.delete(unit);
      }
      if (eager || (unit !== undefined && units.size === 0)) {
        // Commits now, with every other write waiting in this turn's transaction.
        const failed = flush();
        if (failed) throw failed.error;
        return value;
      }
      return new Promise<T>((resolve, reject) => {
        waiters.push({ resolve: resolve as (value: unknown) => void, reject, value });
      });
    },
    open<T>(unit: string, fn: () => T, opens: (result: T) => boolean, note?: unknown): T {
      const value = run(fn);
      if (!eager && opens(value)) units.set(unit, { at: writes, note });
      else if (eager || (units.size === 0 && waiters.length === 0)) flush();
      return value;
    },
    join<T>(fn: () => T): T {
      if (eager) return fn();
      // A read: it does not count as a write between a unit's open and its commit.
      const before = writes;
      const value = run(fn);
      writes = before;
      return value;
    },
    close() {
      flush();
      if (file === null) return;
      const peers = byFile.get(file);
      peers?.delete(member);
      if (!peers?.size) byFile.delete(file);
      else for (const peer of peers) peer.share(peers.size > 1);
    },
  };
}

function collateral(reason: string): ChatstateError {
  return new ChatstateError(
    'STORE_UNAVAILABLE',
    `${reason}, so the SQLite transaction shared by this event-loop turn was rolled back and this write was not applied; retry it.`,
    { component: 'sqlite' },
  );
}
