import { ChatstateError, isChatstateError } from '../../errors.js';
import type { BeginRequest, BeginResult, CommitRequest, CommitResult, LeaseGrant } from '../contract.js';
import {
  EXPIRE_NOW,
  exptime,
  itemKey,
  packLease,
  packQuarantine,
  packSession,
  SESSION_HEADER_BYTES,
  transitionClaimKey,
  unpackLease,
  unpackQuarantine,
  unpackSession,
} from './memcached-codec.js';
import { createClient, MemcachedNode, parseMemcachedUrl, pingAll } from './memcached-conn.js';
import {
  MEMCACHED_WARNINGS,
  type MemcachedDriver,
  type MemcachedDriverOptions,
  type MemcachedMetrics,
  memcachedCapabilities,
} from './memcached-options.js';
import { commitSection, memcachedOutbox } from './memcached-outbox.js';
import { HashRing } from './memcached-ring.js';

export type { MemcachedDriver, MemcachedDriverOptions, MemcachedMetrics } from './memcached-options.js';
export { MEMCACHED_WARNINGS } from './memcached-options.js';

const DAY = 86_400_000;
// A busy lease whose recorded expiry has passed was extended with `touch`; look again this soon.
const BUSY_RECHECK_MS = 20;
const EMPTY = Buffer.alloc(0);

/**
 * Sessions, leases and claims on one or more memcached servers (`model: 'blob'`). A transition costs
 * three round trips, all on the user's server: begin = `add` lease + one `gets` of lease, session and
 * claim, pipelined; commit = `gets` lease and session (fencing and version check), then `cas` session +
 * `add` claim, pipelined; the lease release follows as a `noreply` CAS. See docs/memcached.md.
 */
