/**
 * Vidget for the browser: the widget socket, and the wire contract (types, validators, error
 * codes) shared with the server.
 */
export * from './socket/index.js';
export { ErrorCode, CloseCode, VidgetError, validateQuery, parseInterval } from './protocol/index.js';
export type { Json, VidgetRecord, SearchQuery, SearchFilter, SearchGroup, FilterOperator } from './protocol/index.js';
