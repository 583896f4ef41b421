import { describe, expect, it } from 'vitest';
import { BodyEncoding } from '../../src/session/body.js';
import { codecByName } from '../../src/session/codec.js';
import { emptySession } from '../../src/session/patch.js';
import type { Session } from '../../src/session/types.js';
import { WireShapeError } from '../../src/session/wire.js';

const seed: Session = {
  ...emptySession('12025550123', 1715602400000, 2),
  flow: 'onboarding_v2',
  node: 'awaiting_email',
  vars: { name: 'John Doe' },
  retries: 1,
  version: 1,
  expiresAt: 1715688800000,
};
const meta = { version: 1, expiresAt: 1715688800000 };

describe('session body encoding', () => {
  for (const name of ['msgpack', 'json'] as const) {
    it(`${name} round-trips a session exactly`, async () => {
      const enc = new BodyEncoding(codecByName(name), 1024);
      const withHistory: Session = {
        ...seed,
        history: [
          { dir: 'in', at: 1, text: 'olá 😀' },
          { dir: 'out', at: 2, media: { kind: 'document', id: 'M1', mime: 'application/pdf', caption: 'c' } },
        ],
      };
      const { body } = await enc.encode(withHistory);
      expect(await enc.decode(seed.id, { ...meta, body })).toEqual(withHistory);
    });
  }

  it('msgpack keeps the seed session small', async () => {
    const { size } = await new BodyEncoding(codecByName('msgpack'), 1024).encode(seed);
    const { size: jsonSize } = await new BodyEncoding(codecByName('json'), 1024).encode(seed);
    expect(size).toBeLessThan(80);
    expect(size).toBeLessThan(jsonSize);
  });

  it('compresses bodies above the threshold and reads them back', async () => {
    const enc = new BodyEncoding(codecByName('msgpack'), 256);
    const big = { ...seed, vars: { text: 'abc '.repeat(500) } };
    const { body, size } = await enc.encode(big);
    expect(size).toBeGreaterThan(2000);
    expect(body.length).toBeLessThan(200);
    expect(body[0]).toBe(0x81);
    expect(await enc.decode(seed.id, { ...meta, body })).toEqual(big);
  });

  it('rejects bytes that are not a session with WireShapeError', async () => {
    const enc = new BodyEncoding(codecByName('msgpack'), 1024);
    const bad = [
      new Uint8Array([]),
      new Uint8Array([0x07, 1, 2]),
      new Uint8Array([0x01, 0xc1]),
      new Uint8Array([0x81, 1, 2, 3]),
    ];
    // decode throws for a plain body and rejects for a compressed one (0x81: deflate flag set).
    const decode = (body: Uint8Array) => Promise.resolve().then(() => enc.decode('x', { ...meta, body }));
    for (const body of bad) await expect(decode(body)).rejects.toBeInstanceOf(WireShapeError);
    expect(() => enc.decode('x', { ...meta, body: new Uint8Array([0x07]) })).toThrow(WireShapeError);
    const notSession = codecByName('msgpack').encode({ hello: 'world' });
    await expect(decode(new Uint8Array([0x01, ...notSession]))).rejects.toBeInstanceOf(WireShapeError);
  });

  it('unknown codec names fail with CODEC_UNKNOWN', () => {
    expect(() => codecByName('xml')).toThrow(expect.objectContaining({ code: 'CODEC_UNKNOWN' }));
  });
});
