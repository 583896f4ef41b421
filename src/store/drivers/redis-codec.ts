import type { CommitRequest, StoredFields } from '../contract.js';
import type { ScriptArg } from './redis-scripts.js';

/**
 * Encoding of script arguments and decoding of script replies. Field values stay Buffers: a
 * session never needs them as JS strings until decodeFields, which also rejects invalid UTF-8.
 */

const text = (b: unknown): string => (Buffer.isBuffer(b) ? b.toString('utf8') : String(b));
const buf = (v: string | Uint8Array): ScriptArg =>
  typeof v === 'string' ? v : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

export interface CommitArgOptions {
  /** Extra lifetime of the keys after the session's own expiry (see RedisDriverOptions.expiredGraceMs). */
  graceMs: number;
  /** Change-event channel, '' for none. */
  channel: string;
}

const NO_CHANGE = ['', '0', '', '0', '0'];
const NO_PATCH = ['0', '0', '0'];

/**
 * ARGV of commit.lua (its header documents every position). `writer`: the `w` the caller's copy
 * carries, checked by the script ('' for no check).
 */
export function commitArgs(req: CommitRequest, o: CommitArgOptions, writer = ''): ScriptArg[] {
  const change = req.change;
  const head: ScriptArg[] = [
    String(req.expectVersion),
    req.leaseToken === undefined ? '' : String(req.leaseToken),
    req.release ? '1' : '0',
    req.claim ? String(Math.max(1, Math.ceil(req.claim.ttlMs))) : '',
  ];
  if (!change) return head.concat(NO_CHANGE, o.channel, '', NO_PATCH, '');
  if (change.kind !== 'fields') throw new TypeError('the redis driver stores fields, not blobs');
  const { set, del, incr, push, reset, historyLimit } = change.patch;
  const version = String(req.expectVersion + 1);
  const args = head;
  args.push(
    version,
    reset ? '1' : '0',
    change.expiresAt == null ? '' : String(change.expiresAt + o.graceMs),
    String(historyLimit),
    String(push.length),
    o.channel,
    // The event's JSON up to its version (the script appends the version and the type).
    o.channel === '' ? '' : `{"key":${JSON.stringify(req.key)},"version":`,
  );
  const counts = args.length;
  // `v` and `w` are not sent as pairs: commit.lua writes them from ARGV[5] and ARGV[2]. With the
  // version, the writer's fencing token (under a lease) identifies this content for the session
  // copy of whichever process keeps one (docs/redis.md, "Session copies").
  args.push('', String(del.length), '', writer);
  let nSet = 0;
  for (const name in set) {
    args.push(name, buf(set[name] as string | Uint8Array));
    nSet++;
  }
  for (const name of del) args.push(name);
  let nIncr = 0;
  for (const name in incr) {
    args.push(name, String(incr[name]));
    nIncr++;
  }
  for (const entry of push) args.push(buf(entry));
  args[counts] = String(nSet);
  args[counts + 2] = String(nIncr);
  return args;
}

export type BeginReply =
  | { kind: 'duplicate' }
  | { kind: 'busy'; pttl: number }
  | { kind: 'ok'; token: number; record: StoredFields | null }
  /** The lease was taken and the stored session is still the copy the caller validated. */
  | { kind: 'unchanged'; token: number };

/**
 * Decodes begin.lua's reply. The session's expiresAt is the hash's expiry minus the grace the
 * commit added. A key of the wrong type becomes a record that will not decode.
 */
export function decodeBegin(reply: unknown, graceMs: number): BeginReply {
  const r = reply as unknown[];
  const code = r[0] as number;
  if (code === 0) return { kind: 'duplicate' };
  if (code === 1) return { kind: 'busy', pttl: Number(r[1]) };
  // A token is a decimal string (16 digits: exact as a number), no lease the integer 0.
  const token = typeof r[1] === 'number' ? r[1] : Number(text(r[1]));
  if (code === 4) return { kind: 'unchanged', token };
  if (code === 2) {
    if (r.length === 2) return { kind: 'ok', token, record: null };
    const expiry = r[2] as number;
    return {
      kind: 'ok',
      token,
      record: toRecord(r[3] as Buffer[], r[4] as Buffer[], expiry < 0 ? null : expiry - graceMs),
    };
  }
  return { kind: 'ok', token, record: wrongType(text(r[2]), r[3] as Buffer[], text(r[4])) };
}

function toRecord(flat: Buffer[], history: Buffer[], expiresAt: number | null): StoredFields {
  const fields: Record<string, string | Uint8Array> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[(flat[i] as Buffer).toString()] = flat[i + 1] as Buffer;
  return { version: integer(fields.v), expiresAt, fields, history };
}

/** Keys of another type under a session's names: the store quarantines this (its version never decodes). */
function wrongType(hashType: string, flat: Buffer[], historyType: string): StoredFields {
  if (hashType === 'hash') {
    const record = toRecord(flat, [], null);
    record.fields['!history'] = historyType;
    return { ...record, version: Number.NaN };
  }
  const fields: Record<string, string | Uint8Array> = { '!type': hashType };
  if (flat[0] !== undefined) fields['!value'] = readable(flat[0]);
  return { version: Number.NaN, expiresAt: null, fields, history: [] };
}

/** Text when the bytes are UTF-8 (a readable quarantine record), the bytes otherwise. */
function readable(b: Buffer): string | Buffer {
  const s = b.toString('utf8');
  return Buffer.byteLength(s) === b.length && Buffer.from(s).equals(b) ? s : b;
}

/** A positive decimal integer field, or -1 (NaN for the version) when it is anything else. */
function integer(raw: string | Uint8Array | undefined): number {
  if (raw === undefined) return Number.NaN;
  const s = text(raw);
  return /^[1-9][0-9]{0,15}$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : -1;
}
