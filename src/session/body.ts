import type { StoredBlob } from '../store/contract.js';
import type { Codec } from './codec.js';
import { codecByName } from './codec.js';
import { deflate, inflate, readFrame, writeFrame } from './frame.js';
import type { Session } from './types.js';
import { fromWire, toWire, WireShapeError } from './wire.js';

/** Encodes session bodies for blob stores: positional wire form, codec, optional deflate, one tag byte. */
export class BodyEncoding {
  readonly codec: Codec;
  readonly #compressAbove: number;

  constructor(codec: Codec, compressAbove: number) {
    this.codec = codec;
    this.#compressAbove = compressAbove;
  }

  /** `size` is the uncompressed encoded size: the figure the size cap applies to. */
  async encode(session: Session): Promise<{ body: Uint8Array; size: number }> {
    const payload = this.codec.encode(toWire(session));
    if (payload.length <= this.#compressAbove) {
      return { body: writeFrame(this.codec.name, false, payload), size: payload.length };
    }
    const packed = await deflate(payload);
    // Keep the plain form when deflate does not pay for itself (already dense data).
    const compressed = packed.length < payload.length;
    return {
      body: writeFrame(this.codec.name, compressed, compressed ? packed : payload),
      size: payload.length,
    };
  }

  /** Decodes a stored body; throws WireShapeError for bytes that are not a chatstate session. */
  async decode(id: string, stored: StoredBlob): Promise<Session> {
    const frame = readFrame(stored.body);
    if (!frame) throw new WireShapeError('unknown frame tag (not written by chatstate)');
    let payload = frame.payload;
    if (frame.compressed) {
      try {
        payload = await inflate(payload);
      } catch {
        throw new WireShapeError('compressed body does not inflate');
      }
    }
    let wire: unknown;
    try {
      // A store may hold bodies written with the other codec (codec switched with data in place).
      wire = (frame.codec === this.codec.name ? this.codec : codecByName(frame.codec)).decode(payload);
    } catch (error) {
      throw new WireShapeError(`body does not decode as ${frame.codec}: ${(error as Error).message}`);
    }
    return fromWire(id, wire, stored);
  }

  /** Uncompressed encoded size of a session, used for the size cap of field stores. */
  sizeOf(session: Session): number {
    return this.codec.encode(toWire(session)).length;
  }
}
