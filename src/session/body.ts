import type { StoredBlob } from '../store/contract.js';
import type { Codec, CodecName } from './codec.js';
import { codecByName } from './codec.js';
import { deflate, inflate, readFrame, tagFrame, writeFrame } from './frame.js';
import type { Session } from './types.js';
import { fromWire, toWire, WireShapeError } from './wire.js';

export interface Encoded {
  body: Uint8Array;
  size: number;
}

/** Encodes session bodies for blob stores: positional wire form, codec, optional deflate, one tag byte. */
export class BodyEncoding {
  readonly codec: Codec;
  readonly #compressAbove: number;

  constructor(codec: Codec, compressAbove: number) {
    this.codec = codec;
    this.#compressAbove = compressAbove;
  }

  /**
   * `size` is the uncompressed encoded size: the figure the size cap applies to. Synchronous
   * unless the body is compressed (CompressionStream is asynchronous): most sessions are under the
   * threshold, and a synchronous store then commits without an event-loop hop.
   */
  encode(session: Session): Encoded | Promise<Encoded> {
    const framed = this.codec.encodeAfterByte(toWire(session));
    const size = framed.length - 1;
    if (size <= this.#compressAbove) return { body: tagFrame(this.codec.name, false, framed), size };
    const payload = framed.subarray(1);
    return deflate(payload).then((packed) => {
      // Keep the plain form when deflate does not pay for itself (already dense data).
      const body =
        packed.length < payload.length
          ? writeFrame(this.codec.name, true, packed)
          : tagFrame(this.codec.name, false, framed);
      return { body, size };
    });
  }

  /**
   * Decodes a stored body; throws (or, for a compressed body, rejects with) WireShapeError for
   * bytes that are not a chatstate session. Synchronous unless the body is compressed.
   */
  decode(id: string, stored: StoredBlob): Session | Promise<Session> {
    const frame = readFrame(stored.body);
    if (!frame) throw new WireShapeError('unknown frame tag (not written by chatstate)');
    if (!frame.compressed) return this.#fromPayload(id, frame.codec, frame.payload, stored);
    return inflate(frame.payload).then(
      (payload) => this.#fromPayload(id, frame.codec, payload, stored),
      () => {
        throw new WireShapeError('compressed body does not inflate');
      },
    );
  }

  #fromPayload(id: string, codec: CodecName, payload: Uint8Array, stored: StoredBlob): Session {
    let wire: unknown;
    try {
      // A store may hold bodies written with the other codec (codec switched with data in place).
      wire = (codec === this.codec.name ? this.codec : codecByName(codec)).decode(payload);
    } catch (error) {
      throw new WireShapeError(`body does not decode as ${codec}: ${(error as Error).message}`);
    }
    return fromWire(id, wire, stored);
  }

  /** Uncompressed encoded size of a session, used for the size cap of field stores. */
  sizeOf(session: Session): number {
    return this.codec.encode(toWire(session)).length;
  }
}
