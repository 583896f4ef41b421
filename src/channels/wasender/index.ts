export { createWasenderClient, DEFAULT_WASENDER_BASE_URL } from './client.js';
export { WasenderApiError } from './errors.js';
export type * from './types.js';
