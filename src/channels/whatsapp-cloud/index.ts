export { createCloudApiClient } from './client.js';
export { CloudApiError, type GraphError } from './errors.js';
export { LIMITS as CLOUD_API_LIMITS } from './limits.js';
export { DEFAULT_GRAPH_BASE_URL } from './settings.js';
export type * from './types.js';
export { validateMessage } from './validate.js';
