// Outbound reply clients. Web-standard only (fetch, AbortController, performance): no `node:`
// imports anywhere under src/channels, so the same code runs on Node and on edge runtimes.
export * from './wasender/index.js';
export * from './whatsapp-cloud/index.js';
