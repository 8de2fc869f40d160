/**
 * Vidget for the browser. The wire contract is exported here so widget code and tools can use
 * the same types and validators as the server.
 */
export {
  ErrorCode,
  CloseCode,
  VidgetError,
  validateQuery,
  parseInterval,
} from './protocol/index.js';
export type { Json, VidgetRecord, SearchQuery, SearchFilter, SearchGroup, FilterOperator } from './protocol/index.js';
