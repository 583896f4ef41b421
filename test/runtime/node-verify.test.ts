import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyMetaSignatureNode } from '../../src/server/node-verify.js';
import { verifyMetaSignature } from '../../src/webhook/verify.js';

describe('node:crypto signature check', () => {
  it('agrees with the Web Crypto check on good, wrong, truncated and malformed headers', async () => {
    const body = new TextEncoder().encode('{"a":"ol\\u00e1"}');
    const good = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;
    const cases = [
      good,
      good.toUpperCase().replace('SHA256=', 'sha256='),
      good.slice(0, -1),
      `${good}0`,
      'sha256=zz',
      // 64 characters of which one is not a hex digit: early, in the middle, last.
      `sha256=g${good.slice(8)}`,
      `${good.slice(0, 40)}g${good.slice(41)}`,
      `${good.slice(0, -1)}g`,
      `${good.slice(0, -1)} `,
      'sha1=abc',
      '',
      null,
    ];
    for (const header of cases) {
      expect(verifyMetaSignatureNode(body, header, 's3cret')).toBe(
        await verifyMetaSignature(body, header, 's3cret'),
      );
    }
    expect(verifyMetaSignatureNode(body, good, 's3cret')).toBe(true);
    expect(verifyMetaSignatureNode(body, good, 'other')).toBe(false);
  });
});
