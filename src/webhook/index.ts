export { DEFAULT_MAX_BODY_BYTES, type DecodeBodyOptions, decodeJsonBody } from './body.js';
export { parseCloudApiPayload } from './cloud-api.js';
export type * from './events.js';
export { isMessageEvent } from './events.js';
export { timingSafeEqual, verifyMetaSignature, verifySharedSecret } from './verify.js';
export { jidToUserId, parseWasenderPayload } from './wasender.js';