export function memcachedDriver(options: MemcachedDriverOptions): MemcachedDriver {
  const timeoutMs = options.timeoutMs ?? 1000;
  const graceMs = options.expiredGraceMs ?? 60_000;
  const quarantineTtlMs = options.quarantineTtlMs ?? 30 * DAY;
  const casRetries = options.casRetries ?? 3;
  const make = options.createClient ?? ((server: string) => createClient(server, timeoutMs));
  const ring = new HashRing(options.servers);
  const nodes = new Map(options.servers.map((server) => [server, new MemcachedNode(server, make(server))]));
  const counters = { roundTrips: 0, casRetries: 0 };
  const capabilities = memcachedCapabilities(options.itemSizeMax);
  let closed = false;
  // Fencing tokens: clock-based so they keep increasing after a lease item expired or was evicted,
  // and never below a token this process has seen, so they increase across processes too.
  let lastToken = 0;
  const nextToken = (now: number) => (lastToken = Math.max(lastToken + 1, Math.floor(now) * 1000));
  const observe = (lease: { token: number } | null) => {
    if (lease && lease.token > lastToken) lastToken = lease.token;
  };

  const nodeFor = (routingKey: string) => nodes.get(ring.serverFor(routingKey)) as MemcachedNode;
  // Everything passed in is already sent (pipelined on its server's socket); this waits once.
  const roundTrip = <T extends readonly unknown[] | []>(work: T) => {
    counters.roundTrips++;
    return Promise.all(work);
  };
  const assertOpen = () => {
    if (closed)
      throw new ChatstateError('STORE_CLOSED', 'the memcached store is closed.', { component: 'memcached' });
  };
  const versionOf = (item: { value: Buffer } | undefined) => (item ? unpackSession(item.value).version : 0);
  // Memcached drops the session a grace period after its expiry (see expiredGraceMs).
  const sessionExptime = (expiresAt: number | null, now: number) =>
    expiresAt === null ? 0 : exptime(Math.max(0, expiresAt - now) + graceMs);

  async function begin(req: BeginRequest): Promise<BeginResult> {
    assertOpen();
    const node = nodeFor(req.key);
    const sKey = itemKey('s', req.key);
    const lKey = itemKey('l', req.key);
    const tKey = req.claimKey === undefined ? undefined : transitionClaimKey(req.key, req.claimKey);
    const grant: LeaseGrant | null = req.lease
      ? { token: nextToken(req.now), expiresAt: req.now + req.lease.ttlMs }
      : null;
    // Pipelined on the user's socket: add the lease, then one gets of lease, session and claim, which
    // therefore shows who holds the lease after the add. The claim is only checked here: commit
    // records it, so a failed handler does not consume it.
    const added =
      grant && req.lease
        ? node.store('add', lKey, packLease(grant.token, grant.expiresAt), exptime(req.lease.ttlMs))
        : false;
    const read = node.gets([...(grant ? [lKey] : []), sKey, ...(tKey ? [tKey] : [])]);
    const [took, items] = await roundTrip([added, read]).catch(async (error: unknown) => {
      // The add may have landed while the read failed: give the lease back rather than block the user.
      if (grant && (await Promise.resolve(added).catch(() => false)))
        void releaseLease(req.key, grant.token).catch(() => {});
      throw error;
    });
    const leaseItem = items.get(lKey);
    const holder = unpackLease(leaseItem?.value);
    observe(holder);
    if (tKey && items.has(tKey)) {
      if (took && leaseItem && holder?.token === grant?.token) {
        node.storeNoReply('cas', lKey, EMPTY, EXPIRE_NOW, leaseItem.cas);
      }
      return { status: 'duplicate' };
    }
    if (grant && !took) {
      return { status: 'busy', leaseExpiresAt: Math.max(holder?.expiresAt ?? 0, req.now + BUSY_RECHECK_MS) };
    }
    const session = items.get(sKey);
    return { status: 'ok', lease: grant, record: session ? unpackSession(session.value) : null };
  }

  async function commit(req: CommitRequest): Promise<CommitResult> {
    assertOpen();
    const node = nodeFor(req.key);
    const sKey = itemKey('s', req.key);
    const lKey = itemKey('l', req.key);
    const fenced = req.leaseToken !== undefined;
    // Fencing and version check in one gets; the CAS below makes the version check atomic with the
    // write. Memcached has no multi-key transaction, so the lease check is not (docs/memcached.md).
    const claim = req.claim;
    const tKey = claim ? transitionClaimKey(req.key, claim.key) : undefined;
    // Replies: the user's index line is appended before the CAS below, in this same round trip.
    const listed = req.outbox?.length ? outbox.listUser(req.key, req.now) : true;
    const [items] = await roundTrip([
      node.gets([...(fenced ? [lKey] : []), sKey, ...(tKey ? [tKey] : [])]),
      listed,
    ]);
    // Claimed since begin: another worker processed this message; the store's retry reports a duplicate.
    if (tKey && items.has(tKey)) return { status: 'conflict' };
    const leaseItem = items.get(lKey);
    if (fenced) {
      const held = unpackLease(leaseItem?.value);
      observe(held);
      if (held?.token !== req.leaseToken) return { status: 'lease_lost' };
    }
    let current = items.get(sKey);
    if (versionOf(current) !== req.expectVersion) return { status: 'conflict' };
    const recordClaim = () => (claim && tKey ? node.store('add', tKey, EMPTY, exptime(claim.ttlMs)) : false);
    let version = req.expectVersion;
    if (!req.change && req.outbox?.length) throw new TypeError('memcached: replies come with a change');
    if (req.change) {
      if (req.change.kind !== 'blob') throw new TypeError('memcached driver stores blobs');
      version += 1;
      const { body, expiresAt } = req.change;
      const ttl = sessionExptime(expiresAt, req.now);
      // Pending replies live in the session value: the stored ones are carried over, the new added.
      const valueFor = (item: typeof current) => {
        const value = packSession(
          version,
          expiresAt,
          body,
          commitSection(item?.value, req.key, req.outbox, req.now),
        );
        if (value.length > (capabilities.maxValueBytes ?? Number.POSITIVE_INFINITY) + SESSION_HEADER_BYTES)
          tooLarge(req.key, value.length);
        return value;
      };
      const write = (item: typeof current) =>
        item
          ? node.store('cas', sKey, valueFor(item), ttl, item.cas)
          : node.store('add', sKey, valueFor(item), ttl);
      // Write and claim go out together (one round trip); the claim is taken back if the write loses.
      let [written, claimAdded] = await roundTrip([write(current), recordClaim()]);
      for (let retry = 0; !written && retry < casRetries; retry++) {
        // A new version means another writer won: a conflict. The same version means the item changed
        // some other way (re-stored, evicted and re-added): try the CAS again, a bounded number of times.
        const [again] = await roundTrip([node.gets([sKey])]);
        current = again.get(sKey);
        if (versionOf(current) !== req.expectVersion) break;
        counters.casRetries++;
        [written] = await roundTrip([write(current)]);
      }
      if (!written) {
        if (claimAdded && tKey) await roundTrip([node.delete(tKey)]);
        return { status: 'conflict' };
      }
    } else if (claim) {
      await roundTrip([recordClaim()]);
    }
    // Sent after the write and the claim were acknowledged, so whoever takes the lease next sees both.
    // `noreply`: nobody waits for it, and the next command on this socket follows it.
    if (req.release && fenced && leaseItem) node.storeNoReply('cas', lKey, EMPTY, EXPIRE_NOW, leaseItem.cas);
    return { status: 'ok', version };
  }

  const outbox = memcachedOutbox({
    nodeFor,
    roundTrip,
    casRetries,
    retentionMs: options.outboxRetentionMs ?? 7 * DAY,
    indexGraceMs: options.outboxIndexGraceMs ?? 60_000,
    graceMs,
    maxValueBytes: capabilities.maxValueBytes ?? 1_048_576,
  });

  async function readLease(key: string) {
    const [items] = await roundTrip([nodeFor(key).gets([itemKey('l', key)])]);
    const item = items.get(itemKey('l', key));
    const lease = unpackLease(item?.value);
    observe(lease);
    return item && lease ? { ...lease, cas: item.cas } : null;
  }

  async function releaseLease(key: string, token: number): Promise<boolean> {
    assertOpen();
    const lease = await readLease(key);
    if (lease?.token !== token) return false;
    // A CAS store that expires at once is the text protocol's compare-and-delete.
    const [released] = await roundTrip([
      nodeFor(key).store('cas', itemKey('l', key), EMPTY, EXPIRE_NOW, lease.cas),
    ]);
    return released;
  }

  return {
    name: 'memcached',
    capabilities,
    warnings: [...MEMCACHED_WARNINGS],
    servers: ring.servers,
    get metrics(): MemcachedMetrics {
      let requests = 0;
      let noReplies = 0;
      for (const node of nodes.values()) {
        requests += node.requests;
        noReplies += node.noReplies;
      }
      return { roundTrips: counters.roundTrips, requests, noReplies, casRetries: counters.casRetries };
    },
    serverFor: (key) => ring.serverFor(key),
    // Pending replies inside the session value, finished ones in items with a TTL (memcached-outbox.ts).
    outbox: {
      pending: (before, limit) => (assertOpen(), outbox.pending(before, limit)),
      update: (id, change, now) => (assertOpen(), outbox.update(id, change, now)),
      byProviderId: (providerId) => (assertOpen(), outbox.byProviderId(providerId)),
      forUser: (user, limit) => (assertOpen(), outbox.forUser(user, limit)),
    },
    begin,
    commit,

    async load(key) {
      assertOpen();
      const [items] = await roundTrip([nodeFor(key).gets([itemKey('s', key)])]);
      const item = items.get(itemKey('s', key));
      return item ? unpackSession(item.value) : null;
    },

    async claim(key, ttlMs) {
      assertOpen();
      const [added] = await roundTrip([nodeFor(key).store('add', itemKey('c', key), EMPTY, exptime(ttlMs))]);
      return added;
    },

    async acquireLease(key, ttlMs, now) {
      assertOpen();
      const grant = { token: nextToken(now), expiresAt: now + ttlMs };
      const [added] = await roundTrip([
        nodeFor(key).store('add', itemKey('l', key), packLease(grant.token, grant.expiresAt), exptime(ttlMs)),
      ]);
      return added ? grant : null;
    },

    async extendLease(key, token, ttlMs) {
      assertOpen();
      const lease = await readLease(key);
      if (lease?.token !== token) return false;
      // `touch` keeps the CAS value, so a commit that read the lease before this still releases it.
      const [touched] = await roundTrip([nodeFor(key).touch(itemKey('l', key), exptime(ttlMs))]);
      return touched;
    },

    releaseLease,

    async delete(key) {
      assertOpen();
      const [deleted] = await roundTrip([nodeFor(key).delete(itemKey('s', key))]);
      return deleted;
    },

    async quarantine(key, raw, reason, now) {
      assertOpen();
      const node = nodeFor(key);
      const qKey = itemKey('q', key);
      const sKey = itemKey('s', key);
      const record = packQuarantine({ at: now, reason, raw });
      // Append to the session's quarantine item, or create it; `append` keeps earlier records.
      let [kept, items] = await roundTrip([node.store('append', qKey, record, 0), node.gets([sKey])]);
      if (!kept) [kept] = await roundTrip([node.store('add', qKey, record, exptime(quarantineTtlMs))]);
      if (!kept) await roundTrip([node.store('append', qKey, record, 0)]);
      // Delete the session only if it still holds the bytes that failed: a writer may have replaced it.
      const session = items.get(sKey);
      if (session && Buffer.from(unpackSession(session.value).body).equals(raw)) {
        await roundTrip([node.store('cas', sKey, EMPTY, EXPIRE_NOW, session.cas)]);
      }
    },

    async quarantined(key) {
      assertOpen();
      const [items] = await roundTrip([nodeFor(key).gets([itemKey('q', key)])]);
      const item = items.get(itemKey('q', key));
      return item ? unpackQuarantine(item.value) : [];
    },

    async ping() {
      assertOpen();
      counters.roundTrips++;
      await pingAll([...nodes.values()]);
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const node of nodes.values()) node.close();
    },
  };
}

