/**
 * The flow engine: bots as sets of flows of named nodes, run inside the runtime's transitions.
 * Web-standard (no `node:` imports), like the rest of the core.
 */
export { defineBot } from './bot.js';
export { FLOW_VARS } from './context.js';
export { defineFlow, FLOW_TTL_MS, type Flow } from './define.js';
export { FLOW_ERROR_CODES, FlowError, type FlowErrorCode, isFlowError } from './errors.js';
export type * from './types.js';
