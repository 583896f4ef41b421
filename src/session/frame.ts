import type { CodecName } from './codec.js';

/**
 * Stored session bytes start with one tag byte: which codec wrote them and whether the rest is
 * deflate-compressed. A store can switch codec or compression threshold with data in place.
 */
const TAG_MSGPACK = 0x01;
const TAG_JSON = 0x02;
const FLAG_DEFLATE = 0x80;

export interface Frame {
  codec: CodecName;
  compressed: boolean;
  payload: Uint8Array;
}

export function writeFrame(codec: CodecName, compressed: boolean, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out.set(payload, 1);
  return tagFrame(codec, compressed, out);
}

/** Writes the tag into the free first byte of `bytes` (Codec.encodeAfterByte) and returns them. */
export function tagFrame(codec: CodecName, compressed: boolean, bytes: Uint8Array): Uint8Array {
  bytes[0] = (codec === 'msgpack' ? TAG_MSGPACK : TAG_JSON) | (compressed ? FLAG_DEFLATE : 0);
  return bytes;
}

/** Returns null for bytes no chatstate version wrote. */
export function readFrame(bytes: Uint8Array): Frame | null {
  const tag = bytes[0];
  if (tag === undefined) return null;
  const base = tag & ~FLAG_DEFLATE;
  if (base !== TAG_MSGPACK && base !== TAG_JSON) return null;
  return {
    codec: base === TAG_MSGPACK ? 'msgpack' : 'json',
    compressed: (tag & FLAG_DEFLATE) !== 0,
    payload: bytes.subarray(1),
  };
}

// CompressionStream is Web-standard (Node, Deno, Bun, Workers), so compression needs no Node import.
// It is asynchronous, which is acceptable because only sessions above the threshold pay for it.
export async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new CompressionStream('deflate'));
}

export async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new DecompressionStream('deflate'));
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}
