import type { SearchGroup, ValidQuery, VidgetRecord } from '../../protocol/index.js';

/** A room's name in a store: `"<project>/<widgetId>"`. */
export type RoomName = string;

/** Where a room stands in its store when it is opened. */
export interface RoomInfo {
  /** Random id fixed when the room was first stored; a new one means the store was reset. */
  epoch: string;
  /** The highest record id stored in the room, 0 if none. */
  lastId: number;
}

/** A record to store, with the client message id it deduplicates on. */
export interface StoredRecord extends VidgetRecord {
  cid: string;
}

/** What `append` did with one record: stored it, or found the same `(client_id, cid)` already stored. */
export type AppendResult = { stored: true } | { stored: false; existing: VidgetRecord };

/** Which stored records a catch-up replays. */
export type ReplayFrom = { afterId: number } | { createdSince: number };

/** The answer to a search. */
export interface SearchResult {
  records: VidgetRecord[];
  total: number;
  groups?: SearchGroup[];
}

/**
 * Where persistent records live. The server calls it from one process; `append` must have
 * made the records durable when its promise resolves, because the server acks after it.
 */
export interface Store {
  /** Opens (creating if new) a room and reports its epoch and last id. */
  openRoom(room: RoomName): Promise<RoomInfo>;
  /** Stores records in one transaction, in order; duplicates of `(room, client_id, cid)` are not stored. */
  append(room: RoomName, records: StoredRecord[]): Promise<AppendResult[]>;
  /** The newest `limit` records after a position, oldest first; `truncated` if there were more. */
  replay(room: RoomName, from: ReplayFrom, limit: number): Promise<{ records: VidgetRecord[]; truncated: boolean }>;
  /** Runs a validated search over one room. */
  search(room: RoomName, query: ValidQuery): Promise<SearchResult>;
  /** Releases the store; pending work is finished first. */
  close(): Promise<void>;
}
