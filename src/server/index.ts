/** The Vidget server: `createServer(options)` and the stores it can use. */
export { createServer } from './create-server.js';
export type { ServerOptions, VidgetServer } from './create-server.js';
export { SqliteStore } from './store/sqlite-store.js';
export type { SqliteStoreOptions } from './store/sqlite-store.js';
export { PostgresStore } from './store/postgres-store.js';
export type { PostgresStoreOptions } from './store/postgres-store.js';
export type { Bus, PresenceStore } from './bus/bus.js';
export { RedisBus } from './bus/redis-bus.js';
export type { RedisBusOptions } from './bus/redis-bus.js';
export { RedisPresence } from './bus/redis-presence.js';
export type { RedisPresenceOptions } from './bus/redis-presence.js';
export type {
  AppendResult,
  Expired,
  Removed,
  ReplayFrom,
  ReplayLimit,
  ReplayedRecord,
  RoomInfo,
  RoomLimits,
  RoomName,
  SearchResult,
  SharedStore,
  SingleWriterStore,
  Store,
  StoredRecord,
  Usage,
} from './store/store.js';
export { createToken } from './trust/create-token.js';
export type { TokenRequest } from './trust/create-token.js';
export { signRoom } from './trust/signed-rooms.js';
export { loadProjects, parseProjects } from './trust/project-config.js';
export type { ProjectConfig, ProjectResolver } from './trust/project-config.js';
export type { Action, RoomPermissions } from './trust/permissions.js';
export type { AutoIndexOptions } from './store/auto-index-policy.js';
export type { AnalyticsOptions } from './platform/analytics-hub.js';
export type { ViewerCaps } from './platform/project-analytics.js';
export type { WatchOptions } from './watch/watch-server.js';
