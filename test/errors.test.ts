import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChatstateError, ERROR_CODES, isChatstateError } from '../src/errors.js';

describe('error codes', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

  it.each(Object.keys(ERROR_CODES))('%s is documented in docs/errors.md', (code) => {
    expect(doc).toContain(`| \`${code}\` |`);
  });

  it('messages name the component and keep the code', () => {
    const error = new ChatstateError('STORE_CLOSED', 'the store is closed: open a new one.', {
      component: 'sqlite',
    });
    expect(error.message).toBe('[chatstate] [sqlite] the store is closed: open a new one.');
    expect(isChatstateError(error, 'STORE_CLOSED')).toBe(true);
    expect(isChatstateError(error, 'STORE_TIMEOUT')).toBe(false);
    expect(isChatstateError(new Error('x'))).toBe(false);
  });
});
