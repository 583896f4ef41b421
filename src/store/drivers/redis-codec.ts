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
  channel: string;
}

/** ARGV of commit.lua (its header documents every position). */
export function commitArgs(req: CommitRequest, o: CommitArgOptions): ScriptArg[] {
  const change = req.change;
  if (change && change.kind !== 'fields') throw new TypeError('the redis driver stores fields, not blobs');
  const args: ScriptArg[] = [
    String(req.expectVersion),
    req.leaseToken === undefined ? '' : String(req.leaseToken),
    req.release ? '1' : '0',
    req.claim ? String(Math.max(1, Math.ceil(req.claim.ttlMs))) : '',
    change ? '1' : '0',
    change?.patch.reset ? '1' : '0',
    change?.expiresAt == null ? '' : String(change.expiresAt),
    change?.expiresAt == null ? '' : String(change.expiresAt + o.graceMs),
    String(change?.patch.historyLimit ?? 0),
    o.channel,
    req.key,
  ];
  if (!change) return [...args, '0', '0', '0', '0'];
  const { set, del, incr, push } = change.patch;
  const setEntries = Object.entries(set);
  const incrEntries = Object.entries(incr);
  args.push(String(setEntries.length), String(del.length), String(incrEntries.length), String(push.length));
  for (const [name, value] of setEntries) args.push(name, buf(value));
  for (const name of del) args.push(name);
  for (const [name, by] of incrEntries) args.push(name, String(by));
  for (const entry of push) args.push(buf(entry));
  return args;
}

export type BeginReply =
  | { kind: 'duplicate' }
  | { kind: 'busy'; pttl: number }
  | { kind: 'ok'; token: number; record: StoredFields | null };

/** Decodes begin.lua's reply. A key of the wrong type becomes a record that will not decode. */
export function decodeBegin(reply: unknown): BeginReply {
  const r = reply as unknown[];
  if (r[0] === 0) return { kind: 'duplicate' };
  if (r[0] === 1) return { kind: 'busy', pttl: Number(r[1]) };
  const token = Number(r[1]);
  if (r.length < 3) return { kind: 'ok', token, record: null };
  return { kind: 'ok', token, record: toRecord(text(r[2]), r[3] as Buffer[], text(r[4]), r[5] as Buffer[]) };
}

function toRecord(
  hashType: string,
  flat: Buffer[],
  historyType: string,
  history: Buffer[],
): StoredFields | null {
  if (hashType === 'none') return null; // a history list without its hash is ignored (and cleared by the next commit)
  const fields: Record<string, string | Uint8Array> = {};
  if (hashType !== 'hash') {
    // The store quarantines this: the version check in decodeFields refuses it.
    fields['!type'] = hashType;
    if (flat[0] !== undefined) fields['!value'] = readable(flat[0]);
    return { version: Number.NaN, expiresAt: null, fields, history: [] };
  }
  for (let i = 0; i + 1 < flat.length; i += 2) fields[text(flat[i])] = flat[i + 1] as Buffer;
  const version = integer(fields.v);
  const expiresRaw = fields.e;
  const expiresAt = expiresRaw === undefined ? null : integer(expiresRaw);
  const bad = historyType !== 'list' && historyType !== 'none';
  if (bad) fields['!history'] = historyType;
  return {
    version: bad || expiresAt === -1 ? Number.NaN : version,
    expiresAt: expiresAt === -1 ? null : expiresAt,
    fields,
    history: historyType === 'list' ? history : [],
  };
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
