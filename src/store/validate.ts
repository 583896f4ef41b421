import { ChatstateError } from '../errors.js';

// wa_ids are digits; business-scoped user ids carry a country prefix and a dot. Braces are refused
// because Redis Cluster reads `{...}` as a hash tag, and whitespace or control bytes never belong in a key.
const ID_PATTERN = /^[A-Za-z0-9._:+@-]{1,128}$/;

export function validateId(id: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ChatstateError(
      'INVALID_ARGUMENT',
      `invalid user id ${JSON.stringify(String(id).slice(0, 40))}: use the wa_id (digits) or the business-scoped user id (1-128 chars of A-Z a-z 0-9 . _ : + @ -).`,
      { component: 'store' },
    );
  }
}
