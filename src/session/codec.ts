import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { ChatstateError } from '../errors.js';

/**
 * Turns plain values into bytes and back. Sessions use a positional (array) wire form, so the
 * codec never repeats field names: see wire.ts.
 */
export interface Codec {
  readonly name: CodecName;
  encode(value: unknown): Uint8Array;
  /**
   * The encoding of `value` after one free leading byte (the frame tag of a stored body: frame.ts).
   * msgpack writes it in place, which saves a copy into a fresh array on every commit.
   */
  encodeAfterByte(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export type CodecName = 'msgpack' | 'json';

// Records (msgpackr's shared structures) would make bytes depend on process state; plain maps keep
// every process able to read every other process's sessions.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

const msgpack: Codec = {
  name: 'msgpack',
  encode: (value) => packr.pack(value),
  // The returned bytes are a view of msgpackr's buffer that later packs never overwrite.
  encodeAfterByte: (value) => packr.pack(value, RESERVE_START_SPACE | 1),
  decode: (bytes) => packr.unpack(bytes),
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const json: Codec = {
  name: 'json',
  encode: (value) => encoder.encode(JSON.stringify(value)),
  encodeAfterByte(value) {
    const text = encoder.encode(JSON.stringify(value));
    const out = new Uint8Array(text.length + 1);
    out.set(text, 1);
    return out;
  },
  decode: (bytes) => JSON.parse(decoder.decode(bytes)),
};

export function codecByName(name: string): Codec {
  if (name === 'msgpack') return msgpack;
  if (name === 'json') return json;
  throw new ChatstateError(
    'CODEC_UNKNOWN',
    `unknown codec "${name}": use "msgpack" (default, smaller) or "json".`,
    {
      component: 'codec',
    },
  );
}
