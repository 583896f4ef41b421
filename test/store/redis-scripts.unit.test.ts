import { describe, expect, it } from 'vitest';
import { EvalSha } from '../../src/store/drivers/redis-scripts.js';

// The EVALSHA request the driver writes itself (redis-scripts.ts): byte for byte the RESP that
// encoding each argument on its own gives, whatever the argument holds.
function reference(sha: string, keys: string[], args: Array<string | Buffer>): Buffer {
  const parts = ['evalsha', sha, String(keys.length), ...keys, ...args].map((arg) => {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
    return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);
  });
  return Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts]);
}

const written = (command: EvalSha) => command.toWritable();

describe('EvalSha request encoding', () => {
  const sha = 'a'.repeat(40);
  const keys = ['{cs:12025550123}', '{cs:12025550123}:h', '{cs:ünï}:l'];
  const texts = [
    '',
    '1',
    'awaiting_email',
    'José — 東京',
    'é'.repeat(100), // under the loop's limit, 200 bytes
    'ü'.repeat(300), // past it, 600 bytes
    'x'.repeat(511),
    'x'.repeat(512), // past the shared headers
    '😀'.repeat(40),
    // Around the ASCII loop's limit (64) and the header sizes (1, 2 and 3 digits).
    'x'.repeat(9),
    'x'.repeat(10),
    'x'.repeat(64),
    'x'.repeat(65),
    'x'.repeat(99),
    'x'.repeat(100),
    'x'.repeat(999),
    'x'.repeat(1000),
    'x'.repeat(9999),
    'x'.repeat(10_000),
    // Not ASCII after a run of ASCII: the loop stops part-way and the argument is written again.
    'abcdefghijé',
    `${'a'.repeat(63)}é`,
    'ascii then \u0000 and \u007f',
  ];

  it('writes text-only arguments byte for byte as the per-argument encoding', () => {
    const command = new EvalSha(sha, keys, texts);
    expect(written(command).equals(reference(sha, keys, texts))).toBe(true);
  });

  it('keeps every request intact while later ones are built, past the shared slab and beyond its size', () => {
    // Requests wait in a corked socket or the offline queue after they are built: building more
    // (here about 1 MB, many times the 64 KiB slab, and one request larger than a slab) must not
    // change their bytes.
    const built: Array<{ command: EvalSha; expected: Buffer; copy: Buffer }> = [];
    for (let i = 0; i < 400; i++) {
      const args = [String(i), 'é'.repeat(i % 70), 'x'.repeat((i * 37) % 3000), Buffer.alloc(i % 5, i)];
      if (i === 200) args.push('y'.repeat(100_000));
      const command = new EvalSha(sha, keys, args);
      built.push({ command, expected: reference(sha, keys, args), copy: Buffer.from(written(command)) });
    }
    for (const { command, expected, copy } of built) {
      expect(written(command).equals(expected)).toBe(true);
      expect(written(command).equals(copy)).toBe(true);
    }
  });

  it('writes binary arguments byte-exact, between and after text', () => {
    const args = [
      Buffer.from([0x93, 0x00, 0xff, 0xc3]),
      ...texts,
      Buffer.alloc(0),
      Buffer.from('é', 'latin1'),
      'tail',
    ];
    const command = new EvalSha(sha, keys, args);
    expect(written(command).equals(reference(sha, keys, args))).toBe(true);
  });
});