function tooLarge(key: string, size: number): never {
  throw new ChatstateError(
    'SESSION_TOO_LARGE',
    `session ${key} with its pending replies would be a ${size}-byte memcached item, over the item limit: nothing was stored. Deliver or shorten replies, or raise memcached -I (itemSizeMax).`,
    { component: 'memcached', details: { size } },
  );
}

/**
 * Opens the driver for a `memcached://host:port[,host:port...]` URL and checks every server answers,
 * so a wrong host or a stopped server fails at startup (STORE_OPEN_FAILED) instead of on the first message.
 */
export async function openMemcached(
  url: string,
  options: Omit<MemcachedDriverOptions, 'servers'> = {},
): Promise<MemcachedDriver> {
  const parsed = parseMemcachedUrl(url);
  const driver = memcachedDriver({
    ...options,
    servers: parsed.servers,
    ...(parsed.timeoutMs === undefined ? {} : { timeoutMs: parsed.timeoutMs }),
  });
  try {
    await driver.ping();
  } catch (error) {
    await driver.close();
    const failures = (isChatstateError(error) && (error.details?.failures as string[] | undefined)) || [
      String(error),
    ];
    throw new ChatstateError(
      'STORE_OPEN_FAILED',
      `cannot reach memcached for ${url}: ${failures.join('; ')}. Check that memcached is running and listening on that host and port (memcached -l <address> -p <port>), that no firewall blocks it, and that the URL names the right servers.`,
      { component: 'memcached', cause: error, details: (error as ChatstateError).details },
    );
  }
  return driver;
}
