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

const written = (command: EvalSha) => {
  const out = command.toWritable();
  return typeof out === 'string' ? Buffer.from(out, 'utf8') : out;
};

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
  ];

  it('writes text-only arguments as one string equal to the per-argument encoding', () => {
    const command = new EvalSha(sha, keys, texts);
    expect(typeof command.toWritable()).toBe('string');
    expect(written(command).equals(reference(sha, keys, texts))).toBe(true);
  });

  it('writes binary arguments byte-exact, between and after text, as one Buffer', () => {
    const args = [
      Buffer.from([0x93, 0x00, 0xff, 0xc3]),
      ...texts,
      Buffer.alloc(0),
      Buffer.from('é', 'latin1'),
      'tail',
    ];
    const command = new EvalSha(sha, keys, args);
    expect(Buffer.isBuffer(command.toWritable())).toBe(true);
    expect(written(command).equals(reference(sha, keys, args))).toBe(true);
  });
});
