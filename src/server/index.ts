/** The Vidget server: `createServer(options)` and the stores it can use. */
export { createServer } from './create-server.js';
export type { ServerOptions, VidgetServer } from './create-server.js';
export { SqliteStore } from './store/sqlite-store.js';
export type { SqliteStoreOptions } from './store/sqlite-store.js';
export type { AppendResult, Expired, ReplayFrom, RoomInfo, RoomName, SearchResult, Store, StoredRecord, Usage } from './store/store.js';
export { createToken, verifyToken } from './tokens.js';
export type { TokenClaims } from './tokens.js';
